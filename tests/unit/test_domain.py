"""Domain value types: exact quantization and clear errors for bad numbers."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from riskdesk.domain import (
    AccountState,
    Action,
    BookLevel,
    Decision,
    Intent,
    MarketRules,
    MarketSnapshot,
    Position,
    Regime,
    Rounding,
    Side,
    Signal,
    quantize_to_step,
    to_decimal,
)
from riskdesk.errors import InvalidInputError

D = Decimal
NOW = datetime(2025, 1, 2, 15, 0, tzinfo=UTC)
BAD_NUMBERS = [math.nan, math.inf, -math.inf, "nan", "Infinity", "abc", None, True]


def rules(**kw: object) -> MarketRules:
    args: dict[str, object] = {"symbol": "BTCUSDT", "step": "0.001", "tick": "0.1"}
    args.update(kw)
    return MarketRules(**args)  # type: ignore[arg-type]


# ------------------------------------------------------------------ to_decimal
@pytest.mark.parametrize(("value", "expected"), [
    (0.1, D("0.1")), (1, D(1)), ("2.50", D("2.50")), (D("3.3"), D("3.3")), (1e-8, D("1e-8")),
])
def test_to_decimal_converts_exactly(value: object, expected: Decimal) -> None:
    assert to_decimal(value, "x") == expected


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_to_decimal_rejects_non_numbers(value: object) -> None:
    with pytest.raises(InvalidInputError) as err:
        to_decimal(value, "account.equity")
    assert err.value.field == "account.equity"
    assert "account.equity" in str(err.value)


def test_to_decimal_sign_zero_and_magnitude() -> None:
    with pytest.raises(InvalidInputError, match=">= 0"):
        to_decimal(-1, "x")
    assert to_decimal(-1, "x", allow_negative=True) == -1
    with pytest.raises(InvalidInputError, match="> 0"):
        to_decimal(0, "x", allow_zero=False)
    with pytest.raises(InvalidInputError, match="magnitude"):
        to_decimal("1e16", "x")


@pytest.mark.parametrize(("value", "step", "mode", "out"), [
    ("1.2345", "0.01", Rounding.DOWN, "1.23"), ("1.2355", "0.01", Rounding.UP, "1.24"),
    ("-1.235", "0.01", Rounding.DOWN, "-1.23"), ("-1.235", "0.01", Rounding.FLOOR, "-1.24"),
    ("1.231", "0.01", Rounding.CEILING, "1.24"), ("1.245", "0.01", Rounding.HALF_EVEN, "1.24"),
    ("7", "5", Rounding.DOWN, "5"), ("0.0029", "0.001", Rounding.DOWN, "0.002"),
    ("0", "0.001", Rounding.DOWN, "0.000"),
])
def test_quantize_to_step_table(value: str, step: str, mode: Rounding, out: str) -> None:
    q = quantize_to_step(D(value), D(step), mode)
    assert q == D(out)
    assert str(q) == out


# ------------------------------------------------------------------ MarketRules
@pytest.mark.parametrize(("kw", "field"), [
    ({"step": 0}, "rules.step"), ({"step": "-0.1"}, "rules.step"),
    ({"step": math.nan}, "rules.step"), ({"tick": 0}, "rules.tick"),
    ({"tick": math.inf}, "rules.tick"), ({"min_qty": -1}, "rules.min_qty"),
    ({"max_qty": 0}, "rules.max_qty"), ({"min_qty": 5, "max_qty": 1}, "rules.max_qty"),
    ({"min_notional": math.nan}, "rules.min_notional"),
    ({"contract_size": 0}, "rules.contract_size"), ({"max_leverage": 0.5}, "rules.max_leverage"),
    ({"symbol": ""}, "rules.symbol"), ({"symbol": "  "}, "rules.symbol"),
])
def test_market_rules_reject_bad_values(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        rules(**kw)
    assert err.value.field == field


def test_market_rules_convert_to_decimal() -> None:
    r = rules(min_qty=0.001, contract_size=1, max_leverage=125)
    assert r.step == D("0.001")
    assert r.min_qty == D("0.001")
    assert r.max_leverage == D(125)


@pytest.mark.parametrize(("qty", "mode", "kw", "out"), [
    ("0.0129", Rounding.DOWN, {}, "0.012"),
    ("0.0121", Rounding.UP, {}, "0.013"),
    ("5.5", Rounding.DOWN, {"max_qty": "5"}, "5.000"),
    ("0.0009", Rounding.DOWN, {"min_qty": "0.001"}, "0.000"),
    ("0.0019", Rounding.DOWN, {"min_qty": "0.002"}, "0.000"),
])
def test_quantize_qty_table(qty: str, mode: Rounding, kw: dict[str, str], out: str) -> None:
    q = rules(**kw).quantize_qty(D(qty), mode)
    assert q == D(out)


def test_quantize_qty_min_notional_with_price() -> None:
    r = rules(min_notional="10")
    assert r.quantize_qty(D("0.0001"), price=D("50000")) == 0     # below one step
    assert r.quantize_qty(D("0.0002"), price=D("50000")) == 0     # 0.000 after rounding
    assert r.quantize_qty(D("0.001"), price=D("5000")) == 0       # $5 < $10
    assert r.quantize_qty(D("0.002"), price=D("5000")) == D("0.002")


@pytest.mark.parametrize("qty", [math.nan, math.inf, -1, "x"])
def test_quantize_qty_rejects_bad_quantity(qty: object) -> None:
    with pytest.raises(InvalidInputError) as err:
        rules().quantize_qty(qty)  # type: ignore[arg-type]
    assert err.value.field == "quantity"


@pytest.mark.parametrize(("price", "mode", "out"), [
    ("100.04", Rounding.HALF_EVEN, "100.0"), ("100.06", Rounding.HALF_EVEN, "100.1"),
    ("100.01", Rounding.CEILING, "100.1"), ("100.09", Rounding.FLOOR, "100.0"),
])
def test_quantize_price(price: str, mode: Rounding, out: str) -> None:
    assert rules().quantize_price(D(price), mode) == D(out)


@pytest.mark.parametrize("price", [0, -5, math.nan, math.inf, "0.01"])
def test_quantize_price_rejects_bad_or_sub_tick_prices(price: object) -> None:
    with pytest.raises(InvalidInputError) as err:
        rules().quantize_price(price)  # type: ignore[arg-type]
    assert err.value.field == "price"


def test_notional_uses_contract_size() -> None:
    r = rules(contract_size="100", step="1")
    assert r.notional(D(3), D("2.5")) == D("750.0")


# ------------------------------------------------------------------ MarketSnapshot
@pytest.mark.parametrize(("kw", "field"), [
    ({"price": 0}, "market.price"), ({"price": -1}, "market.price"),
    ({"price": math.nan}, "market.price"), ({"price": math.inf}, "market.price"),
    ({"bid": -1}, "market.bid"), ({"ask": math.nan}, "market.ask"),
    ({"bid": 101, "ask": 100}, "market.bid"), ({"atr": -1}, "market.atr"),
    ({"volatility": math.nan}, "market.volatility"), ({"vix": math.inf}, "market.vix"),
    ({"as_of": datetime(2025, 1, 1)}, "market.as_of"),
    ({"asks": (BookLevel(-1.0, 1.0),)}, "market.asks[0].price"),
    ({"bids": (BookLevel(1.0, 1.0), BookLevel(0.9, math.nan))}, "market.bids[1].size"),
])
def test_snapshot_rejects_bad_values(kw: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"rules": rules(), "price": 100}
    args.update(kw)
    with pytest.raises(InvalidInputError) as err:
        MarketSnapshot(**args)  # type: ignore[arg-type]
    assert err.value.field == field


def test_snapshot_derived_figures() -> None:
    snap = MarketSnapshot(rules(), price=100, bid=99.9, ask=100.1, atr=2,
                          asks=((100.1, 3),))  # type: ignore[arg-type]
    assert snap.mid == D("100.0")
    assert snap.spread_bps == pytest.approx(20.0)
    assert snap.atr_pct == pytest.approx(0.02)
    assert snap.asks == (BookLevel(100.1, 3.0),)
    assert MarketSnapshot(rules(), price=D(100), volatility=0.03).atr_pct == 0.03
    assert MarketSnapshot(rules(), price=D(100)).spread_bps is None


# ------------------------------------------------------------------ account, position, signal
@pytest.mark.parametrize(("kw", "field"), [
    ({"equity": 0}, "account.equity"), ({"equity": math.nan}, "account.equity"),
    ({"equity": -100}, "account.equity"), ({"available": -1}, "account.available"),
    ({"available": math.inf}, "account.available"),
    ({"margin_used": math.nan}, "account.margin_used"),
    ({"as_of": datetime(2025, 1, 1)}, "account.as_of"),
    ({"trades_today": -1}, "account.trades_today"),
    ({"positions": ("BTC",)}, "account.positions[0]"),
])
def test_account_rejects_bad_values(kw: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"equity": 1000, "available": 500}
    args.update(kw)
    with pytest.raises(InvalidInputError) as err:
        AccountState(**args)  # type: ignore[arg-type]
    assert err.value.field == field


def test_account_drawdown_and_defaults() -> None:
    acct = AccountState(equity=D(900), available=D(400), high_water_mark=D(1000),
                        margin_used=D(90), day_start_equity=D(1000), as_of=NOW)
    assert acct.drawdown == pytest.approx(0.1)
    assert acct.margin_used_pct == pytest.approx(0.1)
    assert acct.daily_pnl_pct == pytest.approx(-0.1)
    assert acct.buying_power == D(400)
    # a high-water mark below equity is raised to equity
    assert AccountState(equity=D(10), available=D(1), high_water_mark=D(5)).drawdown == 0.0


@pytest.mark.parametrize(("kw", "field"), [
    ({"quantity": 0}, "position.quantity"), ({"quantity": math.nan}, "position.quantity"),
    ({"entry_price": -1}, "position.entry_price"),
    ({"entry_price": math.inf}, "position.entry_price"),
    ({"mark_price": 0}, "position.mark_price"), ({"leverage": 0.5}, "position.leverage"),
    ({"side": "UP"}, "position.side"), ({"stop_price": -1}, "position.stop_price"),
])
def test_position_rejects_bad_values(kw: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"symbol": "BTC", "side": Side.LONG, "quantity": 1,
                               "entry_price": 100}
    args.update(kw)
    with pytest.raises(InvalidInputError) as err:
        Position(**args)  # type: ignore[arg-type]
    assert err.value.field == field


def test_position_figures() -> None:
    p = Position("BTC", "sell", D(2), D(100), mark_price=D(90), leverage=D(5))  # type: ignore[arg-type]
    assert p.side is Side.SHORT
    assert p.notional == D(180)
    assert p.signed_notional == D(-180)
    assert p.margin == D(36)
    assert p.unrealized_pnl == D(20)


@pytest.mark.parametrize(("kw", "field"), [
    ({"score": math.nan}, "signal.score"), ({"strength": math.inf}, "signal.strength"),
    ({"win_rate": 1.5}, "signal.win_rate"), ({"win_rate": -0.1}, "signal.win_rate"),
    ({"win_loss_ratio": 0}, "signal.win_loss_ratio"), ({"regime": "MOON"}, "signal.regime"),
    ({"stop_price": 0}, "signal.stop_price"), ({"symbol": ""}, "signal.symbol"),
    ({"side": "HOLD"}, "signal.side"),
])
def test_signal_rejects_bad_values(kw: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"symbol": "BTC", "side": "BUY"}
    args.update(kw)
    with pytest.raises(InvalidInputError) as err:
        Signal(**args)  # type: ignore[arg-type]
    assert err.value.field == field


def test_signal_normalises() -> None:
    s = Signal("BTC", "buy", score=75, regime="trending")  # type: ignore[arg-type]
    assert s.side is Side.LONG
    assert s.regime is Regime.TRENDING
    assert s.score == 75.0


def test_decision_to_dict_keeps_decimals_as_strings() -> None:
    d = Decision(Action.ENTER, "BTC", Side.LONG, Intent.OPEN, quantity=D("0.0030"),
                 price=D("50000.0"), notional=D("150.00"))
    out = d.to_dict()
    assert out["quantity"] == "0.0030"
    assert out["notional"] == "150.00"
    assert d.approved
    assert not Decision(Action.REJECT, "BTC", Side.LONG, Intent.OPEN).approved


def test_an_equity_below_the_minimum_is_refused_by_name() -> None:
    from riskdesk.domain import MIN_EQUITY

    AccountState(equity=MIN_EQUITY, available=Decimal(0))
    for field, kwargs in (("account.equity", {"equity": MIN_EQUITY / 10}),
                          ("account.day_start_equity",
                           {"equity": Decimal(100), "day_start_equity": Decimal("1e-300")}),
                          ("account.week_start_equity",
                           {"equity": Decimal(100), "week_start_equity": Decimal("1e-9")})):
        with pytest.raises(InvalidInputError) as info:
            AccountState(available=Decimal(0), **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
