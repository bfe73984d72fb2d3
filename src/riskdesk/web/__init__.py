"""The dashboard: static files served by the service at ``/`` (no build step)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def static_dir() -> Path:
    """The directory holding ``index.html``, ``app.js`` and ``style.css``."""
    return Path(str(resources.files("riskdesk.web") / "static"))


__all__ = ["static_dir"]
