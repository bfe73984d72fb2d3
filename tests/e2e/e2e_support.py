"""What the dashboard tests get from their fixture."""

from __future__ import annotations

from dataclasses import dataclass

from riskdesk.service import Service


@dataclass
class Live:
    base_url: str
    service: Service
    read_key: str
    trade_key: str
