"""The sections of the one risk configuration tree.

Fractions are written as fractions (0.15 = 15%), money in the account's quote currency, times
in seconds or hours as the name says. Every number is finite and range-checked.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFraction = Annotated[float, Field(gt=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Multiplier = Annotated[float, Field(ge=0.0, le=10.0)]
Count = Annotated[int, Field(ge=0)]
# A per-symbol cap on notional as a multiple of equity: a fraction for a cash account (seed
# 000's 15%), above 1 where leverage lets one symbol's notional exceed equity (seed 002's
# Kelly fraction of equity as margin at 25x).
PerSymbolCap = Annotated[float, Field(gt=0.0, le=50.0)]

# Seed 001's margin-use ladder, as fractions of margin used: the margin zones (YELLOW, ORANGE,
# RED) and the capital status (WARNING, CRITICAL, EMERGENCY) step up at the same bounds.
_MARGIN_PAUSE = 0.50
_MARGIN_REDUCE = 0.75
_MARGIN_EMERGENCY = 0.90


class Section(BaseModel):
    """Base of every section: frozen, strict about keys, finite numbers only."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False,
                              validate_default=True)


class PositionSizing(Section):
    """How the base size is computed (seed 000's ``position_sizing`` plus the method choice).

    ``method`` picks the base-size model: ``fixed_fraction`` (``risk_per_trade`` of equity),
    ``conviction`` (seed 003's score tiers), ``capital_scaling`` (seed 000's
    ``|weight| x equity x capital_utilization_factor``), ``kelly`` (seed 001/002),
    ``stop_risk`` (risk amount over stop distance) or ``volatility_target``.

    ``risk_parity_max_multiplier`` caps the desk's ``RISK_PARITY`` adjustment (target weight x
    number of weighted symbols, when the caller passes allocation weights): at 1.0 an
    allocation can only shrink an order, above it an overweight symbol may grow up to that
    factor.
    """

    method: Literal["fixed_fraction", "conviction", "capital_scaling", "kelly", "stop_risk",
                    "volatility_target", "account_profile"] = "fixed_fraction"
    risk_per_trade: PositiveFraction = 0.01
    capital_utilization_factor: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    order_notional_cap: Positive = 15000.0
    max_position_size: PerSymbolCap = 0.15
    max_total_exposure: Annotated[float, Field(gt=0.0, le=50.0)] = 0.8
    min_trade_size: NonNegative = 25.0
    max_trade_size: Positive = 25000.0
    signal_threshold: Fraction = 0.0
    volatility_adjustment: bool = False
    portfolio_heat: Fraction = 0.02
    min_shares: NonNegative = 0.0
    atr_stop_multiple: Positive = 2.0
    target_volatility: PositiveFraction = 0.01
    risk_parity_max_multiplier: Annotated[float, Field(ge=1.0, le=10.0)] = 1.0

    @model_validator(mode="after")
    def _trade_size_order(self) -> PositionSizing:
        if self.min_trade_size > self.max_trade_size:
            raise ValueError("min_trade_size must be <= max_trade_size")
        return self


class RiskManagement(Section):
    """Order-level caps and gates (seed 000's ``risk_management``, seeds 002 and 003 gates)."""

    max_pos_pct: PerSymbolCap = 0.15
    max_order_notional: Positive = 15000.0
    max_notional_opener: Positive = 15000.0
    max_notional_reducer: Positive = 15000.0
    min_notional_opener: NonNegative = 10.0
    min_notional_reducer: NonNegative = 10.0
    allow_dust_close: bool = True
    max_gross_exposure: Annotated[float, Field(gt=0.0, le=50.0)] = 1.0
    max_concurrent_positions: Annotated[int, Field(ge=1)] = 999
    price_band_pct: PositiveFraction = 0.02
    buying_power_safety: PositiveFraction = 0.95
    min_position_dollar: NonNegative = 0.0
    max_position_dollar: Positive | None = None
    concentration_max_net_long_pct: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    max_spread_bps: Positive | None = None
    max_data_age_seconds: Positive = 60.0
    max_state_age_seconds: Positive = 60.0
    cvar_alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.95
    cvar_limit_pct: PositiveFraction | None = None
    restricted_symbols: tuple[str, ...] = ()
    entry_score_min: float | None = None

    @model_validator(mode="after")
    def _notional_order(self) -> RiskManagement:
        if self.min_notional_opener > self.max_notional_opener:
            raise ValueError("min_notional_opener must be <= max_notional_opener")
        if self.min_notional_reducer > self.max_notional_reducer:
            raise ValueError("min_notional_reducer must be <= max_notional_reducer")
        return self


