"""Response bodies of the HTTP API.

Money, prices and quantities are decimal strings (no digit lost); fields ending in ``_pct``
are percents (``16.0`` is 16 %); ratios and multipliers are JSON numbers. Objects that carry
policy detail allow extra keys, so the desk can explain more without breaking clients.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _OpenOut(BaseModel):
    model_config = ConfigDict(extra="allow")


class FieldErrorOut(_Out):
    """One invalid field."""

    loc: list[str | int]
    field: str = Field(description="Dotted path of the field, e.g. ``body.market.price``.")
    msg: str
    type: str


class ErrorOut(_Out):
    """An error: a sentence, or a list of invalid fields (422)."""

    detail: str | list[FieldErrorOut]


class ReservedSymbolOut(_Out):
    """Budget held by one symbol's pending orders."""

    symbol: str
    count: int = Field(description="Reservations of the symbol holding budget.")
    notional: str


class ReservedOut(_Out):
    """Budget held by pending orders: approved openers not yet filled, released or expired.

    Part of the account's open risk: a new opener must fit beside it. Counts the reservations
    a decision on the same account state would find held: active ones not expired, and
    confirmed ones whose fill the account state does not show yet.
    """

    count: int = Field(description="Reservations holding budget.")
    notional: str = Field(description="Notional they hold.")
    margin: str = Field(description="Margin they hold.")
    by_symbol: list[ReservedSymbolOut] = Field(description="Per symbol, largest notional "
                                                           "first.")


class CapitalStateOut(_OpenOut):
    """``GET /api/capital/state`` (seed 001's capital state, with the reserved budget)."""

    total_wallet_balance: str
    equity: str
    available_balance: str
    margin_used: str
    margin_used_pct: float
    unrealized_pnl: str
    buying_power: str
    capital_status: str
    high_water_mark: str
    drawdown_pct: float
    open_positions: int
    as_of: str | None
    reserved: ReservedOut


class CapitalPointOut(_OpenOut):
    """One capital snapshot."""

    at: str
    equity: str


class CapitalHistoryOut(_Out):
    """``GET /api/capital/history``."""

    hours: float
    points: list[CapitalPointOut]


class LeverageOut(_OpenOut):
    """``GET /api/capital/leverage/optimal/{symbol}``."""

    symbol: str
    optimal_leverage: float


class MarginStatusOut(_OpenOut):
    """``GET /api/capital/margin/status``: the four-zone margin monitor."""

    zone: str
    margin_used_pct: float


class DrawdownStatusOut(_OpenOut):
    """``GET /api/capital/drawdown/status``."""

    state: str
    drawdown_pct: float
    size_multiplier: float
    breaker_tripped: bool
    breaker_until: str | None
    trading_state: str


class ExposureRowOut(_OpenOut):
    """Exposure of one symbol or one capital tier."""

    notional: str
    pct_of_equity: float


class ExposureOut(_Out):
    """Exposure by symbol and by capital tier."""

    by_symbol: list[ExposureRowOut]
    by_tier: list[ExposureRowOut]


class ScalingStrategyOut(_Out):
    """``GET /api/capital/strategy/scaling``: seed 001's account-size profile, seed 004's phase.

    Unlike the rest of the API, the ``*_risk_pct`` fields here are fractions (``0.02`` is 2 %),
    as the configuration's ``account_tiers`` spell them.
    """

    tier: str | None = Field(description="Account tier (``small``, ``medium``, ``large``), "
                                         "or null below every tier.")
    max_positions: int | None = Field(description="The tier's maximum open positions.")
    min_leverage: float | None
    max_leverage: float | None
    min_risk_pct: float | None = Field(description="The tier's lowest risk per trade, "
                                                   "a fraction of equity.")
    max_risk_pct: float | None = Field(description="The tier's highest risk per trade, "
                                                   "a fraction of equity.")
    risk_pct: float | None = Field(description="The risk per trade used, a fraction of equity.")
    risk_per_trade: float | None = Field(description="``equity x risk_pct``, in the account's "
                                                     "currency.")
    symbols: list[str] = Field(description="Symbols the tier trades; empty: any.")
    phase: int | None = Field(description="Seed 004's account phase; null when phases are "
                                          "disabled.")
    phase_max_positions: int | None = Field(description="Seed 004's position limit.")
    max_trades_per_day: int | None = Field(description="Seed 004's trades per day.")


