"""Risk-reducing orders: never blocked by a rule meant for openers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskdesk import (
    AccountState,
    Action,
    Intent,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    RiskConfig,
    Side,
    Signal,
)
from riskdesk.desk import Desk

NOW = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
R = ReasonCode
CFG = RiskConfig.preset("default", env={})


def account(pos: Position, **kw) -> AccountState:
    kw.setdefault("as_of", NOW)
    kw.setdefault("available", Decimal(50_000))
    return AccountState(equity=Decimal(100_000), positions=(pos,), **kw)


def market(price: str = "100", **kw) -> MarketSnapshot:
    rules = MarketRules("AAPL", step=kw.pop("step", "1"), tick="0.01",
                        max_qty=kw.pop("max_qty", None), min_notional=kw.pop("min_notional", "0"))
    kw.setdefault("as_of", NOW)
    return MarketSnapshot(rules, price=Decimal(price), **kw)


LONG = Position("AAPL", "LONG", 40, 90)


def test_opposite_side_order_closes_the_position():
    d = Desk(CFG).recommend(Signal("AAPL", "SHORT"), account(LONG), market(), now=NOW)
    assert (d.action, d.intent, d.side) == (Action.ENTER, Intent.REDUCE, Side.SHORT)
    assert d.quantity == 40
    assert d.notional == 4_000
    assert d.margin_required == 0


def test_reduce_only_on_the_same_side_reduces_too():
    d = Desk(CFG).recommend(Signal("AAPL", "LONG", reduce_only=True), account(LONG), market(),
                            now=NOW)
    assert (d.intent, d.side, d.quantity) == (Intent.REDUCE, Side.SHORT, Decimal(40))


@pytest.mark.parametrize("state", ["HALTED", "REDUCING"])
def test_reducers_pass_a_halted_or_reducing_desk_with_caution(state):
    desk = Desk(CFG)
    desk.set_trading_state(state, operator="ops", note="x", now=NOW)
    d = desk.recommend(Signal("AAPL", "SHORT"), account(LONG), market(), now=NOW)
    assert d.action is Action.CAUTION
    assert d.approved
    assert d.quantity == 40
    assert d.reasons[0] in (R.TRADING_HALTED, R.TRADING_REDUCING)


def test_reducers_pass_margin_red_drawdown_and_loss_limits():
    a = account(LONG, margin_used=Decimal(95_000), available=Decimal(5_000),
                high_water_mark=Decimal(150_000), day_start_equity=Decimal(120_000))
    d = Desk(CFG).recommend(Signal("AAPL", "SHORT"), a, market(), now=NOW)
    assert d.approved
    assert d.quantity == 40
    assert d.action is Action.CAUTION
    assert set(d.reasons) >= {R.TRADING_HALTED}


def test_reducers_pass_with_stale_state_flagged():
    a = account(LONG, as_of=NOW - timedelta(minutes=10))
    d = Desk(CFG).recommend(Signal("AAPL", "SHORT"), a, market(as_of=None), now=NOW)
    assert d.approved
    assert d.action is Action.CAUTION
    assert d.reasons == (R.STATE_STALE, R.MARKET_STALE)


def test_dust_close_passes_below_every_minimum():
    tiny = Position("AAPL", "LONG", 1, 5)
    d = Desk(CFG).recommend(Signal("AAPL", "SHORT"), account(tiny),
                            market("3", min_notional="10"), now=NOW)
    assert d.approved
    assert d.quantity == 1
    assert R.DUST_CLOSE in [a.code for a in d.trail]


def test_reducer_notional_cap_and_market_max_shrink_but_do_not_deny():
    big = Position("AAPL", "LONG", 400, 90)
    d = Desk(CFG).recommend(Signal("AAPL", "SHORT"), account(big), market(), now=NOW)
    assert d.quantity == 150
    assert d.binding_cap is R.CAP_ORDER_NOTIONAL
    m = Desk(CFG).recommend(Signal("AAPL", "SHORT"), account(big), market(max_qty="60"),
                            now=NOW)
    assert m.quantity == 60
    assert m.binding_cap is R.CAP_MARKET_MAX_QTY


def test_off_grid_position_is_closed_exactly():
    odd = Position("AAPL", "LONG", Decimal("1.5"), 90)
    d = Desk(CFG).recommend(Signal("AAPL", "SHORT"), account(odd), market(), now=NOW)
    assert d.quantity == Decimal("1.5")


def test_reducer_ignores_restricted_symbols_and_spread():
    cfg = RiskConfig.from_mapping({**CFG.model_dump(), "risk_management": {
        **CFG.risk_management.model_dump(), "restricted_symbols": ["AAPL"]}}, env={})
    d = Desk(cfg).recommend(Signal("AAPL", "SHORT"), account(LONG),
                            market(bid=Decimal(90), ask=Decimal(110)), now=NOW)
    assert d.action is Action.ENTER
    assert d.quantity == 40
