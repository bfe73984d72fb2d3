"""Stop-distance risk sizing, ATR stops and volatility targeting."""

from __future__ import annotations

import math

import pytest

from riskdesk.domain import Side
from riskdesk.errors import InvalidInputError
from riskdesk.sizing import atr_stop_price, stop_distance_qty, volatility_target_notional


@pytest.mark.parametrize(("risk", "entry", "stop", "cs", "qty"), [
    (100.0, 50.0, 48.0, 1.0, 50.0),     # long, $2 stop
    (100.0, 50.0, 52.0, 1.0, 50.0),     # short, same distance
    (150.0, 100.0, 97.0, 1.0, 50.0),
    (500.0, 5.0, 4.0, 100.0, 5.0),      # options: $1 x 100 per contract
    (0.0, 50.0, 48.0, 1.0, 0.0),
])
def test_stop_distance_qty_table(risk: float, entry: float, stop: float, cs: float,
                                 qty: float) -> None:
    assert stop_distance_qty(risk, entry, stop, cs) == pytest.approx(qty)


def test_loss_at_stop_equals_risk_amount() -> None:
    qty = stop_distance_qty(250.0, 101.3, 98.7, 10.0)
    assert qty * abs(101.3 - 98.7) * 10.0 == pytest.approx(250.0)


@pytest.mark.parametrize(("args", "field"), [
    ((-1.0, 50.0, 48.0), "risk_amount"), ((math.nan, 50.0, 48.0), "risk_amount"),
    ((100.0, 0.0, 48.0), "entry"), ((100.0, math.inf, 48.0), "entry"),
    ((100.0, 50.0, -1.0), "stop"), ((100.0, 50.0, 50.0), "stop"),
    ((100.0, 50.0, 48.0, 0.0), "contract_size"),
])
def test_stop_distance_qty_rejects_bad_input(args: tuple[float, ...], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        stop_distance_qty(*args)
    assert err.value.field == field


def test_atr_stop_price_sides() -> None:
    assert atr_stop_price(100.0, 2.5, 2.0, Side.LONG) == pytest.approx(95.0)
    assert atr_stop_price(100.0, 2.5, 2.0, Side.SHORT) == pytest.approx(105.0)


def test_atr_stop_feeds_stop_distance_sizing() -> None:
    stop = atr_stop_price(200.0, 4.0, 1.5, Side.LONG)
    assert stop_distance_qty(60.0, 200.0, stop) == pytest.approx(10.0)


@pytest.mark.parametrize(("args", "field"), [
    ((0.0, 1.0, 2.0, Side.LONG), "entry"), ((100.0, 0.0, 2.0, Side.LONG), "atr"),
    ((100.0, math.nan, 2.0, Side.LONG), "atr"), ((100.0, 1.0, -2.0, Side.LONG), "multiple"),
    ((100.0, 60.0, 2.0, Side.LONG), "atr"),   # long stop would be at or below zero
])
def test_atr_stop_rejects_bad_input(args: tuple[float, float, float, Side], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        atr_stop_price(*args)
    assert err.value.field == field


def test_atr_stop_rejects_unknown_side() -> None:
    with pytest.raises(InvalidInputError) as err:
        atr_stop_price(100.0, 1.0, 2.0, "LONG")  # type: ignore[arg-type]
    assert err.value.field == "side"


@pytest.mark.parametrize(("equity", "target", "vol", "notional"), [
    (10_000.0, 0.01, 0.04, 2_500.0), (10_000.0, 0.01, 0.01, 10_000.0),
    (50_000.0, 0.02, 0.5, 2_000.0), (10_000.0, 0.0, 0.2, 0.0),
])
def test_volatility_target_table(equity: float, target: float, vol: float,
                                 notional: float) -> None:
    assert volatility_target_notional(equity, target, vol) == pytest.approx(notional)


@pytest.mark.parametrize(("args", "field"), [
    ((0.0, 0.01, 0.1), "equity"), ((1e4, -0.01, 0.1), "target_vol"),
    ((1e4, 0.01, 0.0), "asset_vol"), ((1e4, 0.01, math.nan), "asset_vol"),
])
def test_volatility_target_rejects_bad_input(args: tuple[float, float, float],
                                             field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        volatility_target_notional(*args)
    assert err.value.field == field
