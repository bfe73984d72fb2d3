"""Seed 001's adaptive leverage optimizer."""

from __future__ import annotations

import math

import pytest

from riskdesk.config import Leverage, RiskConfig
from riskdesk.errors import InvalidInputError
from riskdesk.sizing import account_profile, optimal_leverage

GOOD_BOOK = {"spread_bps": 1.0, "depth": 5_000_000.0}


@pytest.fixture
def crypto() -> RiskConfig:
    return RiskConfig.preset("crypto-capital-manager", env={})


def test_seed001_btc_2pct_atr_good_liquidity_5000_account_is_10x(crypto: RiskConfig) -> None:
    adv = optimal_leverage(atr_pct=0.02, equity=5_000.0, win_rate=0.5, regime="NEUTRAL",
                           cfg=crypto.leverage, **GOOD_BOOK)
    assert adv.leverage == pytest.approx(10.0)
    assert adv.raw == pytest.approx(10.0)
    assert dict(adv.factors) == pytest.approx({
        "base": 10.0, "volatility": 1.0, "spread": 1.0, "liquidity": 1.0, "win_rate": 1.0,
        "regime": 1.0, "account_size": 1.0})


def test_seed001_10x_example_exceeds_the_large_tier_range_tier_wins(crypto: RiskConfig) -> None:
    # $5,000 is a "large" account (2-5x) in seed 001's own tier table: the desk clamps the
    # optimizer's 10x to the tier's 5x.
    found = account_profile(5_000.0, crypto.account_tiers)
    assert found is not None
    name, tier = found
    assert name == "large"
    adv = optimal_leverage(atr_pct=0.02, equity=5_000.0, win_rate=0.5, regime="NEUTRAL",
                           cfg=crypto.leverage, min_leverage=tier.min_leverage,
                           max_leverage=tier.max_leverage, **GOOD_BOOK)
    assert adv.raw == pytest.approx(10.0)
    assert adv.leverage == 5.0
    assert "range maximum" in adv.note


@pytest.mark.parametrize(("kwargs", "factor", "value"), [
    ({"atr_pct": 0.04}, "volatility", 0.5),
    ({"atr_pct": 0.01}, "volatility", 2.0),
    ({"spread_bps": 10.0}, "spread", 0.5),
    ({"spread_bps": 0.0}, "spread", 1.0),
    ({"depth": 250_000.0}, "liquidity", 0.25),
    ({"win_rate": 0.6}, "win_rate", 1.2),
    ({"regime": "strong_trend"}, "regime", 1.2),
    ({"regime": "RANGING"}, "regime", 0.8),
    ({"equity": 80_000.0}, "account_size", 0.5),   # (5000 / 80000) ** 0.25
    ({"equity": 312.5}, "account_size", 2.0),
])
def test_each_factor(crypto: RiskConfig, kwargs: dict[str, object], factor: str,
                     value: float) -> None:
    args: dict[str, object] = {"atr_pct": 0.02, "equity": 5_000.0, "win_rate": 0.5,
                               "regime": "NEUTRAL", **GOOD_BOOK}
    args.update(kwargs)
    adv = optimal_leverage(cfg=crypto.leverage, **args)  # type: ignore[arg-type]
    assert dict(adv.factors)[factor] == pytest.approx(value)
    assert adv.raw == pytest.approx(10.0 * value)
    assert adv.leverage == pytest.approx(min(max(10.0 * value, 3.0), 20.0))


def test_clamped_to_configured_range(crypto: RiskConfig) -> None:
    low = optimal_leverage(atr_pct=0.2, equity=5_000.0, win_rate=None, regime=None,
                           cfg=crypto.leverage, **GOOD_BOOK)
    assert low.raw == pytest.approx(1.0)
    assert low.leverage == 3.0
    high = optimal_leverage(atr_pct=0.002, equity=5_000.0, win_rate=None, regime=None,
                            cfg=crypto.leverage, **GOOD_BOOK)
    assert high.leverage == 20.0


