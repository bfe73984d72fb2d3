"""Seed 001's liquidity-aware sizing from order book levels."""

from __future__ import annotations

import math

import pytest

from riskdesk.config import Liquidity, RiskConfig
from riskdesk.domain import BookLevel, ExecutionMethod
from riskdesk.errors import ConfigError, InvalidInputError
from riskdesk.sizing import liquidity_advice

# Asks 100.0, 100.1, ... 100.9 with 10 units each: $1,000-odd per level.
ASKS = [BookLevel(100.0 + 0.1 * i, 10.0) for i in range(10)]
NEAR5 = sum(lvl.price * lvl.size for lvl in ASKS[:5])


@pytest.fixture
def cfg() -> Liquidity:
    return RiskConfig.preset("crypto-capital-manager", env={}).liquidity


def test_small_order_fills_at_best(cfg: Liquidity) -> None:
    adv = liquidity_advice(500.0, 100.0, ASKS, cfg)
    assert adv.impact == 0.0
    assert adv.multiplier == 1.0
    assert adv.visible_liquidity == pytest.approx(NEAR5)
    assert adv.execution_method is ExecutionMethod.LIMIT  # 500 / 5,010 < 10%


def test_impact_is_average_fill_against_best(cfg: Liquidity) -> None:
    # 25 units: 10 @ 100.0, 10 @ 100.1, 5 @ 100.2 -> average 100.08 -> 0.08% impact.
    adv = liquidity_advice(2_500.0, 100.0, ASKS, cfg)
    assert adv.impact == pytest.approx((10 * 100.0 + 10 * 100.1 + 5 * 100.2) / 25 / 100 - 1)
    assert adv.multiplier == 1.0


def test_moderate_impact_cuts_40_percent(cfg: Liquidity) -> None:
    # 50 units over levels 100.0..100.4: average 100.2 -> 0.2%; 55 units average > 0.2%.
    adv = liquidity_advice(5_500.0, 100.0, ASKS, cfg)
    assert 0.002 < adv.impact <= 0.005
    assert adv.multiplier == pytest.approx(0.6)


def test_severe_impact_cuts_70_percent(cfg: Liquidity) -> None:
    book = [BookLevel(100.0, 1.0), BookLevel(101.0, 100.0)]
    adv = liquidity_advice(5_000.0, 100.0, book, cfg)
    assert adv.impact > 0.005
    assert adv.multiplier == pytest.approx(0.3)


def test_order_larger_than_the_book_is_severe(cfg: Liquidity) -> None:
    adv = liquidity_advice(1_000_000.0, 100.0, ASKS, cfg)
    assert adv.multiplier == pytest.approx(0.3)
    assert "exceeds" in adv.note


@pytest.mark.parametrize(("notional", "method"), [
    (500.0, ExecutionMethod.LIMIT),     # ~10.0% boundary below
    (700.0, ExecutionMethod.TWAP),      # ~14% of visible
    (1_400.0, ExecutionMethod.ICEBERG),  # ~28% of visible
])
def test_execution_method_by_share_of_visible_liquidity(cfg: Liquidity, notional: float,
                                                        method: ExecutionMethod) -> None:
    assert liquidity_advice(notional, 100.0, ASKS, cfg).execution_method is method


def test_empty_book_is_neutral_with_a_note(cfg: Liquidity) -> None:
    adv = liquidity_advice(10_000.0, 100.0, [], cfg)
    assert adv.multiplier == 1.0
    assert adv.execution_method is ExecutionMethod.LIMIT
    assert "no order book" in adv.note


def test_book_with_no_size_is_severe(cfg: Liquidity) -> None:
    adv = liquidity_advice(100.0, 100.0, [BookLevel(100.0, 0.0)], cfg)
    assert adv.multiplier == pytest.approx(0.3)


def test_disabled_is_neutral() -> None:
    adv = liquidity_advice(1e6, 100.0, ASKS, Liquidity(enabled=False))
    assert adv.multiplier == 1.0
    assert "disabled" in adv.note


def test_bids_side_impact_is_positive() -> None:
    bids = [BookLevel(100.0 - 0.5 * i, 10.0) for i in range(5)]
    adv = liquidity_advice(2_000.0, 100.0, bids, Liquidity())
    assert adv.impact == pytest.approx(1 - (10 * 100.0 + 10 * 99.5) / 20 / 100)


def test_thresholds_come_from_config() -> None:
    cfg = Liquidity(impact_moderate=0.0001, impact_severe=0.01, twap_fraction=0.01,
                    iceberg_fraction=0.9)
    adv = liquidity_advice(2_500.0, 100.0, ASKS, cfg)
    assert adv.multiplier == pytest.approx(0.6)
    assert adv.execution_method is ExecutionMethod.TWAP


@pytest.mark.parametrize(("notional", "price", "levels", "field"), [
    (-1.0, 100.0, ASKS, "notional"), (math.nan, 100.0, ASKS, "notional"),
    (100.0, 0.0, ASKS, "price"),
    (100.0, 100.0, [BookLevel(math.nan, 1.0)], "levels[0].price"),
    (100.0, 100.0, [BookLevel(100.0, 1.0), BookLevel(100.1, -1.0)], "levels[1].size"),
])
def test_rejects_bad_input(notional: float, price: float, levels: list[BookLevel],
                           field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        liquidity_advice(notional, price, levels, Liquidity())
    assert err.value.field == field


def test_config_requires_twap_below_iceberg() -> None:
    with pytest.raises(ConfigError, match="twap_fraction"):
        RiskConfig.from_mapping({"liquidity": {"twap_fraction": 0.5,
                                               "iceberg_fraction": 0.2}}, env={})


def test_note_and_detail_fields(cfg: Liquidity) -> None:
    adv = liquidity_advice(2_500.0, 100.0, ASKS, cfg)
    assert adv.levels_walked == 3
    assert not adv.exceeds_book
    assert adv.share == pytest.approx(2_500.0 / NEAR5)
    assert "impact 0.0800% over 3 levels" in adv.note
    assert adv.execution_method is ExecutionMethod.ICEBERG  # half the visible liquidity
    assert "ICEBERG" in adv.note
    big = liquidity_advice(1_000_000.0, 100.0, ASKS, cfg)
    assert big.exceeds_book
    assert big.levels_walked == 10
