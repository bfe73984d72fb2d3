"""The desk: the pipeline that turns (signal, account, market) into an explained Decision.

:class:`Desk` is the one call a bot makes before every order; :class:`DeskState` is what it
remembers between calls (the caller persists it). :meth:`Desk.recommend_batch` takes a
:class:`BatchInput` and returns :class:`BatchDecisions`. ``docs/desk.md`` describes the
pipeline.
"""

from __future__ import annotations

from riskdesk.desk._batch_input import REGIMES, BatchInput
from riskdesk.desk._batch_result import ACTIONS, CODES, BatchDecisions
from riskdesk.desk._desk import Clock, Desk
from riskdesk.desk._state import DeskState

__all__ = ["ACTIONS", "CODES", "REGIMES", "BatchDecisions", "BatchInput", "Clock", "Desk",
           "DeskState"]
