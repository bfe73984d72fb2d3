"""The stop a decision was sized with, the order's own symbol in the opportunity step, and one
net position per symbol in an account state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskdesk import (
    AccountState,
    Action,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    RiskConfig,
    Side,
    Signal,
)
from riskdesk.api._responses import PlanDecisionOut, RecommendationOut
from riskdesk.config import Opportunity
from riskdesk.desk import Desk
from riskdesk.errors import InvalidInputError
from riskdesk.exits import plan_for_decision
from riskdesk.limits import OpportunityAction, opportunity_cost
from riskdesk.service._adapters import plan_decision_view
from riskdesk.service._deciding import refused_for_budget
from riskdesk.service._views import recommendation_view
from riskdesk.sizing import atr_stop_price
from riskdesk.store import ReservationOutcome

D = Decimal
NOW = datetime(2025, 7, 1, 15, 30, tzinfo=UTC)
R = ReasonCode


def _cfg(method: str, **sizing: object) -> RiskConfig:
    return RiskConfig.model_validate({"position_sizing": {"method": method,
                                                          "risk_per_trade": 0.01, **sizing}})


def _market(symbol: str = "X", price: str = "100", **kw: object) -> MarketSnapshot:
    p = D(price)
    return MarketSnapshot(MarketRules(symbol, step="0.001", tick="0.1",
                                      max_leverage=kw.pop("max_leverage", "1")),  # type: ignore[arg-type]
                          price=p, bid=p - D("0.1"), ask=p + D("0.1"), as_of=NOW,
                          **kw)  # type: ignore[arg-type]


def _account(equity: float = 100_000, **kw: object) -> AccountState:
    kw.setdefault("available", D(repr(equity)))
    return AccountState(equity=D(repr(equity)), as_of=NOW, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------- the decision's stop
@pytest.mark.parametrize(("side", "stop"), [("LONG", D(99)), ("SHORT", D(101))])
def test_stop_risk_decision_records_the_signal_stop(side: str, stop: Decimal) -> None:
    cfg = _cfg("stop_risk")
    mkt = _market()
    d = Desk(cfg).recommend(Signal("X", side, stop_price=stop), _account(), mkt, now=NOW)
    assert d.approved
    assert d.stop_price == stop
    assert d.to_dict()["stop_price"] == str(stop)
    # 1% of 100,000 over a 1-point stop is 1,000 units; the plan keeps that risk
    plan = plan_for_decision(cfg.exits, d, mkt.rules)
    assert plan.stop == stop
    assert plan.risk_budget is not None
    assert plan.risk_budget <= D(1000)


@pytest.mark.parametrize("side", ["LONG", "SHORT"])
def test_stop_risk_decision_records_the_atr_stop_it_derived(side: str) -> None:
    cfg = _cfg("stop_risk", atr_stop_multiple=2.0)
    mkt = _market(atr=D("1.23"))
    d = Desk(cfg).recommend(Signal("X", side), _account(), mkt, now=NOW)
    assert d.approved
    expected = atr_stop_price(100.0, 1.23, 2.0, Side.parse(side))
    assert d.stop_price == D(repr(expected))
    assert f"at {expected:g}" in next(a.note for a in d.trail if a.code is R.STOP_RISK)
    plan = plan_for_decision(cfg.exits, d, mkt.rules)
    # on the tick, toward the entry: the plan never risks more than the size allowed
    assert plan.stop == (D("97.6") if side == "LONG" else D("102.4"))


def test_an_opener_refused_for_budget_at_commit_carries_no_stop() -> None:
    d = Desk(_cfg("stop_risk")).recommend(Signal("X", "LONG", stop_price=D(99)), _account(),
                                          _market(), now=NOW)
    assert d.stop_price == D(99)
    refused = refused_for_budget(d, ReservationOutcome(None, None, D(0), D(0), D(0)))
    assert refused.action is Action.REJECT
    assert refused.stop_price is None


def test_explicit_stop_still_wins_over_the_decision_stop() -> None:
    cfg = _cfg("stop_risk")
    mkt = _market()
    d = Desk(cfg).recommend(Signal("X", "LONG", stop_price=D(99)), _account(), mkt, now=NOW)
    assert plan_for_decision(cfg.exits, d, mkt.rules, stop_price=D("99.5")).stop == D("99.5")


def test_other_methods_carry_the_signal_stop_and_none_without_one() -> None:
    cfg = _cfg("fixed_fraction")
    mkt = _market()
    with_stop = Desk(cfg).recommend(Signal("X", "LONG", stop_price=D("97.5")), _account(), mkt,
                                    now=NOW)
    assert with_stop.approved
    assert with_stop.stop_price == D("97.5")
    assert plan_for_decision(cfg.exits, with_stop, mkt.rules).stop == D("97.5")
    without = Desk(cfg).recommend(Signal("X", "LONG"), _account(), mkt, now=NOW)
    assert without.approved
    assert without.stop_price is None
    assert without.to_dict()["stop_price"] is None
    # no stop on the decision: the configured stop, as before
    assert plan_for_decision(cfg.exits, without, mkt.rules).stop == D(98)


def test_denials_and_reducers_carry_no_stop() -> None:
    cfg = _cfg("stop_risk")
    mkt = _market()
    stale = AccountState(equity=D(100_000), available=D(100_000), as_of=NOW - timedelta(days=1))
    rejected = Desk(cfg).recommend(Signal("X", "LONG", stop_price=D(99)), stale, mkt, now=NOW)
    assert rejected.action is Action.REJECT
    assert rejected.stop_price is None
    held = _account(positions=(Position("X", "LONG", 10, 100),))
    close = Desk(cfg).recommend(Signal("X", "SHORT", stop_price=D(101)), held, mkt, now=NOW)
    assert close.approved
    assert close.stop_price is None


def test_batch_decisions_carry_the_same_stop() -> None:
    cfg = _cfg("stop_risk")
    mkt = _market(atr=D(1))
    sigs = [Signal("X", "LONG", stop_price=D(99)), Signal("X", "SHORT"), Signal("X", "LONG")]
    out = Desk(cfg).recommend_batch(sigs, _account(), [mkt] * 3, now=NOW)
    for i, s in enumerate(sigs):
        d = Desk(cfg).recommend(s, _account(), mkt, now=NOW)
        assert out.decision(i).stop_price == d.stop_price
    assert [out.decision(i).stop_price for i in range(3)] == [D(99), D(102), D(98)]


def test_api_views_of_a_decision_show_its_stop() -> None:
    d = Desk(_cfg("stop_risk")).recommend(Signal("X", "LONG", stop_price=D(99)), _account(),
                                          _market(), now=NOW)
    rec = RecommendationOut.model_validate(recommendation_view(d, decision_id=1,
                                                               reservation=None))
    assert rec.stop_price == "99"
    assert PlanDecisionOut.model_validate(plan_decision_view(d)).stop_price == "99"
    none = Desk(_cfg("fixed_fraction")).recommend(Signal("X", "LONG"), _account(), _market(),
                                                  now=NOW)
    assert RecommendationOut.model_validate(
        recommendation_view(none, decision_id=2, reservation=None)).stop_price is None


# --------------------------------------------------------- opportunity cost: own symbol
def _crypto() -> RiskConfig:
    return RiskConfig.preset("crypto-capital-manager", env={})


def _btc() -> MarketSnapshot:
    return _market("BTCUSDT", "50000", max_leverage="125", atr=D(1000))


def test_opportunity_never_closes_the_symbol_being_added_to() -> None:
    held = (Position("BTCUSDT", "LONG", D("0.01"), 50_000, leverage=5, score=50.0),)
    d = Desk(_crypto()).recommend(Signal("BTCUSDT", "LONG", score=75.0), _account(10_000,
                                  positions=held), _btc(), now=NOW)
    assert "BTCUSDT" not in d.close_symbols
    assert d.action is not Action.ENTER_AND_CLOSE_WORST
    # nothing else to replace: the rest of seed 001's tree (75 <= 80 with margin free: HOLD)
    assert d.action is Action.HOLD
    assert d.reasons == (R.OPPORTUNITY_HOLD,)


def test_opportunity_closes_the_worst_other_position() -> None:
    held = (Position("BTCUSDT", "LONG", D("0.01"), 50_000, leverage=5, score=50.0),
            Position("ETHUSDT", "LONG", D("0.1"), 3_000, leverage=5, score=60.0),
            Position("SOLUSDT", "LONG", D("1"), 150, leverage=5, score=68.0))
    acct = _account(10_000, positions=held)
    d = Desk(_crypto()).recommend(Signal("BTCUSDT", "LONG", score=75.0), acct, _btc(), now=NOW)
    assert d.action is Action.ENTER_AND_CLOSE_WORST
    assert d.close_symbols == ("ETHUSDT",)
    other = Desk(_crypto()).recommend(Signal("SOLUSDT", "LONG", score=75.0), acct,
                                      _market("SOLUSDT", "150", max_leverage="50"), now=NOW)
    assert other.close_symbols == ("BTCUSDT",)


def test_batch_opportunity_agrees_with_the_scalar_path() -> None:
    held = (Position("BTCUSDT", "LONG", D("0.01"), 50_000, leverage=5, score=50.0),
            Position("ETHUSDT", "LONG", D("0.1"), 3_000, leverage=5, score=60.0))
    acct = _account(10_000, positions=held)
    eth = _market("ETHUSDT", "3000", max_leverage="100", atr=D(60))
    sigs = [Signal("BTCUSDT", "LONG", score=75.0), Signal("BTCUSDT", "LONG", score=65.0),
            Signal("ETHUSDT", "LONG", score=75.0), Signal("BTCUSDT", "LONG", score=85.0)]
    mkts = [_btc(), _btc(), eth, _btc()]
    out = Desk(_crypto()).recommend_batch(sigs, acct, mkts, now=NOW)
    for i, (s, m) in enumerate(zip(sigs, mkts, strict=True)):
        d = Desk(_crypto()).recommend(s, acct, m, now=NOW)
        assert out.action_of(i) is d.action, i
        assert out.reasons_of(i) == d.reasons, i
        assert out.quantity[i] == float(d.quantity), i
        assert out.decision(i).close_symbols == d.close_symbols, i
    assert [out.action_of(i) for i in range(4)] == [
        Action.ENTER_AND_CLOSE_WORST, Action.HOLD, Action.ENTER_AND_CLOSE_WORST,
        Action.ENTER_AND_CLOSE_WORST]
    assert [out.decision(i).close_symbols for i in (0, 2, 3)] == [
        ("ETHUSDT",), ("BTCUSDT",), ("ETHUSDT",)]


def test_batch_with_only_the_orders_own_symbol_held_replaces_nothing() -> None:
    held = (Position("BTCUSDT", "LONG", D("0.01"), 50_000, leverage=5, score=50.0),)
    acct = _account(10_000, positions=held)
    sigs = [Signal("BTCUSDT", "LONG", score=75.0), Signal("BTCUSDT", "LONG", score=95.0)]
    out = Desk(_crypto()).recommend_batch(sigs, acct, [_btc(), _btc()], now=NOW)
    for i, s in enumerate(sigs):
        d = Desk(_crypto()).recommend(s, acct, _btc(), now=NOW)
        assert out.action_of(i) is d.action, i
        assert out.reasons_of(i) == d.reasons, i
        assert out.decision(i).close_symbols == ()
    assert [out.action_of(i) for i in range(2)] == [Action.HOLD, Action.ENTER]


def test_opportunity_cost_leaves_out_the_orders_own_symbol() -> None:
    held = [Position("BTCUSDT", "LONG", 1, 50_000, score=50.0),
            Position("ETHUSDT", "LONG", 1, 3_000, score=62.0)]
    cfg = Opportunity()
    assert opportunity_cost(75.0, held, 0.6, cfg).worst_symbol == "BTCUSDT"
    adv = opportunity_cost(75.0, held, 0.6, cfg, symbol="BTCUSDT")
    assert (adv.action, adv.worst_symbol, adv.worst_score) == (
        OpportunityAction.ENTER_AND_CLOSE_WORST, "ETHUSDT", 62.0)
    # a worst handed in that is the order's own symbol is looked up again without it
    adv = opportunity_cost(75.0, held, 0.6, cfg, symbol="BTCUSDT", worst=("BTCUSDT", 50.0))
    assert adv.worst_symbol == "ETHUSDT"
    alone = opportunity_cost(75.0, held[:1], 0.6, cfg, symbol="BTCUSDT")
    assert alone.action is OpportunityAction.HOLD
    assert alone.worst_symbol is None


# ------------------------------------------------------------ one position per symbol
@pytest.mark.parametrize("second_side", ["LONG", "SHORT"])
def test_account_refuses_a_second_position_in_a_symbol(second_side: str) -> None:
    positions = (Position("ETH", "LONG", 1, 3_000), Position("BTC", "LONG", 1, 50_000),
                 Position("BTC", second_side, 2, 51_000))
    with pytest.raises(InvalidInputError, match="one net position per symbol") as info:
        _account(positions=positions)
    assert info.value.field == "account.positions[2]"
    assert "BTC" in str(info.value)
    assert "hedge-mode" in info.value.expected.lower()


def test_account_accepts_one_position_per_symbol() -> None:
    a = _account(positions=(Position("BTC", "LONG", 1, 50_000),
                            Position("ETH", "SHORT", 1, 3_000)))
    assert a.position("BTC") is a.positions[0]
