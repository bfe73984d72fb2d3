"""The ``riskdesk`` command line.

Exit codes: 0 success; 1 the desk said no (REJECT / HOLD) where a command reports a decision;
2 bad input or bad configuration; 3 state unavailable (database, broker); 4 internal error;
141 stdout's reader went away (``riskdesk ... | head -1``).
"""

from __future__ import annotations

# Each module registers its commands on ``app`` when imported.
from riskdesk.cli import (  # noqa: F401
    _config,
    _exits,
    _journal,
    _keys,
    _plan,
    _recommend,
    _serve,
    _state,
)
from riskdesk.cli._app import app

__all__ = ["app"]
