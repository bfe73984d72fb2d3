"""Fixed fraction, margin and seed 003's conviction tiers."""

from __future__ import annotations

import math

import pytest

from riskdesk.config import Conviction, RiskConfig
from riskdesk.errors import InvalidInputError
from riskdesk.sizing import (
    conviction_notional,
    conviction_pct,
    fixed_fraction_notional,
    margin_required,
)


def test_fixed_fraction_is_equity_times_fraction() -> None:
    assert fixed_fraction_notional(500.0, 0.03) == pytest.approx(15.0)
    assert fixed_fraction_notional(10_000.0, 0.015) == pytest.approx(150.0)
    assert fixed_fraction_notional(10_000.0, 0.0) == 0.0


@pytest.mark.parametrize(("equity", "fraction", "field"), [
    (0.0, 0.01, "equity"), (-1.0, 0.01, "equity"), (math.nan, 0.01, "equity"),
    (math.inf, 0.01, "equity"), (1000.0, -0.01, "fraction"), (1000.0, 1.5, "fraction"),
    (1000.0, math.nan, "fraction"),
])
def test_fixed_fraction_rejects_bad_input(equity: float, fraction: float, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        fixed_fraction_notional(equity, fraction)
    assert err.value.field == field


@pytest.mark.parametrize(("equity", "risk", "leverage", "margin"), [
    (500.0, 0.03, 8.0, 1.875),       # seed 001 small account: $15 at 8x
    (2_500.0, 0.02, 7.0, 50.0 / 7),  # seed 001 medium account: $50 at 7x -> $7.14
    (10_000.0, 0.015, 4.0, 37.5),    # seed 001 large account: $150 at 4x
])
def test_seed001_margin_is_position_notional_over_leverage(
        equity: float, risk: float, leverage: float, margin: float) -> None:
    notional = fixed_fraction_notional(equity, risk)
    assert margin_required(notional, leverage) == pytest.approx(margin, rel=1e-12)


def test_seed001_small_account_example_margin_is_1_875_not_1_87() -> None:
    # The seed prints "$1.87": $15 / 8 is exactly $1.875, shown truncated to cents.
    assert margin_required(15.0, 8.0) == 1.875


@pytest.mark.parametrize(("notional", "leverage", "field"), [
    (-1.0, 2.0, "notional"), (math.inf, 2.0, "notional"), (10.0, 0.5, "leverage"),
    (10.0, 0.0, "leverage"), (10.0, math.nan, "leverage"),
])
def test_margin_required_rejects_bad_input(notional: float, leverage: float, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        margin_required(notional, leverage)
    assert err.value.field == field


@pytest.mark.parametrize(("score", "pct", "tier"), [
    (4.51, 0.02, "high"), (5.0, 0.02, "high"),
    (4.5, 0.015, "base"), (4.0, 0.015, "base"), (3.5, 0.015, "base"),
    (3.49, 0.01, "low"), (0.5, 0.01, "low"),
])
def test_conviction_tiers_follow_seed003_thresholds(score: float, pct: float, tier: str) -> None:
    assert conviction_pct(score, Conviction()) == (pct, tier)


def test_conviction_thresholds_come_from_config() -> None:
    cfg = Conviction(high_threshold=80, low_threshold=50, high_pct=0.03, low_pct=0.005)
    assert conviction_pct(81, cfg) == (0.03, "high")
    assert conviction_pct(49, cfg) == (0.005, "low")
    assert conviction_pct(65, cfg) == (0.015, "base")


@pytest.mark.parametrize(("score", "tier", "intended", "capped"), [
    (4.8, "high", 1_100.0, 825.0),   # 2.0% of $55k = $1,100, capped at $825
    (4.0, "base", 825.0, 825.0),
    (3.0, "low", 550.0, 550.0),
])
def test_seed003_paper_account_55k(score: float, tier: str, intended: float,
                                   capped: float) -> None:
    cfg = RiskConfig.preset("equity-conviction", env={}).conviction
    size = conviction_notional(55_000.0, score, cfg)
    assert size.tier == tier
    assert size.intended == pytest.approx(intended)
    assert size.capped == pytest.approx(capped)
    assert size.cap == 825.0
    assert size.cap_bound is (intended > capped)


@pytest.mark.parametrize(("score", "tier", "dollars"), [
    (4.8, "high", 200.0), (4.0, "base", 150.0), (3.0, "low", 100.0),
])
def test_seed003_live_account_10k(score: float, tier: str, dollars: float) -> None:
    cfg = RiskConfig.preset("equity-conviction-live", env={}).conviction
    size = conviction_notional(10_000.0, score, cfg)
    assert size.cap == 300.0
    assert size.tier == tier
    assert size.capped == pytest.approx(dollars)
    assert not size.cap_bound


def test_conviction_without_cap_keeps_intended() -> None:
    size = conviction_notional(100_000.0, 5.0, Conviction())
    assert size.cap is None
    assert size.capped == size.intended == pytest.approx(2_000.0)


@pytest.mark.parametrize("score", [math.nan, math.inf, -math.inf])
def test_conviction_rejects_non_finite_score(score: float) -> None:
    with pytest.raises(InvalidInputError) as err:
        conviction_notional(10_000.0, score, Conviction())
    assert err.value.field == "score"


@pytest.mark.parametrize("equity", [0.0, -5.0, math.nan, math.inf])
def test_conviction_rejects_bad_equity(equity: float) -> None:
    with pytest.raises(InvalidInputError) as err:
        conviction_notional(equity, 4.0, Conviction())
    assert err.value.field == "equity"
