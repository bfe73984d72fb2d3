"""The ``riskdesk`` command line.

Exit codes: 0 success; 1 the desk said no (REJECT / HOLD) where a command reports a decision;
2 bad input or bad configuration; 3 state unavailable (database, broker); 4 internal error.
"""

from __future__ import annotations

from riskdesk.cli import _config  # noqa: F401  (registers the ``config`` commands)
from riskdesk.cli._app import app

__all__ = ["app"]
