"""Account profile (seed 001) and dynamic limits (seed 004): phases, VIX, strategies, trades.

Every limit here reads one :class:`~riskdesk.config.RiskConfig`, so the desk, the service and
the reports agree on an account's phase and limits by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from riskdesk.config import Phases, RiskConfig, Strategy, Vix
from riskdesk.errors import InvalidInputError
from riskdesk.sizing import account_profile

# Position counts are products of small decimal multipliers (3 x 2.5, 7 x 0.75). A float
# product can land a hair under the integer it equals exactly; this nudge keeps
# int(7.5) == 7 and int(3 x 1.0) == 3 while never lifting a genuine fraction.
_NUDGE = 1e-9


def _floor(x: float) -> int:
    return math.floor(x + _NUDGE)


def _equity(equity: float) -> float:
    if not 0.0 < equity < math.inf:
        raise InvalidInputError("equity", equity, "a finite number > 0")
    return float(equity)


def _vix(vix: float | None) -> float | None:
    if vix is not None and not 0.0 <= vix < math.inf:
        raise InvalidInputError("vix", vix, "a finite number >= 0 or None")
    return vix


def account_phase(equity: float, cfg: Phases) -> int:
    """Seed 004's account phase: the first phase whose upper bound holds the equity.

    Parameters
    ----------
    equity
        Account value, > 0.
    cfg
        The ``phases`` section; ``upper_bounds[i]`` is the highest equity of phase ``i``
        (inclusive), and equity above the last bound is the last phase.

    Returns
    -------
    int
        The phase, 0-based (the ``phased-options`` preset: 0 up to $30k, ... 4 above $75k).

    Examples
    --------
    >>> from riskdesk.config import Phases
    >>> [account_phase(v, Phases()) for v in (25_000, 40_000, 45_000, 100_000)]
    [0, 1, 2, 4]
    """
    e = _equity(equity)
    for i, bound in enumerate(cfg.upper_bounds):
        if e <= bound:
            return i
    return len(cfg.upper_bounds)


def vix_position_multiplier(vix: float | None, cfg: Vix) -> float:
    """Seed 004's VIX multiplier of position counts.

    Above ``extreme`` -> ``extreme_multiplier`` (0.5), above ``high`` -> ``high_multiplier``
    (0.75), below ``low`` -> ``low_multiplier`` (1.25), else 1. ``None`` or a disabled
    section gives 1.

    Parameters
    ----------
    vix
        VIX level, >= 0, or ``None``.
    cfg
        The ``vix`` section.

    Returns
    -------
    float
        The multiplier.
    """
    v = _vix(vix)
    if v is None or not cfg.enabled:
        return 1.0
    if v > cfg.extreme:
        return cfg.extreme_multiplier
    if v > cfg.high:
        return cfg.high_multiplier
    if v < cfg.low:
        return cfg.low_multiplier
    return 1.0


def _vix_adjust(limit: int, vix: float | None, cfg: Vix) -> int:
    m = vix_position_multiplier(vix, cfg)
    if m == 1.0:
        return limit
    return max(cfg.min_positions, _floor(limit * m))


def phase_position_limit(equity: float, vix: float | None, cfg: RiskConfig) -> int:
    """Seed 004's account-wide position limit.

    ``floor(base_max_positions x multipliers[phase])``, then the VIX multiplier
    (``max(min_positions, floor(limit x m))``).

    Parameters
    ----------
    equity
        Account value, > 0.
    vix
        VIX level, or ``None``.
    cfg
        The whole configuration (``phases`` and ``vix``).

    Returns
    -------
    int
        The maximum number of open positions.

    Examples
    --------
    >>> from riskdesk.config import RiskConfig
    >>> cfg = RiskConfig.preset("phased-options")
    >>> phase_position_limit(40_000, 20, cfg), phase_position_limit(100_000, 20, cfg)
    (3, 7)
    >>> phase_position_limit(100_000, 36, cfg)
    3
    """
    ph = cfg.phases
    phase = account_phase(equity, ph)
    base = _floor(ph.base_max_positions * ph.multipliers[phase])
    return _vix_adjust(max(1, base), vix, cfg.vix)


def strategy_config(strategy: str, cfg: RiskConfig) -> Strategy:
    """The limits of a strategy: ``strategies.by_name`` (any case) or the default."""
    if not isinstance(strategy, str) or not strategy.strip():
        raise InvalidInputError("strategy", strategy, "a non-empty strategy name")
    by_name = cfg.strategies.by_name
    s = by_name.get(strategy)
    if s is None:
        s = by_name.get(strategy.upper(), cfg.strategies.default)
    return s


def strategy_position_limit(strategy: str, equity: float, vix: float | None,
                            cfg: RiskConfig) -> int:
    """Seed 004's per-strategy position limit.

    ``floor(base_max_positions x phase multiplier)``, the VIX adjustment (never below
    ``vix.min_positions``), then at most the strategy's ``hard_cap``.

    Parameters
    ----------
    strategy
        Strategy name (``strategies.by_name`` key, any case; unknown names use the default).
    equity
        Account value, > 0.
    vix
        VIX level, or ``None``.
    cfg
        The whole configuration.

    Returns
    -------
    int
        The maximum number of open positions of that strategy, >= 1.

    Examples
    --------
    >>> from riskdesk.config import RiskConfig
    >>> cfg = RiskConfig.preset("phased-options")
    >>> strategy_position_limit("LT112", 100_000, 20, cfg)
    5
    """
    s = strategy_config(strategy, cfg)
    ph = cfg.phases
    phase = account_phase(equity, ph)
    base = max(1, _floor(s.base_max_positions * ph.multipliers[phase]))
    return min(_vix_adjust(base, vix, cfg.vix), s.hard_cap)


def max_trades_per_day(equity: float, vix: float | None, cfg: RiskConfig) -> int:
    """Seed 004's opening trades per day.

    ``trades_per_day[phase]``; above ``vix.trades_high`` x ``trades_high_multiplier`` (at
    least ``trades_min``); below ``vix.low`` x ``trades_low_multiplier`` (at most
    ``trades_max``). VIX adjustments apply only when the ``vix`` section is enabled.

    Parameters
    ----------
    equity
        Account value, > 0.
    vix
        VIX level, or ``None``.
    cfg
        The whole configuration.

    Returns
    -------
    int
        The limit.

    Examples
    --------
    >>> from riskdesk.config import RiskConfig
    >>> cfg = RiskConfig.preset("phased-options")
    >>> max_trades_per_day(100_000, 20, cfg), max_trades_per_day(100_000, 31, cfg)
    (10, 7)
    """
    ph = cfg.phases
    base = ph.trades_per_day[account_phase(equity, ph)]
    v = _vix(vix)
    vc = cfg.vix
    if v is None or not vc.enabled:
        return base
    if v > vc.trades_high:
        return max(vc.trades_min, _floor(base * vc.trades_high_multiplier))
    if v < vc.low:
        return min(vc.trades_max, _floor(base * vc.trades_low_multiplier))
    return base


@dataclass(frozen=True, slots=True)
class ScalingStrategy:
    """Seed 001's account strategy for an account size, with seed 004's phase limits.

    Parameters
    ----------
    tier
        Account tier name (``small``, ``medium``, ``large``), or ``None`` below every tier.
    max_positions
        The tier's maximum open positions (``None`` without a tier).
    min_leverage, max_leverage
        The tier's leverage range.
    min_risk_pct, max_risk_pct, risk_pct
        The tier's risk per trade range and the value used, as fractions.
    risk_per_trade
        ``equity x risk_pct`` in quote currency.
    symbols
        Symbols the tier trades (empty: any).
    phase
        Seed 004 account phase, or ``None`` when phases are disabled.
    phase_max_positions
        Seed 004 position limit at the given VIX, or ``None``.
    max_trades_per_day
        Seed 004 trades per day at the given VIX, or ``None``.
    """

    tier: str | None
    max_positions: int | None
    min_leverage: float | None
    max_leverage: float | None
    min_risk_pct: float | None
    max_risk_pct: float | None
    risk_pct: float | None
    risk_per_trade: float | None
    symbols: tuple[str, ...]
    phase: int | None
    phase_max_positions: int | None
    max_trades_per_day: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"tier": self.tier, "max_positions": self.max_positions,
                "min_leverage": self.min_leverage, "max_leverage": self.max_leverage,
                "min_risk_pct": self.min_risk_pct, "max_risk_pct": self.max_risk_pct,
                "risk_pct": self.risk_pct, "risk_per_trade": self.risk_per_trade,
                "symbols": list(self.symbols), "phase": self.phase,
                "phase_max_positions": self.phase_max_positions,
                "max_trades_per_day": self.max_trades_per_day}


def scaling_strategy(equity: float, cfg: RiskConfig, vix: float | None = None) -> ScalingStrategy:
    """Seed 001's account strategy (tier, positions, leverage, risk) and seed 004's phase.

    Parameters
    ----------
    equity
        Account value, > 0.
    cfg
        The whole configuration.
    vix
        VIX level for the phase limits, or ``None``.

    Returns
    -------
    ScalingStrategy
        The strategy.

    Examples
    --------
    >>> from riskdesk.config import RiskConfig
    >>> s = scaling_strategy(500, RiskConfig.preset("crypto-capital-manager"))
    >>> s.tier, s.max_positions, s.risk_per_trade
    ('small', 5, 15.0)
    """
    e = _equity(equity)
    prof = account_profile(e, cfg.account_tiers)
    phase = pos = trades = None
    if cfg.phases.enabled:
        phase = account_phase(e, cfg.phases)
        pos = phase_position_limit(e, vix, cfg)
        trades = max_trades_per_day(e, vix, cfg)
    if prof is None:
        return ScalingStrategy(None, None, None, None, None, None, None, None, (), phase, pos,
                               trades)
    name, t = prof
    return ScalingStrategy(name, t.max_positions, t.min_leverage, t.max_leverage,
                           t.min_risk_pct, t.max_risk_pct, t.risk_pct, e * t.risk_pct,
                           t.symbols, phase, pos, trades)


def vix_position_multipliers(vix: npt.NDArray[np.float64], cfg: Vix) -> npt.NDArray[np.float64]:
    """:func:`vix_position_multiplier` over an array of VIX levels (NaN: unknown, 1)."""
    v = np.asarray(vix, dtype=np.float64)
    if not cfg.enabled:
        return np.ones_like(v)
    return np.where(v > cfg.extreme, cfg.extreme_multiplier,
                    np.where(v > cfg.high, cfg.high_multiplier,
                             np.where(v < cfg.low, cfg.low_multiplier, 1.0)))


def phase_position_limits(equity: float, vix: npt.NDArray[np.float64],
                          cfg: RiskConfig) -> npt.NDArray[np.int64]:
    """:func:`phase_position_limit` for one equity over an array of VIX levels."""
    ph = cfg.phases
    base = max(1, _floor(ph.base_max_positions * ph.multipliers[account_phase(equity, ph)]))
    m = vix_position_multipliers(vix, cfg.vix)
    adj = np.maximum(cfg.vix.min_positions, np.floor(base * m + _NUDGE)).astype(np.int64)
    return np.where(m == 1.0, base, adj)


def max_trades_per_day_array(equity: float, vix: npt.NDArray[np.float64],
                             cfg: RiskConfig) -> npt.NDArray[np.int64]:
    """:func:`max_trades_per_day` for one equity over an array of VIX levels."""
    ph = cfg.phases
    base = ph.trades_per_day[account_phase(equity, ph)]
    v = np.asarray(vix, dtype=np.float64)
    vc = cfg.vix
    if not vc.enabled:
        return np.full(v.shape, base, dtype=np.int64)
    high = np.maximum(vc.trades_min, np.floor(base * vc.trades_high_multiplier + _NUDGE))
    low = np.minimum(vc.trades_max, np.floor(base * vc.trades_low_multiplier + _NUDGE))
    out = np.where(v > vc.trades_high, high, np.where(v < vc.low, low, base))
    return out.astype(np.int64)
