"""What the dashboard tests get from their fixture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from riskdesk.service import Service

#: The service's clock in the dashboard tests: it does not move.
START = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


@dataclass
class Live:
    base_url: str
    service: Service
    read_key: str
    trade_key: str