class RebalanceOut(_Out):
    """Seed 001's rebalancing schedule of the capital tiers."""

    due: bool = Field(description="The cadence's period has passed since the last rebalance, "
                                  "or no rebalance was ever recorded.")
    cadence: Literal["daily", "weekly"] = Field(
        description="``daily`` when a tier's committed share deviates from its target by "
                    "more than the threshold, ``weekly`` otherwise.")
    threshold_pct: float = Field(description="The deviation threshold, in percent of the "
                                             "target.")
    last_rebalance: str | None = Field(
        description="ISO 8601 time of the last rebalance: the latest plan "
                    "(``POST /api/orders/plan``) that sent an order; null when none did.")
    next_due: str = Field(description="ISO 8601: the last rebalance plus the cadence's period; "
                                      "now when no rebalance was recorded.")
    deviations_pct: dict[str, float | None] = Field(
        description="``|share - target| / target`` in percent per non-reserve tier; null "
                    "when not finite (a zero target with capital committed).")


class TierAllocationOut(_Out):
    """One capital tier: its budget, the capital it commits and what is left."""

    tier: str
    target_pct: float = Field(description="Target share of equity, in percent.")
    budget: str = Field(description="``equity x target``.")
    used: str = Field(description="Capital committed: margin (notional / leverage).")
    used_pct: float
    deployed: str = Field(description="Notional of the tier's positions.")
    deployed_pct: float
    remaining: str = Field(description="What a new position may still commit.")
    leverage_range: tuple[float, float] = Field(description="Minimum and maximum leverage.")
    symbols: list[str]
    reserve: bool = Field(description="The reserve is never allocated.")
    deviation_pct: float | None = Field(
        description="``|used share - target| / target`` in percent; null for the reserve.")


class MultiTierOut(_Out):
    """``GET /api/capital/allocation/multi-tier``: capital tiers and their rebalancing."""

    enabled: bool = Field(description="Whether the desk enforces the tiers' budgets.")
    equity: str
    available: str = Field(description="The account's free balance.")
    default_tier: str = Field(description="The tier of symbols no tier lists.")
    rebalance_deviation_pct: float = Field(description="The rebalancing threshold, in percent "
                                                       "of the target.")
    rebalance: RebalanceOut
    tiers: list[TierAllocationOut]


class AnalysisOut(_Out):
    """``GET /api/capital/analysis/complete``: every view in one call."""

    config_name: str
    trading_state: str
    capital_state: CapitalStateOut
    margin_status: MarginStatusOut
    scaling_strategy: ScalingStrategyOut
    drawdown_status: DrawdownStatusOut
    multi_tier_allocation: MultiTierOut
    exposure: ExposureOut
    capital_history: list[CapitalPointOut]


class KellyOut(_OpenOut):
    """``POST /api/capital/position-size/kelly``."""

    kelly_pct: float
    half_kelly_pct: float
    adjusted_pct: float
    position_size_usd: str
    adjustments: list[dict[str, Any]]


class RiskParityOut(_OpenOut):
    """``POST /api/capital/allocation/risk-parity``."""

    method: str
    weights: dict[str, float]
    allocation_pct: dict[str, float]
    allocation_usd: dict[str, str]
    converged: bool


class AdjustmentOut(_Out):
    """One step of a decision's trail."""

    step: str
    code: str
    before: float
    after: float
    note: str


class RecommendationOut(_Out):
    """``POST /api/capital/recommendation/position`` (seed 001's recommendation)."""

    recommendation: str = Field(description="ENTER, REJECT, CAUTION, HOLD or "
                                            "ENTER_AND_CLOSE_WORST.")
    symbol: str
    side: str
    intent: str
    optimal_leverage: str
    quantity: str
    price: str
    position_size_usd: str
    margin_required: str
    risk_pct: float
    execution_method: str
    binding_cap: str | None
    reason: str
    reasons: list[str]
    close_symbols: list[str]
    adjustments: list[AdjustmentOut]
    decided_at: str | None
    decision_id: int
    reservation_id: str | None
    reservation_expires_at: str | None


class PlanOut(_Out):
    """``POST /api/orders/plan``: reducers first, then openers."""

    lines: list[dict[str, Any]] = Field(description="Plan lines in execution order.")
    summary: dict[str, Any] = Field(description="Available capital before and after, and "
                                                "the margin the reducers free.")
    decisions: list[RecommendationOut] = Field(description="Each line's decision, journaled.")


class ReservationOut(_OpenOut):
    """A reservation after confirm or release."""

    reservation_id: str
    status: str
    symbol: str
    notional: str
    margin: str


class JournalEntryOut(_OpenOut):
    """One journaled decision."""

    id: int
    decided_at: str
    symbol: str
    side: str
    action: str
    quantity: str
    notional: str
    leverage: str
    binding_cap: str | None
    reasons: list[str]
    trail: list[AdjustmentOut]


class JournalOut(_Out):
    """``GET /api/journal``."""

    entries: list[JournalEntryOut]


class ReconcileOut(_OpenOut):
    """``POST /api/reconcile``: the report."""


class TradingStateOut(_OpenOut):
    """``POST /api/admin/trading-state``."""

    trading_state: str
    operator: str
    note: str


class HealthOut(_Out):
    """``GET /healthz``."""

    status: str
    database: str
    broker: str
    version: str
