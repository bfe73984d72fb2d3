"""Per-call times of the sizing models (``python -m benchmarks.runner sizing``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from benchmarks.runner import Bench
from riskdesk.config import RiskConfig
from riskdesk.domain import BookLevel, MarketRules, Side
from riskdesk.sizing import (
    SizingStabilizer,
    account_profile,
    apply_dd_haircut,
    atr_stop_price,
    compute_size,
    conviction_notional,
    conviction_pct,
    dd_haircut_factor,
    fixed_fraction_notional,
    fraction_to_qty,
    half_kelly,
    kelly_adjustments,
    kelly_binary,
    kelly_mu_sigma,
    liquidity_advice,
    notional_to_qty,
    optimal_leverage,
    stop_distance_qty,
    volatility_target_notional,
)


def main(bench: Bench) -> None:
    crypto = RiskConfig.preset("crypto-capital-manager", env={})
    aurora = RiskConfig.preset("aurora-capital-scaling", env={})
    conviction = RiskConfig.preset("equity-conviction", env={}).conviction
    stab_cfg = RiskConfig.preset("aurora-kelly", env={}).kelly.stabilizer
    btc = MarketRules("BTCUSDT", step="0.0001", tick="0.1", min_notional="5", max_leverage=125)
    asks = [BookLevel(50_000.0 + 5.0 * i, 0.8) for i in range(20)]
    t0 = datetime(2025, 1, 2, tzinfo=UTC)

    bench.time("fixed_fraction_notional", lambda: fixed_fraction_notional(10_000.0, 0.015))
    bench.time("conviction_pct", lambda: conviction_pct(4.8, conviction))
    bench.time("conviction_notional", lambda: conviction_notional(55_000.0, 4.8, conviction))
    bench.time("compute_size (whole shares)",
               lambda: compute_size("AAPL", -0.1072, 226.80, 195_000.0,
                                    aurora.position_sizing))
    bench.time("compute_size (market rules)",
               lambda: compute_size("BTCUSDT", 0.05, 50_000.0, 100_000.0,
                                    aurora.position_sizing, rules=btc))
    bench.time("kelly_binary", lambda: kelly_binary(0.58, 1.75))
    bench.time("kelly_mu_sigma", lambda: kelly_mu_sigma(0.001, 0.05))
    bench.time("half_kelly", lambda: half_kelly(0.34))
    bench.time("dd_haircut_factor", lambda: dd_haircut_factor(0.12))
    bench.time("apply_dd_haircut", lambda: apply_dd_haircut(0.2, 0.12))
    bench.time("kelly_adjustments",
               lambda: kelly_adjustments(account_tier="small", regime="TRENDING",
                                         portfolio_heat=45.0, cfg=crypto.kelly))
    bench.time("fraction_to_qty",
               lambda: fraction_to_qty(0.0123, 5_000.0, 50_123.4, 8.0, btc,
                                       available_margin=4_000.0))
    bench.time("fraction_to_qty (on a step: exact path)",
               lambda: fraction_to_qty(0.00375, 500.0, 50_000.0, 8.0, btc,
                                       available_margin=400.0))
    bench.time("notional_to_qty", lambda: notional_to_qty(1_234.5, 50_123.4, btc))
    bench.time("notional_to_qty (on a step: exact path)",
               lambda: notional_to_qty(150.0, 50_000.0, btc))
    bench.time("stop_distance_qty", lambda: stop_distance_qty(150.0, 50_000.0, 49_000.0))
    bench.time("atr_stop_price", lambda: atr_stop_price(50_000.0, 1_000.0, 2.0, Side.LONG))
    bench.time("volatility_target_notional",
               lambda: volatility_target_notional(10_000.0, 0.01, 0.03))
    bench.time("optimal_leverage",
               lambda: optimal_leverage(atr_pct=0.02, spread_bps=1.0, depth=5e6,
                                        equity=5_000.0, win_rate=0.55, regime="TRENDING",
                                        cfg=crypto.leverage, min_leverage=2.0,
                                        max_leverage=5.0))
    bench.time("liquidity_advice (fills in 1 level)",
               lambda: liquidity_advice(10_000.0, 50_000.0, asks, crypto.liquidity))
    bench.time("liquidity_advice (walks 20 levels)",
               lambda: liquidity_advice(2_000_000.0, 50_000.0, asks, crypto.liquidity))
    bench.time("account_profile", lambda: account_profile(2_500.0, crypto.account_tiers))

    stab = SizingStabilizer.from_config(stab_cfg)
    clock = [t0]
    values = [0.11, 0.13, 0.16, 0.12]

    def stabilize() -> float:
        clock[0] += timedelta(seconds=7)
        return stab.update("BTCUSDT", values[clock[0].second % 4], clock[0])

    bench.time("SizingStabilizer.update", stabilize)
