"""Kelly fractions, the drawdown haircut and seed 001's Kelly adjustments."""

from __future__ import annotations

import math

import pytest

from riskdesk.config import Kelly, RiskConfig
from riskdesk.domain import ReasonCode, Regime
from riskdesk.errors import ConfigError, InvalidInputError
from riskdesk.sizing import (
    apply_dd_haircut,
    dd_haircut_factor,
    half_kelly,
    heat_multiplier,
    kelly_adjustments,
    kelly_binary,
    kelly_mu_sigma,
)

NO_CLIP = (0.0, 1.0)


def test_seed001_kelly_example_contradicts_formula_formula_wins() -> None:
    # Seed 001: "58% win rate, 1.75 W/L ratio -> 15% Kelly -> 7.5% Half-Kelly".
    # Its own formula, (W x R - L) / R, gives (1.75 x 0.58 - 0.42) / 1.75 = 0.34.
    f = kelly_binary(0.58, 1.75, clip=NO_CLIP)
    assert f == pytest.approx(0.34, abs=1e-12)
    assert f != pytest.approx(0.15, abs=0.01)
    assert half_kelly(f) == pytest.approx(0.17, abs=1e-12)


def test_seed002_default_clip_caps_at_20_percent() -> None:
    assert kelly_binary(0.58, 1.75) == 0.2


@pytest.mark.parametrize(("p", "b", "ra", "expected"), [
    (0.6, 1.0, 1.0, 0.2),          # (0.6 - 0.4) / 1
    (0.5, 2.0, 1.0, 0.25),         # (1.0 - 0.5) / 2
    (0.5, 2.0, 2.0, 0.125),        # risk aversion halves it
    (0.55, 1.5, 1.0, 0.25),        # (0.825 - 0.45) / 1.5
    (1.0, 1.0, 1.0, 1.0),
])
def test_kelly_binary_table(p: float, b: float, ra: float, expected: float) -> None:
    assert kelly_binary(p, b, risk_aversion=ra, clip=NO_CLIP) == pytest.approx(expected)


@pytest.mark.parametrize(("p", "b"), [(0.5, 1.0), (0.4, 1.5), (0.0, 3.0), (0.3, 0.5)])
def test_kelly_binary_is_zero_without_edge_even_with_a_positive_floor(p: float,
                                                                      b: float) -> None:
    assert kelly_binary(p, b, clip=(0.05, 0.2)) == 0.0


