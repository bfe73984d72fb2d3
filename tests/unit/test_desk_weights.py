"""Allocation weights as the desk's RISK_PARITY adjustment (pipeline step 5)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskdesk import (
    AccountState,
    Action,
    BookLevel,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    RiskConfig,
    Signal,
)
from riskdesk.allocation import inverse_volatility
from riskdesk.desk import Desk
from riskdesk.errors import InvalidInputError

NOW = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
R = ReasonCode
# The default preset sizes 1% of equity: 1,000 of 100,000, far below every cap.
BASE = 1_000.0


def cfg(preset: str = "default", **position_sizing: object) -> RiskConfig:
    data = RiskConfig.preset(preset, env={}).model_dump()
    data["position_sizing"].update(position_sizing)
    return RiskConfig.from_mapping(data, env={})


def account(positions: tuple[Position, ...] = ()) -> AccountState:
    return AccountState(equity=Decimal(100_000), available=Decimal(100_000),
                        as_of=NOW - timedelta(seconds=5), positions=positions)


def market(symbol: str = "A", price: str = "100", **kw: object) -> MarketSnapshot:
    p = Decimal(price)
    return MarketSnapshot(MarketRules(symbol, step="0.001", tick="0.01"), price=p,
                          bid=p - Decimal("0.01"), ask=p + Decimal("0.01"),
                          as_of=NOW - timedelta(seconds=1), **kw)  # type: ignore[arg-type]


def rp_step(d):  # the RISK_PARITY trail entry, or None
    steps = [a for a in d.trail if a.code is R.RISK_PARITY]
    assert len(steps) <= 1
    return steps[0] if steps else None


def decide(weights, *, symbol: str = "A", config: RiskConfig | None = None, **kw):
    desk = Desk(config or cfg())
    return desk.recommend(Signal(symbol, "LONG"), account(), market(symbol), now=NOW,
                          weights=weights, **kw)


@pytest.mark.parametrize(("weights", "multiplier"), [
    ({"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.25}, 1.0),       # equal weight: x1
    ({"A": 1 / 7, **{f"S{i}": 1 / 7 for i in range(6)}}, 1.0),  # equal, not summing to 1 exactly
    ({"A": 0.1, "B": 0.4, "C": 0.5}, 0.1 * 3),                 # underweight: w x N
    ({"A": 0.5, "B": 0.25, "C": 0.25}, 1.0),                   # overweight: capped at the max (1)
    ({"A": 2.0, "B": 6.0}, 2.0 * 2 / 8.0),                     # not normalised: w x N / sum(w)
    ({"A": 1.0}, 1.0),                                         # the only symbol
])
def test_multiplier_is_weight_times_count(weights, multiplier):
    d = decide(weights)
    step = rp_step(d)
    assert step is not None
    assert step.step == "adjust"
    assert step.before == pytest.approx(BASE)
    assert step.after == pytest.approx(BASE * multiplier, rel=1e-12)
    assert d.action is Action.ENTER
    assert float(d.notional) <= step.after
    assert float(d.notional) == pytest.approx(BASE * multiplier, abs=0.1)


def test_equal_weights_leave_the_decision_as_it_was():
    plain = decide(None)
    weighted = decide({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    assert rp_step(plain) is None
    assert weighted.notional == plain.notional
    assert [a.code for a in weighted.trail] == [R.BASE_SIZE, R.DRAWDOWN, R.MARGIN_ZONE,
                                                R.RISK_PARITY, R.LEVERAGE, R.QUANTIZE]


@pytest.mark.parametrize(("max_multiplier", "expected"), [(1.0, 1.0), (1.2, 1.2), (2.0, 1.5)])
def test_an_overweight_symbol_grows_only_up_to_the_configured_max(max_multiplier, expected):
    d = decide({"A": 0.5, "B": 0.25, "C": 0.25},
               config=cfg(risk_parity_max_multiplier=max_multiplier))
    step = rp_step(d)
    assert step.after == pytest.approx(BASE * expected, rel=1e-12)
    assert ("(max)" in step.note) is (max_multiplier == expected != 1.0)


@pytest.mark.parametrize("weights", [{"B": 0.5, "C": 0.5}, {"A": 0.0, "B": 1.0}])
def test_a_symbol_the_allocation_leaves_out_is_rejected(weights):
    d = decide(weights)
    assert d.action is Action.REJECT
    assert d.reasons == (R.RISK_PARITY,)
    assert d.quantity == 0
    step = rp_step(d)
    assert (step.before, step.after) == (pytest.approx(BASE), 0.0)
    assert "A" in step.note


def test_weights_from_inverse_volatility():
    vols = {"A": 0.02, "B": 0.04, "C": 0.08}
    result = inverse_volatility(list(vols.values()))
    weights = dict(zip(vols, (float(w) for w in result.weights), strict=True))
    for sym in vols:
        step = rp_step(decide(weights, symbol=sym))
        assert step.after == pytest.approx(BASE * min(1.0, weights[sym] * 3), rel=1e-12)
    # the least volatile symbol is overweight (x1 at most), the most volatile sized down
    assert rp_step(decide(weights, symbol="C")).after < BASE / 2


def test_a_reducer_ignores_the_weights():
    held = (Position("A", "LONG", Decimal(10), Decimal(100)),)
    desk = Desk(cfg())
    plain = desk.recommend(Signal("A", "SHORT"), account(held), market("A"), now=NOW)
    for weights in ({"B": 1.0}, {"A": 0.01, "B": 0.99}):
        d = Desk(cfg()).recommend(Signal("A", "SHORT"), account(held), market("A"), now=NOW,
                                  weights=weights)
        assert d.approved
        assert d.intent.value == "REDUCE"
        assert (d.quantity, d.notional, d.reasons) == (plain.quantity, plain.notional,
                                                       plain.reasons)
        assert rp_step(d) is None


def test_a_cut_clears_the_binding_of_a_base_size_cap():
    config = RiskConfig.preset("equity-conviction", env={})
    sig = Signal("A", "LONG", score=9.0)
    mkt = market("A")
    acct = AccountState(equity=Decimal(1_000_000), available=Decimal(1_000_000),
                        buying_power=Decimal(1_000_000), as_of=NOW)
    plain = Desk(config).recommend(sig, acct, mkt, now=NOW)
    cut = Desk(config).recommend(sig, acct, mkt, now=NOW, weights={"A": 0.1, "B": 0.9})
    assert plain.binding_cap is R.CAP_MAX_POSITION_DOLLAR
    assert cut.binding_cap is None
    assert cut.notional < plain.notional


def test_the_order_book_cut_comes_after_the_weights():
    book = {"asks": (BookLevel(100.01, 50.0),), "bids": (BookLevel(99.99, 50.0),)}
    d = Desk(cfg()).recommend(Signal("A", "LONG"), account(), market("A", **book), now=NOW,
                              weights={"A": 0.2, "B": 0.8})
    order = [a.code for a in d.trail]
    assert order.index(R.MARGIN_ZONE) < order.index(R.RISK_PARITY) < order.index(
        R.LIQUIDITY_IMPACT)


@pytest.mark.parametrize(("weights", "field"), [
    ({}, "weights"),
    ([("A", 1.0)], "weights"),
    ({"A": -0.1, "B": 1.1}, "weights.A"),
    ({"A": math.nan}, "weights.A"),
    ({"A": math.inf}, "weights.A"),
    ({"A": "0.5"}, "weights.A"),
    ({"A": True}, "weights.A"),
    ({"A": Decimal("0.5")}, "weights.A"),
    ({"A": 0.0, "B": 0.0}, "weights"),
    ({"": 1.0}, "weights"),
    ({"A": 1e308, "B": 1e308}, "weights"),
])
def test_bad_weights_are_rejected_naming_the_field(weights, field):
    desk = Desk(cfg())
    before = desk.state
    with pytest.raises(InvalidInputError) as info:
        desk.recommend(Signal("A", "LONG"), account(), market("A"), now=NOW, weights=weights)
    assert info.value.field == field
    assert desk.state is before


def test_a_weights_dict_changed_in_place_is_read_again():
    desk = Desk(cfg())
    weights = {"A": 0.5, "B": 0.5}
    first = desk.recommend(Signal("A", "LONG"), account(), market("A"), now=NOW, weights=weights)
    weights["A"] = 0.1
    weights["B"] = 0.9
    second = desk.recommend(Signal("A", "LONG"), account(), market("A"), now=NOW,
                            weights=weights)
    assert rp_step(first).after == pytest.approx(BASE)
    assert rp_step(second).after == pytest.approx(BASE * 0.2, rel=1e-12)
    weights["A"] = -1.0
    with pytest.raises(InvalidInputError):
        desk.recommend(Signal("A", "LONG"), account(), market("A"), now=NOW, weights=weights)


def test_the_batch_applies_the_weights_as_the_scalar_path_does():
    desk = Desk(cfg())
    syms = ["A", "B", "C", "D"]
    weights = {"A": 0.1, "B": 0.3, "C": 0.6}  # D is left out
    sigs = [Signal(s, "LONG") for s in syms]
    mkts = [market(s, p) for s, p in zip(syms, ("100", "37.5", "812.25", "10"), strict=True)]
    out = desk.recommend_batch(sigs, account(), mkts, now=NOW, weights=weights)
    assert len(out.scalar_rows) < len(syms)  # the kernel, not only the scalar fallback
    for i, (s, m) in enumerate(zip(sigs, mkts, strict=True)):
        d = Desk(cfg()).recommend(s, account(), m, now=NOW, weights=weights)
        assert out.action_of(i) is d.action
        assert out.reasons_of(i) == d.reasons
        assert out.quantity[i] == float(d.quantity)
        assert out.decision(i).trail == d.trail
    assert out.reasons_of(3) == (R.RISK_PARITY,)


def test_a_plan_sizes_its_openers_by_the_weights():
    config = RiskConfig.preset("aurora-capital-scaling", env={})
    acct = AccountState(equity=Decimal(100_000), available=Decimal(50_000), as_of=NOW,
                        positions=(Position("B", "LONG", Decimal(50), Decimal(100)),))
    mkts = {s: market(s) for s in ("A", "B", "C")}
    targets = {"A": 0.02, "B": 0.0, "C": 0.02}
    plain = Desk(config).plan(targets, acct, mkts, now=NOW)
    weighted = Desk(config).plan(targets, acct, mkts, now=NOW,
                                 weights={"A": 0.25, "C": 0.75})
    by = {line.symbol: line.decision for line in weighted.lines}
    base = {line.symbol: line.decision for line in plain.lines}
    assert by["B"].approved
    assert by["B"].quantity == base["B"].quantity
    assert rp_step(by["A"]).after == pytest.approx(rp_step(by["A"]).before * 0.5, rel=1e-12)
    assert by["A"].notional < base["A"].notional
    assert by["C"].notional == base["C"].notional  # overweight: x1 at the default max
    desk = Desk(config)
    desk.plan(targets, acct, mkts, now=NOW, weights={"A": 1.0})
    # the weights of a plan do not stay behind for the next call
    after = desk.recommend(Signal("C", "LONG", strength=0.02), acct, mkts["C"], now=NOW)
    assert rp_step(after) is None


def test_malformed_weights_never_hold_up_a_close():
    held = (Position("A", "LONG", Decimal(10), Decimal(100)),)
    bad = {"A": math.nan}
    d = Desk(cfg()).recommend(Signal("A", "SHORT"), account(held), market("A"), now=NOW,
                              weights=bad)
    assert d.approved
    assert d.quantity == 10
    with pytest.raises(InvalidInputError):  # the opener on the same desk does read them
        Desk(cfg()).recommend(Signal("B", "LONG"), account(held), market("B"), now=NOW,
                              weights=bad)
    with pytest.raises(InvalidInputError):  # a batch or a plan checks them before any row
        Desk(cfg()).recommend_batch([Signal("A", "SHORT")], account(held), [market("A")],
                                    now=NOW, weights=bad)


def test_an_opener_with_malformed_weights_changes_nothing():
    config = RiskConfig.preset("aurora-kelly", env={})
    assert config.kelly.stabilizer.enabled
    sig = Signal("A", "LONG", win_rate=0.4, win_loss_ratio=2.0)  # Kelly 0.1
    tried, fresh = Desk(config), Desk(config)
    with pytest.raises(InvalidInputError):
        tried.recommend(sig, account(), market("A"), now=NOW, weights={"A": -1.0})
    sig2 = Signal("A", "LONG", win_rate=0.45, win_loss_ratio=2.0)  # Kelly 0.175
    a = tried.recommend(sig2, account(), market("A"), now=NOW)
    b = fresh.recommend(sig2, account(), market("A"), now=NOW)
    assert b.approved
    assert R.KELLY in [x.code for x in b.trail]
    assert a.trail == b.trail  # the stabilizer did not see the refused call
    assert tried.state == fresh.state
