"""The service layer: the one place that does I/O around the desk.

:class:`Service` holds the store, the broker, the desk and the configuration; the HTTP API,
the CLI and the dashboard all go through it.
"""

from __future__ import annotations

from riskdesk.service._decisions import MarketInput, body_hash
from riskdesk.service._logging import JsonFormatter, configure_logging
from riskdesk.service._metrics import CONTENT_TYPE, AccountGauges, Metrics
from riskdesk.service._service import Service, utc_now
from riskdesk.service._settings import Settings

__all__ = [
    "CONTENT_TYPE",
    "AccountGauges",
    "JsonFormatter",
    "MarketInput",
    "Metrics",
    "Service",
    "Settings",
    "body_hash",
    "configure_logging",
    "utc_now",
]
