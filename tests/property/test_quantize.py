"""Quantization invariants of MarketRules.quantize_qty and the sizing quantity helpers."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from riskdesk.domain import MarketRules, Rounding, quantize_to_step
from riskdesk.sizing import notional_to_qty

steps = st.sampled_from(["1", "0.1", "0.01", "0.001", "0.0001", "0.00001", "5", "0.25"])
qtys = st.decimals(min_value=0, max_value=10**6, allow_nan=False, allow_infinity=False,
                   places=8)


@st.composite
def market_rules(draw: st.DrawFn) -> MarketRules:
    step = Decimal(draw(steps))
    min_units = draw(st.integers(0, 50))
    max_units = draw(st.one_of(st.none(), st.integers(max(min_units, 1), 10**6)))
    return MarketRules(
        "X", step=step, tick=Decimal("0.01"), min_qty=step * min_units,
        max_qty=None if max_units is None else step * max_units,
        min_notional=Decimal(draw(st.sampled_from(["0", "5", "10", "100"]))),
        contract_size=Decimal(draw(st.sampled_from(["1", "0.001", "10", "100"]))),
    )


@given(market_rules(), qtys, st.decimals(min_value=Decimal("0.01"), max_value=10**5,
                                         places=2))
def test_quantized_qty_is_on_grid_never_above_input_and_zero_or_above_minimums(
        rules: MarketRules, qty: Decimal, price: Decimal) -> None:
    q = rules.quantize_qty(qty, Rounding.DOWN, price=price)
    assert q % rules.step == 0
    assert 0 <= q <= qty
    if rules.max_qty is not None:
        assert q <= rules.max_qty
    if q != 0:
        assert q >= rules.min_qty
        assert rules.notional(q, price) >= rules.min_notional


@given(market_rules(), st.floats(0, 1e7, allow_nan=False), st.floats(1e-3, 1e6))
def test_notional_to_qty_never_exceeds_the_notional(rules: MarketRules, notional: float,
                                                    price: float) -> None:
    q = notional_to_qty(notional, price, rules)
    assert q % rules.step == 0
    value = q * Decimal(repr(price)) * rules.contract_size
    assert value <= Decimal(repr(notional))
    if q != 0:
        assert q >= rules.min_qty
        assert value >= rules.min_notional
    else:
        # zero only when one more step would not fit, or the minimums were not met
        one_more = (rules.step + 0) * Decimal(repr(price)) * rules.contract_size
        assert (one_more > Decimal(repr(notional)) or rules.min_qty > 0
                or rules.min_notional > 0 or rules.max_qty is not None)


@given(st.sampled_from(["1", "0.1", "0.001", "0.00001", "0.25", "5"]),
       st.decimals(min_value=-10**6, max_value=10**6, places=8))
def test_rounding_modes_bracket_the_value(step_text: str, value: Decimal) -> None:
    step = Decimal(step_text)
    down = quantize_to_step(value, step, Rounding.DOWN)
    up = quantize_to_step(value, step, Rounding.UP)
    floor = quantize_to_step(value, step, Rounding.FLOOR)
    ceiling = quantize_to_step(value, step, Rounding.CEILING)
    nearest = quantize_to_step(value, step, Rounding.HALF_EVEN)
    for q in (down, up, floor, ceiling, nearest):
        assert q % step == 0
    assert floor <= value <= ceiling
    assert ceiling - floor == (0 if value % step == 0 else step)
    assert abs(down) <= abs(value) <= abs(up)
    assert abs(nearest - value) * 2 <= step