class Stabilizer(Section):
    """Seed 002's SizingStabilizer: hysteresis band, buckets, minimum time between resizes."""

    enabled: bool = False
    hysteresis: Fraction = 0.1
    buckets: tuple[Annotated[float, Field(ge=0.0, le=1.0)], ...] = ()
    min_interval_seconds: NonNegative = 0.0


class Kelly(Section):
    """Kelly sizing (seed 002 ``kelly_binary``/``kelly_mu_sigma``; seed 001 adjustments)."""

    risk_aversion: Annotated[float, Field(gt=0.0, le=100.0)] = 1.0
    clip_min: Fraction = 0.0
    clip_max: Fraction = 0.2
    fraction: PositiveFraction = 0.5
    min_trades: Count = 30
    prior_win_rate: Fraction = 0.5
    prior_win_loss_ratio: Positive = 1.0
    prior_weight: NonNegative = 20.0
    small_account_multiplier: Multiplier = 1.0
    large_account_multiplier: Multiplier = 1.0
    regime_multipliers: dict[str, Multiplier] = Field(default_factory=dict)
    heat_high: Annotated[float, Field(ge=0.0, le=100.0)] = 70.0
    heat_high_multiplier: Multiplier = 1.0
    heat_low: Annotated[float, Field(ge=0.0, le=100.0)] = 30.0
    heat_low_multiplier: Multiplier = 1.0
    heat_mode: Literal["linear", "step"] = "linear"
    dd_haircut_start: Fraction = 0.05
    dd_haircut_full: Fraction = 0.20
    dd_haircut_floor: Fraction = 0.25
    stabilizer: Stabilizer = Field(default_factory=Stabilizer)

    @model_validator(mode="after")
    def _ordering(self) -> Kelly:
        if self.clip_min > self.clip_max:
            raise ValueError("clip_min must be <= clip_max")
        if self.dd_haircut_start > self.dd_haircut_full:
            raise ValueError("dd_haircut_start must be <= dd_haircut_full")
        if self.heat_low > self.heat_high:
            raise ValueError("heat_low must be <= heat_high")
        if self.heat_high_multiplier > self.heat_low_multiplier:
            raise ValueError("heat_high_multiplier must be <= heat_low_multiplier "
                             "(size never grows with portfolio heat)")
        return self


class Conviction(Section):
    """Seed 003's conviction tiers: score > high -> high_pct, score < low -> low_pct."""

    base_pct: PositiveFraction = 0.015
    high_pct: PositiveFraction = 0.02
    low_pct: PositiveFraction = 0.01
    high_threshold: float = 4.5
    low_threshold: float = 3.5
    max_position_dollar: Positive | None = None

    @model_validator(mode="after")
    def _ordering(self) -> Conviction:
        if self.low_threshold > self.high_threshold:
            raise ValueError("low_threshold must be <= high_threshold")
        return self


class AccountTier(Section):
    """One account-size profile (seed 001's small / medium / large)."""

    min_equity: NonNegative
    max_positions: Annotated[int, Field(ge=1)]
    min_leverage: Annotated[float, Field(ge=1.0, le=200.0)]
    max_leverage: Annotated[float, Field(ge=1.0, le=200.0)]
    min_risk_pct: PositiveFraction
    max_risk_pct: PositiveFraction
    risk_pct: PositiveFraction
    symbols: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _ranges(self) -> AccountTier:
        if self.min_leverage > self.max_leverage:
            raise ValueError("min_leverage must be <= max_leverage")
        if not self.min_risk_pct <= self.risk_pct <= self.max_risk_pct:
            raise ValueError("risk_pct must lie within [min_risk_pct, max_risk_pct]")
        return self


def _default_account_tiers() -> dict[str, AccountTier]:
    return {
        "small": AccountTier(min_equity=100, max_positions=5, min_leverage=5, max_leverage=10,
                             min_risk_pct=0.03, max_risk_pct=0.05, risk_pct=0.03),
        "medium": AccountTier(min_equity=1000, max_positions=10, min_leverage=3, max_leverage=8,
                              min_risk_pct=0.02, max_risk_pct=0.03, risk_pct=0.02),
        "large": AccountTier(min_equity=5000, max_positions=15, min_leverage=2, max_leverage=5,
                             min_risk_pct=0.01, max_risk_pct=0.02, risk_pct=0.015),
    }


