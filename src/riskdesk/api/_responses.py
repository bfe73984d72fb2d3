"""Response bodies of the HTTP API.

Money, prices and quantities are decimal strings (no digit lost); fields ending in ``_pct``
are percents (``16.0`` is 16 %); ratios and multipliers are JSON numbers. Objects that carry
policy detail allow extra keys, so the desk can explain more without breaking clients.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _number_as_text(value: Any) -> Any:
    # Plan answers stored for an Idempotency-Key by earlier versions hold JSON numbers here:
    # a replay answers them as decimal strings instead of failing.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return value


#: A decimal string in an answer (money, a price or a quantity).
DecimalText = Annotated[str, BeforeValidator(_number_as_text)]


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
    risk_per_trade: str | None = Field(description="``equity x risk_pct``, in the account's "
                                                   "currency (a decimal string); null below "
                                                   "every tier.")
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
    stop_price: DecimalText | None = Field(
        default=None,
        description="The protective stop the size assumes: the stop stop_risk sizing measured "
                    "the risk from (the signal's stop_price, or the ATR stop the desk derived, "
                    "not yet on the tick grid), or the signal's own stop_price; null when "
                    "there is none (a reducer, an order the desk denied). Send it as "
                    "stop_price to POST /api/exits/plan so the bracket risks what was approved.")
    decision_id: int
    reservation_id: str | None
    reservation_expires_at: str | None


class PlanDecisionOut(_Out):
    """The desk's decision of one plan line, as it was made, before any budget was held.

    ``decisions[]`` holds the same decision as journaled, with its journal id and reservation:
    an opener whose reservation was refused (concurrent holds took its budget) is a REJECT
    there, with quantity, notional and margin zero, while its line shows the decision made.
    """

    action: str = Field(description="ENTER, REJECT, CAUTION, HOLD or ENTER_AND_CLOSE_WORST.")
    symbol: str
    side: str = Field(description="The order's side: LONG buys, SHORT sells.")
    intent: str = Field(description="OPEN adds risk, REDUCE cuts or closes a position.")
    quantity: DecimalText = Field(description="Executable quantity after quantization; zero "
                                              "unless an order goes out.")
    price: DecimalText = Field(description="Reference price the decision used.")
    notional: DecimalText = Field(description="``quantity x price x contract size``.")
    leverage: DecimalText
    margin_required: DecimalText = Field(description="``notional / leverage`` for an opener; "
                                                     "zero for a reducer.")
    execution_method: str = Field(description="LIMIT, MARKET, TWAP or ICEBERG.")
    binding_cap: str | None = Field(description="The cap that set the size; null when none "
                                                "bound.")
    risk_pct: float = Field(description="Notional in percent of equity, as "
                                        "``decisions[].risk_pct``.")
    reasons: list[str] = Field(description="Reason codes of a REJECT, CAUTION or HOLD.")
    close_symbols: list[str] = Field(description="For ENTER_AND_CLOSE_WORST, the positions "
                                                 "to close first.")
    decided_at: str | None = Field(description="ISO 8601 time of the decision.")
    stop_price: DecimalText | None = Field(
        default=None, description="The protective stop the size assumes, as "
                                  "``decisions[].stop_price``; null when there is none.")
    trail: list[AdjustmentOut] = Field(description="Every adjustment, cap and gate in "
                                                   "pipeline order (``decisions[].adjustments``).")


class PlanLineOut(_Out):
    """One order of a plan."""

    phase: Literal["A", "B"] = Field(description="``A``: a reducer, run first; ``B``: an "
                                                 "opener, sized on what phase A frees.")
    symbol: str = Field(description="The target's symbol.")
    target_weight: float = Field(description="The requested target position, a signed "
                                             "fraction of equity.")
    intended_val: DecimalText = Field(description="``|target_weight| x equity x "
                                          "capital_utilization_factor``, the position's "
                                          "intended value in the account's currency.")
    current_qty: DecimalText = Field(description="Signed quantity held before the plan "
                                                 "(negative: short).")
    log: str = Field(description="Seed 000's log line, ``SizeDecision: AAPL qty=-22 (TARGET), "
                                 "notional=..., ...``; a line that sends no order says why.")
    decision: PlanDecisionOut = Field(description="The desk's decision for this order.")


class PlanSummaryOut(_Out):
    """The account's free balance across a plan."""

    available_before: DecimalText = Field(description="Free balance before the plan.")
    freed_margin: DecimalText = Field(description="Margin the approved reducers free.")
    available_after: DecimalText = Field(description="Free balance once every approved line has "
                                             "filled: before, plus the freed margin, less "
                                             "the openers' margin (never below zero).")


class PlanOut(_Out):
    """``POST /api/orders/plan``: reducers first, then openers."""

    lines: list[PlanLineOut] = Field(description="Plan lines in execution order.")
    summary: PlanSummaryOut = Field(description="Available capital before and after, and "
                                                "the margin the reducers free.")
    decisions: list[RecommendationOut] = Field(description="Each line's decision, journaled, "
                                                           "in the lines' order.")


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
    next_before: int | None = Field(description="When the page is full, the last entry's id: "
                                                "send it as ``before`` for the older entries; "
                                                "null when no older entry matches.")


class ReconcileOut(_OpenOut):
    """``POST /api/reconcile``: the report."""


class TradingStateOut(_OpenOut):
    """``POST /api/admin/trading-state``."""

    trading_state: str
    operator: str
    note: str


class OperatorChangeOut(_Out):
    """One operator action: a trading-state change or a breaker reset."""

    at: str = Field(description="ISO 8601 time of the action.")
    operator: str = Field(description="The API key name (or CLI operator) that acted.")
    trading_state: str | None = Field(description="The trading state it set.")
    note: str | None = Field(description="The operator's note.")


class OperatorStateOut(_Out):
    """``GET /api/admin/trading-state``."""

    operator_state: str = Field(description="ACTIVE, REDUCING or HALTED as an operator set it.")
    trading_state: str | None = Field(description="The effective state (the operator's, the "
                                                  "breaker's and margin RED's, the most severe "
                                                  "wins); null when the account cannot be read.")
    reasons: list[str] | None = Field(description="Reason codes of the effective state "
                                                  "(``TRADING_HALTED`` then its causes); null "
                                                  "when the account cannot be read.")
    account_error: str | None = Field(description="Why the account could not be read, or "
                                                  "null.")
    breaker: dict[str, Any] = Field(description="The drawdown circuit breaker: ``tripped``, "
                                                "``tripped_at``, ``until``, ``reason``, "
                                                "``reset_by``, ``reset_at``, ``reset_note``.")
    changes: list[OperatorChangeOut] = Field(description="The latest operator actions, "
                                                         "newest first.")


class HealthOut(_Out):
    """``GET /healthz``."""

    status: str
    database: str
    broker: str
    version: str
