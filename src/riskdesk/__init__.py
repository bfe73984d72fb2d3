"""riskdesk: the risk desk a trading bot calls before every order.

The public surface: configuration (:class:`RiskConfig`), the value types that cross the
boundary (:class:`Signal`, :class:`AccountState`, :class:`Position`,
:class:`MarketSnapshot`, :class:`MarketRules`, :class:`Decision`), the desk that decides
(:class:`Desk`, its persisted :class:`DeskState`) and the errors.
"""

from __future__ import annotations

from riskdesk.config import RiskConfig
from riskdesk.desk import Desk, DeskState
from riskdesk.domain import (
    AccountState,
    Action,
    Adjustment,
    BookLevel,
    Decision,
    ExecutionMethod,
    Intent,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    Regime,
    Rounding,
    Side,
    Signal,
    TradingState,
)

__version__ = "0.1.0"

__all__ = [
    "AccountState",
    "Action",
    "Adjustment",
    "BookLevel",
    "Decision",
    "Desk",
    "DeskState",
    "ExecutionMethod",
    "Intent",
    "MarketRules",
    "MarketSnapshot",
    "Position",
    "ReasonCode",
    "Regime",
    "RiskConfig",
    "Rounding",
    "Side",
    "Signal",
    "TradingState",
    "__version__",
]