class Leverage(Section):
    """Seed 001's adaptive leverage optimizer.

    ``optimal = base x vol_factor x spread_factor x liquidity_factor x win_rate_factor x
    regime_factor x account_factor``, clamped to ``[min_leverage, max_leverage]``, then to the
    account tier's range and the market's maximum.
    """

    enabled: bool = True
    base: Annotated[float, Field(ge=1.0, le=200.0)] = 10.0
    min_leverage: Annotated[float, Field(ge=1.0, le=200.0)] = 3.0
    max_leverage: Annotated[float, Field(ge=1.0, le=200.0)] = 20.0
    reference_atr_pct: PositiveFraction = 0.02
    reference_spread_bps: Positive = 5.0
    reference_depth: Positive = 1_000_000.0
    reference_win_rate: PositiveFraction = 0.5
    reference_equity: Positive = 5000.0
    account_size_exponent: Annotated[float, Field(ge=0.0, le=2.0)] = 0.25
    regime_multipliers: dict[str, Multiplier] = Field(default_factory=dict)
    fixed: Annotated[float, Field(ge=1.0, le=200.0)] | None = None

    @model_validator(mode="after")
    def _range(self) -> Leverage:
        if self.min_leverage > self.max_leverage:
            raise ValueError("min_leverage must be <= max_leverage")
        return self


class MarginZones(Section):
    """Seed 001's four margin zones, by margin used as a fraction of equity."""

    yellow: PositiveFraction = _MARGIN_PAUSE
    orange: PositiveFraction = _MARGIN_REDUCE
    red: PositiveFraction = _MARGIN_EMERGENCY
    orange_reduce_pct: PositiveFraction = 0.30
    red_target: PositiveFraction = 0.75

    @model_validator(mode="after")
    def _ordering(self) -> MarginZones:
        if not self.yellow < self.orange < self.red:
            raise ValueError("zones must satisfy yellow < orange < red")
        if not self.red_target < self.red:
            # at or above red, a RED account would be asked to close nothing
            raise ValueError("red_target must be below red")
        return self


class Drawdown(Section):
    """Drawdown states, loss limits and the circuit breaker (seeds 001, 002)."""

    light: PositiveFraction = 0.05
    moderate: PositiveFraction = 0.10
    heavy: PositiveFraction = 0.20
    light_multiplier: Multiplier = 0.7
    moderate_multiplier: Multiplier = 0.5
    heavy_multiplier: Multiplier = 0.25
    light_leverage_reduction: Annotated[float, Field(ge=0.0, le=100.0)] = 2.0
    moderate_leverage_reduction: Annotated[float, Field(ge=0.0, le=100.0)] = 5.0
    breaker_on_heavy: bool = True
    breaker_pause_hours: NonNegative = 24.0
    recovery_step: PositiveFraction = 0.25
    recovery_buffer: Fraction = 0.02
    daily_loss_limit_pct: PositiveFraction | None = None
    weekly_loss_limit_pct: PositiveFraction | None = None

    @model_validator(mode="after")
    def _ordering(self) -> Drawdown:
        if not self.light < self.moderate < self.heavy:
            raise ValueError("thresholds must satisfy light < moderate < heavy")
        if not self.light_multiplier >= self.moderate_multiplier >= self.heavy_multiplier:
            raise ValueError("multipliers must not grow as drawdown deepens")
        return self


class Phases(Section):
    """Seed 004's account phases.

    ``upper_bounds[i]`` is the highest equity of phase ``i`` (inclusive); equity above the last
    bound is the last phase. ``multipliers``, ``trades_per_day`` and ``max_bp_usage`` hold one
    value per phase.
    """

    enabled: bool = False
    upper_bounds: tuple[Positive, ...] = (30000.0, 40000.0, 55000.0, 75000.0)
    base_max_positions: Annotated[int, Field(ge=1)] = 3
    multipliers: tuple[Multiplier, ...] = (1.0, 1.0, 1.5, 2.0, 2.5)
    trades_per_day: tuple[Annotated[int, Field(ge=1)], ...] = (2, 3, 5, 7, 10)
    max_bp_usage: tuple[PositiveFraction, ...] = (0.30, 0.30, 0.50, 0.65, 0.80)
    risk_per_position: PositiveFraction = 0.05

    @model_validator(mode="after")
    def _lengths(self) -> Phases:
        n = len(self.upper_bounds) + 1
        if list(self.upper_bounds) != sorted(set(self.upper_bounds)):
            raise ValueError("upper_bounds must be strictly increasing")
        for name in ("multipliers", "trades_per_day", "max_bp_usage"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} needs {n} values, one per phase")
        return self


