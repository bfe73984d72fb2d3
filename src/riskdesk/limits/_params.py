"""The configuration's limits as plain floats, read once per desk instead of once per order."""

from __future__ import annotations

import math
from dataclasses import dataclass

from riskdesk.config import RiskConfig


@dataclass(frozen=True, slots=True)
class LimitParams:
    """Caps and gate thresholds of a :class:`~riskdesk.config.RiskConfig`, as floats.

    Missing optional limits become ``inf`` (no limit) so that the hot path compares numbers
    only. Built by :meth:`from_config`; every field is named after the configuration key it
    comes from.
    """

    order_cap: float
    reducer_cap: float
    max_trade_size: float
    max_pos_pct: float
    max_position_size: float
    max_total_exposure: float
    max_gross_exposure: float
    buying_power_safety: float
    max_position_dollar: float
    min_open_notional: float
    min_reduce_notional: float
    min_position_dollar: float
    min_shares: float
    allow_dust_close: bool
    max_concurrent_positions: int
    price_band_pct: float
    max_spread_bps: float
    max_state_age: float
    max_data_age: float
    cvar_alpha: float
    cvar_limit_pct: float
    restricted: frozenset[str]
    entry_score_min: float | None
    signal_threshold: float
    concentration: float

    @classmethod
    def from_config(cls, cfg: RiskConfig) -> LimitParams:
        """Read the limits out of ``cfg``.

        The order cap is the tightest of ``position_sizing.order_notional_cap``,
        ``risk_management.max_order_notional`` and ``max_notional_opener``; the reducer cap
        the tighter of ``max_order_notional`` and ``max_notional_reducer``. The opener
        minimum is the larger of ``min_notional_opener`` and ``min_trade_size``.
        """
        ps, rm = cfg.position_sizing, cfg.risk_management
        inf = math.inf
        return cls(
            order_cap=min(ps.order_notional_cap, rm.max_order_notional, rm.max_notional_opener),
            reducer_cap=min(rm.max_order_notional, rm.max_notional_reducer),
            max_trade_size=ps.max_trade_size,
            max_pos_pct=rm.max_pos_pct,
            max_position_size=ps.max_position_size,
            max_total_exposure=ps.max_total_exposure,
            max_gross_exposure=rm.max_gross_exposure,
            buying_power_safety=rm.buying_power_safety,
            max_position_dollar=inf if rm.max_position_dollar is None
            else rm.max_position_dollar,
            min_open_notional=max(rm.min_notional_opener, ps.min_trade_size),
            min_reduce_notional=rm.min_notional_reducer,
            min_position_dollar=rm.min_position_dollar,
            min_shares=ps.min_shares,
            allow_dust_close=rm.allow_dust_close,
            max_concurrent_positions=rm.max_concurrent_positions,
            price_band_pct=rm.price_band_pct,
            max_spread_bps=inf if rm.max_spread_bps is None else rm.max_spread_bps,
            max_state_age=rm.max_state_age_seconds,
            max_data_age=rm.max_data_age_seconds,
            cvar_alpha=rm.cvar_alpha,
            cvar_limit_pct=inf if rm.cvar_limit_pct is None else rm.cvar_limit_pct,
            restricted=frozenset(rm.restricted_symbols),
            entry_score_min=rm.entry_score_min,
            signal_threshold=ps.signal_threshold,
            concentration=inf if rm.concentration_max_net_long_pct is None
            else rm.concentration_max_net_long_pct,
        )
