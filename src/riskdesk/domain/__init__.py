"""Value types that cross riskdesk's boundaries: money, prices and quantities as Decimal."""

from __future__ import annotations

from riskdesk.domain._account import (
    MIN_EQUITY,
    AccountFigures,
    AccountState,
    Position,
    Regime,
    Side,
    Signal,
)
from riskdesk.domain._decision import (
    Action,
    Adjustment,
    Decision,
    ExecutionMethod,
    Intent,
    ReasonCode,
    TradingState,
)
from riskdesk.domain._market import BookLevel, MarketRules, MarketSnapshot, RulesFloats
from riskdesk.domain._numbers import (
    MAX_MAGNITUDE,
    Rounding,
    is_decimal_text,
    quantize_to_step,
    to_decimal,
)

__all__ = [
    "MAX_MAGNITUDE",
    "MIN_EQUITY",
    "AccountFigures",
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
    "RulesFloats",
    "Side",
    "Signal",
    "TradingState",
    "is_decimal_text",
    "quantize_to_step",
    "to_decimal",
]