def test_kelly_binary_lower_clip_applies_with_edge() -> None:
    assert kelly_binary(0.51, 1.0, clip=(0.05, 0.2)) == 0.05


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"win_rate": 1.2, "win_loss_ratio": 1.0}, "win_rate"),
    ({"win_rate": -0.1, "win_loss_ratio": 1.0}, "win_rate"),
    ({"win_rate": math.nan, "win_loss_ratio": 1.0}, "win_rate"),
    ({"win_rate": 0.5, "win_loss_ratio": 0.0}, "win_loss_ratio"),
    ({"win_rate": 0.5, "win_loss_ratio": math.inf}, "win_loss_ratio"),
    ({"win_rate": 0.5, "win_loss_ratio": 1.0, "risk_aversion": 0.0}, "risk_aversion"),
    ({"win_rate": 0.5, "win_loss_ratio": 1.0, "clip": (0.3, 0.2)}, "clip"),
    ({"win_rate": 0.5, "win_loss_ratio": 1.0, "clip": (0.0, 1.5)}, "clip"),
])
def test_kelly_binary_rejects_bad_input(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        kelly_binary(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


@pytest.mark.parametrize(("mu", "sigma", "ra", "expected"), [
    (0.001, 0.1, 1.0, 0.1),        # 0.001 / 0.01
    (0.001, 0.1, 2.0, 0.05),
    (0.004, 0.1, 1.0, 0.2),        # 0.4 clipped to 0.2 below
    (0.0, 0.1, 1.0, 0.0),
    (-0.01, 0.1, 1.0, 0.0),
])
def test_kelly_mu_sigma_table(mu: float, sigma: float, ra: float, expected: float) -> None:
    assert kelly_mu_sigma(mu, sigma, risk_aversion=ra) == pytest.approx(expected)


@pytest.mark.parametrize(("mu", "sigma", "field"), [
    (math.nan, 0.1, "mu"), (0.01, 0.0, "sigma"), (0.01, -0.1, "sigma"),
    (0.01, math.inf, "sigma"),
])
def test_kelly_mu_sigma_rejects_bad_input(mu: float, sigma: float, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        kelly_mu_sigma(mu, sigma)
    assert err.value.field == field


def test_half_kelly() -> None:
    assert half_kelly(0.3) == pytest.approx(0.15)
    with pytest.raises(InvalidInputError):
        half_kelly(-0.1)


@pytest.mark.parametrize(("dd", "factor"), [
    (0.0, 1.0), (0.05, 1.0), (0.125, 0.625), (0.20, 0.25), (0.5, 0.25), (0.0875, 0.8125),
])
def test_dd_haircut_factor_table(dd: float, factor: float) -> None:
    assert dd_haircut_factor(dd) == pytest.approx(factor)


def test_dd_haircut_step_when_start_equals_full() -> None:
    assert dd_haircut_factor(0.1, start=0.1, full=0.1, floor=0.5) == 1.0
    assert dd_haircut_factor(0.1001, start=0.1, full=0.1, floor=0.5) == 0.5


def test_apply_dd_haircut() -> None:
    assert apply_dd_haircut(0.2, 0.125) == pytest.approx(0.125)
    assert apply_dd_haircut(0.2, 0.125, start=0.0, full=0.25, floor=0.0) == pytest.approx(0.1)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"drawdown": -0.01}, "drawdown"), ({"drawdown": math.nan}, "drawdown"),
    ({"drawdown": 0.1, "start": 0.3, "full": 0.2}, "start"),
    ({"drawdown": 0.1, "floor": 1.5}, "floor"),
])
def test_dd_haircut_rejects_bad_input(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        dd_haircut_factor(**kwargs)
    assert err.value.field == field


@pytest.fixture
def crypto_kelly() -> Kelly:
    return RiskConfig.preset("crypto-capital-manager", env={}).kelly


@pytest.mark.parametrize(("tier", "regime", "heat", "expected"), [
    ("small", "NEUTRAL", 10.0, (0.7, 1.0, 1.0)),
    ("large", "STRONG_TREND", 10.0, (1.2, 1.3, 1.0)),
    ("medium", "ranging", 80.0, (1.0, 0.7, 0.3)),
    ("large", Regime.RANGING, 70.0, (1.2, 0.7, 0.3)),
    ("small", "TRENDING", 30.0, (0.7, 1.0, 1.0)),
    ("small", "TRENDING", 50.0, (0.7, 1.0, 0.65)),  # linear between 30 (x1.0) and 70 (x0.3)
])
def test_seed001_kelly_adjustments(crypto_kelly: Kelly, tier: str, regime: str, heat: float,
                                   expected: tuple[float, float, float]) -> None:
    adj = kelly_adjustments(account_tier=tier, regime=regime, portfolio_heat=heat,
                            cfg=crypto_kelly)
    assert [code for code, _, _ in adj] == [ReasonCode.ACCOUNT_SIZE, ReasonCode.REGIME,
                                            ReasonCode.PORTFOLIO_HEAT]
    assert [m for _, m, _ in adj] == pytest.approx(list(expected))
    assert all(note for _, _, note in adj)


def test_kelly_adjustments_missing_inputs_are_neutral_and_say_so(crypto_kelly: Kelly) -> None:
    adj = kelly_adjustments(account_tier=None, regime=None, portfolio_heat=None,
                            cfg=crypto_kelly)
    assert [m for _, m, _ in adj] == [1.0, 1.0, 1.0]
    assert all("not given" in note for _, _, note in adj)


def test_unlisted_regime_is_neutral(crypto_kelly: Kelly) -> None:
    adj = kelly_adjustments(account_tier="medium", regime="SIDEWAYS", portfolio_heat=0.0,
                            cfg=crypto_kelly)
    assert adj[1][1] == 1.0


def test_heat_step_mode_holds_low_multiplier_until_high() -> None:
    cfg = Kelly(heat_high=70, heat_low=30, heat_high_multiplier=0.3, heat_low_multiplier=1.0,
                heat_mode="step")
    assert heat_multiplier(50.0, cfg) == 1.0
    assert heat_multiplier(70.0, cfg) == 1.0
    assert heat_multiplier(70.01, cfg) == 0.3


def test_heat_low_equals_high_is_a_step() -> None:
    cfg = Kelly(heat_high=50, heat_low=50, heat_high_multiplier=0.5, heat_low_multiplier=1.0)
    assert heat_multiplier(50.0, cfg) == 1.0
    assert heat_multiplier(50.5, cfg) == 0.5


def test_heat_rejects_negative_and_nan(crypto_kelly: Kelly) -> None:
    for bad in (-1.0, math.nan):
        with pytest.raises(InvalidInputError) as err:
            heat_multiplier(bad, crypto_kelly)
        assert err.value.field == "portfolio_heat"


def test_config_refuses_heat_multiplier_growing_with_heat() -> None:
    with pytest.raises(ConfigError, match="heat_high_multiplier"):
        RiskConfig.from_mapping({"kelly": {"heat_high_multiplier": 1.2,
                                           "heat_low_multiplier": 1.0}}, env={})


def test_certain_win_is_full_kelly_whatever_the_payoff() -> None:
    assert kelly_binary(1.0, 1e-300, clip=NO_CLIP) == 1.0
    assert kelly_binary(1.0, 0.01, clip=NO_CLIP) == 1.0
