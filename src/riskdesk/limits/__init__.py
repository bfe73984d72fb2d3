"""Limits: every rule that caps or denies an order, and the status of each.

Trading state, margin zones, drawdown and the breaker, account profile and phases, caps,
pre-trade gates, opportunity cost, CVaR, and the capital tiers' margin room (the tiers
themselves are :mod:`riskdesk.allocation`'s).

Pure functions and small frozen value types; no I/O, time passed in. The desk
(:class:`riskdesk.Desk`) composes them in a fixed order; the service calls the status
functions directly. ``docs/desk.md`` describes each limit and ``docs/reason-codes.md`` every
reason code. A few functions have a hot-path twin that gives the same answer as plain values
(:func:`opener_cap_limits` for :func:`opener_caps`, :func:`opportunity_parts` for
:func:`opportunity_cost`).
"""

from __future__ import annotations

from riskdesk.limits._capital_status import (
    CapitalState,
    CapitalStatusLevel,
    capital_state,
    capital_status,
)
from riskdesk.limits._caps import EXHAUSTED, OPENER_CAPS, opener_cap_limits, opener_caps
from riskdesk.limits._cvar import historical_cvar
from riskdesk.limits._drawdown import (
    BreakerState,
    DrawdownLevel,
    DrawdownStatus,
    drawdown_level,
    drawdown_status,
    level_multiplier,
)
from riskdesk.limits._exposure import Exposure, exposure
from riskdesk.limits._gates import (
    Denial,
    concentration_gate,
    cvar_gate,
    max_positions_gate,
    price_band_gate,
    restricted_symbol_gate,
    score_validity_gate,
    signal_threshold_gate,
    spread_gate,
    trades_per_day_gate,
)
from riskdesk.limits._margin import (
    MarginAction,
    MarginStatus,
    MarginZone,
    margin_status,
    margin_zone,
    worst_first,
)
from riskdesk.limits._opportunity import (
    OpportunityAction,
    OpportunityAdvice,
    opportunity_cost,
    opportunity_parts,
    worst_scored,
)
from riskdesk.limits._params import LimitParams
from riskdesk.limits._profile import (
    ScalingStrategy,
    account_phase,
    max_trades_per_day,
    max_trades_per_day_array,
    phase_position_limit,
    phase_position_limits,
    scaling_strategy,
    strategy_config,
    strategy_position_limit,
    vix_position_multiplier,
    vix_position_multipliers,
)
from riskdesk.limits._tiers import tier_margin_rooms
from riskdesk.limits._trading_state import admits, effective_trading_state, severity

__all__ = [
    "EXHAUSTED",
    "OPENER_CAPS",
    "BreakerState",
    "CapitalState",
    "CapitalStatusLevel",
    "Denial",
    "DrawdownLevel",
    "DrawdownStatus",
    "Exposure",
    "LimitParams",
    "MarginAction",
    "MarginStatus",
    "MarginZone",
    "OpportunityAction",
    "OpportunityAdvice",
    "ScalingStrategy",
    "account_phase",
    "admits",
    "capital_state",
    "capital_status",
    "concentration_gate",
    "cvar_gate",
    "drawdown_level",
    "drawdown_status",
    "effective_trading_state",
    "exposure",
    "historical_cvar",
    "level_multiplier",
    "margin_status",
    "margin_zone",
    "max_positions_gate",
    "max_trades_per_day",
    "max_trades_per_day_array",
    "opener_cap_limits",
    "opener_caps",
    "opportunity_cost",
    "opportunity_parts",
    "phase_position_limit",
    "phase_position_limits",
    "price_band_gate",
    "restricted_symbol_gate",
    "scaling_strategy",
    "score_validity_gate",
    "severity",
    "signal_threshold_gate",
    "spread_gate",
    "strategy_config",
    "strategy_position_limit",
    "tier_margin_rooms",
    "trades_per_day_gate",
    "vix_position_multiplier",
    "vix_position_multipliers",
    "worst_first",
    "worst_scored",
]
