"""fraction_to_qty and notional_to_qty: margin, leverage, contract size and market rules."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from riskdesk.domain import MarketRules
from riskdesk.errors import InvalidInputError
from riskdesk.sizing import fixed_fraction_notional, fraction_to_qty, notional_to_qty

BTC = MarketRules("BTCUSDT", step="0.0001", tick="0.1", max_leverage=125)
ETH = MarketRules("ETHUSDT", step="0.01", tick="0.01", max_leverage=100)


SEED001_EXAMPLES = [
    # (equity, risk, leverage, price, rules, quantity) from seed 001's account examples
    (500.0, 0.03, 8.0, 50_000.0, BTC, "0.0003"),      # small: $15 at 8x -> 0.0003 BTC
    (2_500.0, 0.02, 7.0, 2_500.0, ETH, "0.02"),       # medium: $50 at 7x -> 0.02 ETH
    (10_000.0, 0.015, 4.0, 50_000.0, BTC, "0.0030"),  # large: $150 at 4x -> 0.003 BTC
]


@pytest.mark.parametrize(("equity", "risk", "leverage", "price", "rules", "qty"),
                         SEED001_EXAMPLES)
def test_seed001_examples_position_notional_to_quantity(
        equity: float, risk: float, leverage: float, price: float, rules: MarketRules,
        qty: str) -> None:
    # Seed 001's "position size" is the notional (risk x equity), not the margin.
    notional = fixed_fraction_notional(equity, risk)
    assert notional_to_qty(notional, price, rules) == Decimal(qty)


@pytest.mark.parametrize(("equity", "margin_fraction", "leverage", "price", "qty"), [
    (500.0, 0.00375, 8.0, 50_000.0, "0.0003"),    # small: $1.875 margin x 8 = $15
    (10_000.0, 0.00375, 4.0, 50_000.0, "0.0030"),  # large: $37.50 margin x 4 = $150
])
def test_seed001_examples_as_margin_fractions(equity: float, margin_fraction: float,
                                              leverage: float, price: float,
                                              qty: str) -> None:
    assert fraction_to_qty(margin_fraction, equity, price, leverage, BTC) == Decimal(qty)


def test_fraction_a_hair_below_a_step_loses_the_step() -> None:
    # 0.02 / 7 is not representable: the float is a hair below 2/700, so the exact notional
    # is a hair below $50 and the quantity rounds down to 0.01 ETH. Never past the cap.
    assert fraction_to_qty(0.02 / 7.0, 2_500.0, 2_500.0, 7.0, ETH) == Decimal("0.01")


def test_fraction_is_margin_so_notional_is_fraction_equity_leverage() -> None:
    # 10% of $1,000 as margin at 5x = $500 notional = 0.01 BTC at $50,000.
    assert fraction_to_qty(0.10, 1_000.0, 50_000.0, 5.0, BTC) == Decimal("0.0100")


def test_available_margin_clips() -> None:
    # Wants $100 of margin, only $40 free: 40 x 5 / 50,000 = 0.004.
    q = fraction_to_qty(0.10, 1_000.0, 50_000.0, 5.0, BTC, available_margin=40.0)
    assert q == Decimal("0.0040")
    assert fraction_to_qty(0.10, 1_000.0, 50_000.0, 5.0, BTC, available_margin=0.0) == 0


def test_leverage_above_market_maximum_is_lowered() -> None:
    spot = MarketRules("BTCUSDT", step="0.0001", tick="0.1")  # max_leverage 1
    assert fraction_to_qty(0.10, 1_000.0, 50_000.0, 5.0, spot) == Decimal("0.0020")


def test_contract_size_divides_quantity() -> None:
    opt = MarketRules("SPX_C", step="1", tick="0.05", contract_size="100", max_leverage=1)
    # $2,000 at $6.50 x 100 per contract = 3.07 contracts -> 3
    assert fraction_to_qty(0.2, 10_000.0, 6.5, 1.0, opt) == 3


def test_rounds_down_and_respects_minimums() -> None:
    rules = MarketRules("X", step="0.001", tick="0.01", min_qty="0.01", min_notional="5")
    assert fraction_to_qty(0.5, 20.0, 1.0, 1.0, rules) == Decimal("10.000")
    assert fraction_to_qty(0.5, 20.0009, 1.0, 1.0, rules) == Decimal("10.000")
    # 0.009 units is below min_qty; 4.99 notional is below min_notional
    assert fraction_to_qty(0.009, 1.0, 1.0, 1.0, rules) == 0
    assert fraction_to_qty(0.499, 10.0, 1.0, 1.0, rules) == 0


def test_max_qty_caps() -> None:
    rules = MarketRules("X", step="1", tick="0.01", max_qty="7")
    assert fraction_to_qty(1.0, 1_000.0, 10.0, 1.0, rules) == 7


def test_float_noise_does_not_drop_a_step() -> None:
    # 0.3 x 3 / 0.1 is 8.999999999999998 in float; the exact answer is 9.
    rules = MarketRules("X", step="1", tick="0.01")
    assert 0.3 * 3.0 * 1.0 / 0.1 < 9.0
    assert fraction_to_qty(0.3, 3.0, 0.1, 1.0, rules) == 9


@pytest.mark.parametrize(("args", "kwargs", "field"), [
    ((1.5, 1e3, 10.0, 1.0), {}, "fraction"),
    ((-0.1, 1e3, 10.0, 1.0), {}, "fraction"),
    ((math.nan, 1e3, 10.0, 1.0), {}, "fraction"),
    ((0.1, 0.0, 10.0, 1.0), {}, "equity"),
    ((0.1, math.inf, 10.0, 1.0), {}, "equity"),
    ((0.1, 1e3, -1.0, 1.0), {}, "price"),
    ((0.1, 1e3, math.nan, 1.0), {}, "price"),
    ((0.1, 1e3, 10.0, 0.5), {}, "leverage"),
    ((0.1, 1e3, 10.0, math.inf), {}, "leverage"),
    ((0.1, 1e3, 10.0, 1.0), {"available_margin": -1.0}, "available_margin"),
    ((0.1, 1e3, 10.0, 1.0), {"available_margin": math.nan}, "available_margin"),
])
def test_fraction_to_qty_rejects_bad_input(args: tuple[float, float, float, float],
                                           kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        fraction_to_qty(*args, BTC, **kwargs)
    assert err.value.field == field


@pytest.mark.parametrize(("notional", "price", "field"), [
    (-1.0, 10.0, "notional"), (math.nan, 10.0, "notional"), (10.0, 0.0, "price"),
])
def test_notional_to_qty_rejects_bad_input(notional: float, price: float, field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        notional_to_qty(notional, price, BTC)
    assert err.value.field == field


def test_absurd_quantities_are_input_errors() -> None:
    with pytest.raises(InvalidInputError) as err:
        notional_to_qty(1e12, 1e-6, BTC)  # 1e18 BTC
    assert err.value.field == "quantity"
    with pytest.raises(InvalidInputError) as err:
        notional_to_qty(1e10, 1e-320, BTC)  # value per step underflows to zero
    assert err.value.field == "price"