def test_market_maximum_beats_tier_minimum(crypto: RiskConfig) -> None:
    adv = optimal_leverage(atr_pct=0.02, equity=5_000.0, win_rate=None, regime=None,
                           cfg=crypto.leverage, min_leverage=5.0, max_leverage=5.0,
                           **GOOD_BOOK)
    assert adv.leverage == 5.0
    adv = optimal_leverage(atr_pct=0.2, equity=5_000.0, win_rate=None, regime=None,
                           cfg=crypto.leverage, min_leverage=5.0, max_leverage=8.0,
                           **GOOD_BOOK)
    assert adv.leverage == 5.0


def test_missing_book_and_record_are_neutral(crypto: RiskConfig) -> None:
    adv = optimal_leverage(atr_pct=0.02, spread_bps=None, depth=None, equity=5_000.0,
                           win_rate=None, regime=None, cfg=crypto.leverage)
    assert adv.leverage == pytest.approx(10.0)


def test_missing_volatility_gives_lowest_allowed(crypto: RiskConfig) -> None:
    adv = optimal_leverage(atr_pct=None, equity=5_000.0, win_rate=0.9, regime="STRONG_TREND",
                           cfg=crypto.leverage, **GOOD_BOOK)
    assert adv.leverage == 3.0
    assert "volatility unknown" in adv.note
    adv = optimal_leverage(atr_pct=None, equity=500.0, win_rate=None, regime=None,
                           cfg=crypto.leverage, min_leverage=5.0, max_leverage=10.0,
                           **GOOD_BOOK)
    assert adv.leverage == 5.0


def test_fixed_leverage_returned_and_lowered_to_max() -> None:
    cfg = Leverage(fixed=25.0)
    adv = optimal_leverage(atr_pct=0.5, spread_bps=None, depth=None, equity=100.0,
                           win_rate=None, regime=None, cfg=cfg)
    assert adv.leverage == 25.0
    assert adv.factors == (("fixed", 25.0),)
    adv = optimal_leverage(atr_pct=0.5, spread_bps=None, depth=None, equity=100.0,
                           win_rate=None, regime=None, cfg=cfg, max_leverage=20.0)
    assert adv.leverage == 20.0


def test_disabled_uses_base_clamped() -> None:
    cfg = Leverage(enabled=False, base=4.0, min_leverage=1.0, max_leverage=20.0)
    adv = optimal_leverage(atr_pct=0.5, spread_bps=None, depth=None, equity=100.0,
                           win_rate=None, regime=None, cfg=cfg, max_leverage=3.0)
    assert adv.leverage == 3.0
    assert "disabled" in adv.note


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"atr_pct": 0.0}, "atr_pct"), ({"atr_pct": math.nan}, "atr_pct"),
    ({"spread_bps": -1.0}, "spread_bps"), ({"depth": math.inf}, "depth"),
    ({"equity": 0.0}, "equity"), ({"equity": math.nan}, "equity"),
    ({"win_rate": 1.5}, "win_rate"), ({"min_leverage": 0.5}, "min_leverage"),
    ({"max_leverage": math.nan}, "max_leverage"),
    ({"min_leverage": 10.0, "max_leverage": 5.0}, "min_leverage"),
])
def test_rejects_bad_input(crypto: RiskConfig, kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"atr_pct": 0.02, "equity": 5_000.0, "win_rate": 0.5,
                               "regime": None, **GOOD_BOOK}
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as err:
        optimal_leverage(cfg=crypto.leverage, **args)  # type: ignore[arg-type]
    assert err.value.field == field


def test_nan_from_absurd_inputs_falls_to_the_floor(crypto: RiskConfig) -> None:
    # depth 0 gives a liquidity factor of 0; a subnormal equity an infinite account factor.
    adv = optimal_leverage(atr_pct=0.02, spread_bps=1.0, depth=0.0, equity=5e-324,
                           win_rate=None, regime=None, cfg=crypto.leverage)
    assert math.isnan(adv.raw)
    assert adv.leverage == 3.0
