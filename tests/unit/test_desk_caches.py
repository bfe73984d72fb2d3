"""What the desk remembers per account state never outlives what it was computed from."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from riskdesk import AccountState, Action, MarketRules, MarketSnapshot, RiskConfig, Signal
from riskdesk.desk import Desk, DeskState
from riskdesk.domain import ReasonCode
from riskdesk.limits import BreakerState

T0 = datetime(2025, 8, 1, 10, 0, tzinfo=UTC)
CFG = RiskConfig.preset("default", env={})


def _market(at: datetime, price: str = "100") -> MarketSnapshot:
    p = Decimal(price)
    return MarketSnapshot(MarketRules("AAA", step="0.01", tick="0.01"), price=p,
                          bid=p - Decimal("0.01"), ask=p + Decimal("0.01"), as_of=at)


def test_a_tripped_breaker_is_judged_at_each_call_on_one_account_object() -> None:
    # The breaker's pause ends between the two calls; the account object is the same.
    state = DeskState(breaker=BreakerState().trip(T0, 0.01, "test"))  # 36 s pause
    desk = Desk(CFG, state=state)
    account = AccountState(equity=10_000, available=10_000, as_of=T0)
    sig = Signal("AAA", "LONG")
    during = desk.recommend(sig, account, _market(T0 + timedelta(seconds=10)),
                            now=T0 + timedelta(seconds=10))
    assert during.action is Action.REJECT
    assert ReasonCode.BREAKER_TRIPPED in during.reasons
    after = desk.recommend(sig, account, _market(T0 + timedelta(seconds=50)),
                           now=T0 + timedelta(seconds=50))
    assert after.approved, after.trail
    # ... and back within the pause (a clock running backwards is not trusted either way)
    again = desk.recommend(sig, account, _market(T0 + timedelta(seconds=20)),
                           now=T0 + timedelta(seconds=20))
    assert again.action is Action.REJECT


def test_an_untripped_breaker_gives_one_answer_at_any_time() -> None:
    desk = Desk(CFG)
    account = AccountState(equity=10_000, available=10_000, as_of=T0,
                           high_water_mark=Decimal("10700"))  # LIGHT drawdown
    sig = Signal("AAA", "LONG")
    answers = [desk.recommend(sig, account, _market(T0 + timedelta(seconds=s)),
                              now=T0 + timedelta(seconds=s)) for s in (0, 5, 30)]
    fresh = [Desk(CFG, state=desk.state).recommend(sig, replace(account), _market(
        T0 + timedelta(seconds=s)), now=T0 + timedelta(seconds=s)) for s in (0, 5, 30)]
    for got, want in zip(answers, fresh, strict=True):
        assert got.to_dict()["trail"] == want.to_dict()["trail"]
        assert (got.action, got.quantity, got.reasons) == (want.action, want.quantity,
                                                           want.reasons)
        assert ReasonCode.DRAWDOWN in got.reasons


def test_trail_entries_shared_between_orders_start_from_each_order_s_own_size() -> None:
    # Kelly sizes differ by win rate: the margin-zone entry must not be the last order's.
    cfg = RiskConfig.preset("crypto-capital-manager",
                            env={"RISKDESK__POSITION_SIZING__METHOD": "kelly"})
    desk = Desk(cfg)
    account = AccountState(equity=10_000, available=10_000, as_of=T0)
    market = MarketSnapshot(MarketRules("BTCUSDT", step="0.00001", tick="0.01",
                                        max_leverage=125),
                            price=Decimal("50000"), bid=Decimal("49999"), ask=Decimal("50001"),
                            atr=Decimal("1000"), as_of=T0)
    sizes = []
    for wr in (0.42, 0.45, 0.42):
        d = desk.recommend(Signal("BTCUSDT", "LONG", win_rate=wr, win_loss_ratio=1.8,
                                  regime="TRENDING"), account, market, now=T0)
        steps = [a for a in d.trail if a.step in ("base_size", "adjust")]
        for prev, nxt in pairwise(steps):
            assert nxt.before == prev.after
        zone = next(a for a in d.trail if a.code is ReasonCode.MARGIN_ZONE)
        sizes.append(zone.before)
    assert sizes[0] != sizes[1]
    assert sizes[0] == sizes[2]


def test_a_new_account_object_is_a_new_view() -> None:
    desk = Desk(CFG)
    sig = Signal("AAA", "LONG")
    small = AccountState(equity=10_000, available=10_000, as_of=T0)
    big = AccountState(equity=20_000, available=20_000, as_of=T0)
    a = desk.recommend(sig, small, _market(T0), now=T0)
    b = desk.recommend(sig, big, _market(T0), now=T0)
    c = desk.recommend(sig, small, _market(T0), now=T0)
    assert b.notional > a.notional
    assert c.notional == a.notional
    assert c.trail == a.trail


def test_planned_openers_do_not_reuse_the_configured_base_size_s_entries() -> None:
    # The planner replaces the base size with each target's delta; the drawdown entry the
    # account's view keeps for the configured base must not be reused for those.
    desk = Desk(CFG)
    account = AccountState(equity=100_000, available=100_000, as_of=T0,
                           high_water_mark=Decimal("106000"))  # LIGHT: drawdown x0.7
    markets = {s: MarketSnapshot(MarketRules(s, step="1", tick="0.01"), price=Decimal(p),
                                 bid=Decimal(p) - Decimal("0.01"),
                                 ask=Decimal(p) + Decimal("0.01"), as_of=T0)
               for s, p in (("AAA", "100"), ("BBB", "50"))}
    desk.recommend(Signal("AAA", "LONG"), account, markets["AAA"], now=T0)  # warm the view
    plan = desk.plan({"AAA": 0.004, "BBB": 0.006}, account, markets, now=T0)
    openers = [line.decision for line in plan.lines if line.decision.approved]
    assert len(openers) == 2
    for d in openers:
        steps = [a for a in d.trail if a.step in ("base_size", "adjust")]
        assert [a.code for a in steps][:2] == [ReasonCode.CAPITAL_UTILIZATION,
                                               ReasonCode.DRAWDOWN]
        for prev, nxt in pairwise(steps):
            assert nxt.before == prev.after, d.trail
