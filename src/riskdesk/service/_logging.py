"""JSON structured logs: one object per line on stderr."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

#: Attributes every LogRecord has; anything else passed through ``extra=`` is emitted.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {
    "message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message and extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a JSON line."""
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        try:
            return orjson.dumps(out, default=str).decode()
        except TypeError:  # an integer beyond 64 bits, a non-string key: the slow encoder
            return json.dumps(out, default=str, separators=(",", ":"))


def configure_logging(level: str = "INFO") -> None:
    """Send the ``riskdesk`` and ``uvicorn`` loggers to stderr as JSON lines.

    Idempotent: calling it twice does not duplicate handlers.

    Parameters
    ----------
    level
        Logging level name for the ``riskdesk`` logger.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.set_name("riskdesk-json")
    for name in ("riskdesk", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(h.get_name() == "riskdesk-json" for h in logger.handlers):
            logger.handlers = [h for h in logger.handlers if h.get_name() != "riskdesk-json"]
            logger.addHandler(handler)
        logger.propagate = False
    logging.getLogger("riskdesk").setLevel(level.upper())
    # Requests are logged by the service's own middleware, with more fields.
    logging.getLogger("uvicorn.access").disabled = True
