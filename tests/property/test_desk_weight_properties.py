"""Allocation weights in the desk: they never grow an order at max 1, never touch a reducer,
and the batch applies them as the scalar path does."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskdesk import (
    AccountState,
    Action,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    RiskConfig,
    Signal,
    TradingState,
)
from riskdesk.desk import Desk, DeskState

NOW = datetime(2025, 8, 1, 10, 0, tzinfo=UTC)
PRESETS = ["default", "crypto-capital-manager", "aurora-capital-scaling", "equity-conviction",
           "phased-options", "aurora-kelly"]
CONFIGS = {n: RiskConfig.preset(n, env={}) for n in PRESETS}
SYMS = ["BTCUSDT", "ETHUSDT", "AAA", "BBB", "CCC"]

opt = st.one_of


def dec(x: float) -> Decimal:
    return Decimal(repr(x))


weights = st.dictionaries(st.sampled_from([*SYMS, "ZZZ"]),
                          st.sampled_from([0.0, 0.01, 0.1, 0.2, 0.25, 1 / 3, 0.5, 0.9, 2.0]),
                          min_size=1, max_size=6).filter(lambda w: sum(w.values()) > 0)


@st.composite
def market(draw: st.DrawFn, symbol: str) -> MarketSnapshot:
    price = draw(st.sampled_from([0.37, 3.5, 25.0, 101.13, 2_500.0, 64_321.5]))
    spread = draw(st.sampled_from([0.0, 0.0002, 0.001]))
    rules = MarketRules(symbol, step=draw(st.sampled_from(["1", "0.01", "0.001", "0.00001"])),
                        tick="0.01", max_qty=draw(opt(st.none(), st.just("50"))),
                        min_notional=draw(st.sampled_from(["0", "5"])),
                        max_leverage=draw(st.sampled_from(["1", "10", "125"])))
    return MarketSnapshot(rules, price=dec(price), bid=dec(price * (1 - spread)),
                          ask=dec(price * (1 + spread)), as_of=NOW,
                          atr=dec(price * draw(st.sampled_from([0.01, 0.02, 0.05]))),
                          vix=draw(opt(st.none(), st.floats(10, 40))))


@st.composite
def account(draw: st.DrawFn) -> AccountState:
    equity = draw(st.sampled_from([450.0, 2_600.0, 12_000.0, 130_000.0]))
    positions = tuple(Position(s, draw(st.sampled_from(["LONG", "SHORT"])),
                               dec(draw(st.sampled_from([0.01, 0.5, 3.0]))),
                               dec(draw(st.sampled_from([20.0, 300.0, 30_000.0]))),
                               leverage=5, score=draw(opt(st.none(), st.floats(50, 90))))
                      for s in draw(st.lists(st.sampled_from(SYMS), max_size=3, unique=True)))
    used = draw(st.floats(0, 0.45))
    return AccountState(equity=dec(equity), available=dec(equity * (1 - used)),
                        margin_used=dec(equity * used), as_of=NOW, positions=positions,
                        high_water_mark=dec(equity / (1 - draw(st.sampled_from([0.0, 0.07])))),
                        buying_power=draw(opt(st.none(), st.just(dec(equity * 3)))))


@st.composite
def signal(draw: st.DrawFn, symbol: str) -> Signal:
    return Signal(symbol, draw(st.sampled_from(["LONG", "SHORT"])),
                  score=draw(st.sampled_from([None, 4.0, 70.0, 85.0])),
                  strength=draw(st.sampled_from([None, 0.03, -0.05, 0.2])),
                  win_rate=draw(st.sampled_from([None, 0.55, 0.6])), win_loss_ratio=1.8,
                  regime=draw(st.sampled_from([None, "TRENDING", "RANGING"])),
                  reduce_only=draw(st.integers(0, 5)) == 0)


@st.composite
def case(draw: st.DrawFn):
    sym = draw(st.sampled_from(SYMS))
    return (draw(st.sampled_from(PRESETS)), draw(account()), draw(signal(sym)),
            draw(market(sym)), draw(weights))


@given(case())
def test_weights_never_grow_an_order_when_the_max_multiplier_is_1(c):
    preset, acct, sig, mkt, w = c
    cfg = CONFIGS[preset]
    assert cfg.position_sizing.risk_parity_max_multiplier == 1.0
    plain = Desk(cfg).recommend(sig, acct, mkt, now=NOW)
    d = Desk(cfg).recommend(sig, acct, mkt, now=NOW, weights=w)
    for step in d.trail:
        if step.code is ReasonCode.RISK_PARITY:
            assert step.after <= step.before
    # (no order book here: the liquidity cut, which is not monotone in size, does not apply)
    assert d.notional <= plain.notional
    if d.approved:
        assert plain.approved
    if d.intent.value == "OPEN" and w.get(sig.symbol, 0.0) == 0.0:
        assert not d.approved


@given(case(), st.sampled_from(list(TradingState)))
def test_a_reducer_is_never_affected_by_the_weights(c, trading):
    preset, acct, _, mkt, w = c
    if not acct.positions:
        acct = AccountState(equity=acct.equity, available=acct.available, as_of=NOW,
                            positions=(Position(mkt.rules.symbol, "LONG", Decimal(2),
                                                Decimal(30)),))
    pos = acct.position(mkt.rules.symbol) or acct.positions[0]
    mkt = MarketSnapshot(MarketRules(pos.symbol, step="0.01", tick="0.01"), price=mkt.price,
                         as_of=NOW)
    sig = Signal(pos.symbol, pos.side.opposite)
    state = DeskState(trading)
    plain = Desk(CONFIGS[preset], state=state).recommend(sig, acct, mkt, now=NOW)
    d = Desk(CONFIGS[preset], state=state).recommend(sig, acct, mkt, now=NOW, weights=w)
    assert d.intent.value == "REDUCE"
    assert d.approved
    assert (d.action, d.quantity, d.notional, d.reasons, d.trail) == (
        plain.action, plain.quantity, plain.notional, plain.reasons, plain.trail)


@given(st.sampled_from(PRESETS), account(),
       st.lists(st.sampled_from(SYMS), min_size=1, max_size=8), weights, st.data())
def test_batch_rows_with_weights_equal_scalar_decisions(preset, acct, syms, w, data):
    cfg = CONFIGS[preset]
    sigs = [data.draw(signal(s)) for s in syms]
    mkts = [data.draw(market(s)) for s in syms]
    out = Desk(cfg).recommend_batch(sigs, acct, mkts, now=NOW, weights=w)
    sequential = Desk(cfg) if cfg.kelly.stabilizer.enabled else None
    for i, (s, m) in enumerate(zip(sigs, mkts, strict=True)):
        d = (sequential or Desk(cfg)).recommend(s, acct, m, now=NOW, weights=w)
        assert out.action_of(i) is d.action, (i, d.trail)
        assert out.reasons_of(i) == d.reasons, (i, d.trail)
        assert out.binding_of(i) == d.binding_cap, (i, d.trail)
        assert out.quantity[i] == float(d.quantity), (i, d.trail)
        assert out.notional[i] == pytest.approx(float(d.notional), rel=1e-12, abs=1e-12)
        if d.action is Action.REJECT and d.reasons == (ReasonCode.RISK_PARITY,):
            assert w.get(s.symbol, 0.0) == 0.0