class Vix(Section):
    """Seed 004's VIX adjustments of position counts and trades per day."""

    enabled: bool = False
    extreme: Positive = 35.0
    extreme_multiplier: Multiplier = 0.5
    high: Positive = 25.0
    high_multiplier: Multiplier = 0.75
    low: Positive = 15.0
    low_multiplier: Multiplier = 1.25
    min_positions: Annotated[int, Field(ge=1)] = 1
    trades_high: Positive = 30.0
    trades_high_multiplier: Multiplier = 0.75
    trades_low_multiplier: Multiplier = 1.25
    trades_min: Annotated[int, Field(ge=1)] = 2
    trades_max: Annotated[int, Field(ge=1)] = 12
    size_multipliers: bool = False

    @model_validator(mode="after")
    def _ordering(self) -> Vix:
        if not self.low < self.high < self.extreme:
            raise ValueError("thresholds must satisfy low < high < extreme")
        return self


class Strategy(Section):
    """One strategy's position limits (seed 004)."""

    base_max_positions: Annotated[int, Field(ge=1)] = 2
    hard_cap: Annotated[int, Field(ge=1)] = 15
    bp_micro: Fraction | None = None
    bp_full: Fraction | None = None


class Strategies(Section):
    """Strategy limits: per-strategy base positions and disaster caps (seed 004)."""

    default: Strategy = Field(default_factory=Strategy)
    by_name: dict[str, Strategy] = Field(default_factory=dict)


class CapitalTier(Section):
    """One capital tier (seed 001's CORE / GROWTH / OPPORTUNITY / RESERVE)."""

    target_pct: Fraction
    min_leverage: Annotated[float, Field(ge=1.0, le=200.0)] = 1.0
    max_leverage: Annotated[float, Field(ge=1.0, le=200.0)] = 1.0
    symbols: tuple[str, ...] = ()
    reserve: bool = False


def _default_capital_tiers() -> dict[str, CapitalTier]:
    return {
        "CORE": CapitalTier(target_pct=0.50, min_leverage=3, max_leverage=5,
                            symbols=("BTCUSDT", "ETHUSDT")),
        "GROWTH": CapitalTier(target_pct=0.30, min_leverage=5, max_leverage=10),
        "OPPORTUNITY": CapitalTier(target_pct=0.15, min_leverage=3, max_leverage=8),
        "RESERVE": CapitalTier(target_pct=0.05, reserve=True),
    }


class CapitalTiers(Section):
    """Capital tiers and their rebalancing rule."""

    enabled: bool = False
    tiers: dict[str, CapitalTier] = Field(default_factory=_default_capital_tiers)
    default_tier: str = "OPPORTUNITY"
    rebalance_deviation: PositiveFraction = 0.20

    @model_validator(mode="after")
    def _sums(self) -> CapitalTiers:
        total = sum(t.target_pct for t in self.tiers.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"tier target_pct values must sum to 1, got {total}")
        if self.default_tier not in self.tiers:
            raise ValueError(f"default_tier {self.default_tier!r} is not a tier")
        return self


class Liquidity(Section):
    """Seed 001's liquidity-aware sizing from order book levels."""

    enabled: bool = True
    near_levels: Annotated[int, Field(ge=1)] = 5
    far_levels: Annotated[int, Field(ge=1)] = 20
    impact_moderate: PositiveFraction = 0.002
    impact_moderate_reduction: Fraction = 0.40
    impact_severe: PositiveFraction = 0.005
    impact_severe_reduction: Fraction = 0.70
    twap_fraction: PositiveFraction = 0.10
    iceberg_fraction: PositiveFraction = 0.25

    @model_validator(mode="after")
    def _ordering(self) -> Liquidity:
        if self.impact_moderate > self.impact_severe:
            raise ValueError("impact_moderate must be <= impact_severe")
        if self.impact_moderate_reduction > self.impact_severe_reduction:
            raise ValueError("impact_moderate_reduction must be <= impact_severe_reduction")
        if self.twap_fraction > self.iceberg_fraction:
            raise ValueError("twap_fraction must be <= iceberg_fraction")
        return self


class Opportunity(Section):
    """Seed 001's opportunity-cost decision tree."""

    enabled: bool = False
    replace_margin: NonNegative = 10.0
    enter_score: float = 80.0
    enter_free_margin: Fraction = 0.30
    skip_free_margin: Fraction = 0.20


class CapitalStatus(Section):
    """Thresholds of seed 001's capital status, by margin used as a fraction of equity."""

    warning: PositiveFraction = _MARGIN_PAUSE
    critical: PositiveFraction = _MARGIN_REDUCE
    emergency: PositiveFraction = _MARGIN_EMERGENCY

    @model_validator(mode="after")
    def _ordering(self) -> CapitalStatus:
        if not self.warning < self.critical < self.emergency:
            raise ValueError("thresholds must satisfy warning < critical < emergency")
        return self
