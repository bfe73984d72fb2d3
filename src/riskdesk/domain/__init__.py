"""Value types that cross riskdesk's boundaries: money, prices and quantities as Decimal."""

from __future__ import annotations

from riskdesk.domain._account import AccountState, Position, Regime, Side, Signal
from riskdesk.domain._decision import (
    Action,
    Adjustment,
    Decision,
    ExecutionMethod,
    Intent,
    ReasonCode,
    TradingState,
)
from riskdesk.domain._market import BookLevel, MarketRules, MarketSnapshot
from riskdesk.domain._numbers import MAX_MAGNITUDE, Rounding, quantize_to_step, to_decimal

__all__ = [
    "MAX_MAGNITUDE",
    "AccountState",
    "Action",
    "Adjustment",
    "BookLevel",
    "Decision",
    "ExecutionMethod",
    "Intent",
    "MarketRules",
    "MarketSnapshot",
    "Position",
    "ReasonCode",
    "Regime",
    "Rounding",
    "Side",
    "Signal",
    "TradingState",
    "quantize_to_step",
    "to_decimal",
]
