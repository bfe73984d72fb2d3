"""recommend_batch gives, row for row, the answer recommend gives alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskdesk import AccountState, MarketRules, MarketSnapshot, Position, RiskConfig, Signal
from riskdesk.desk import Desk

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
SYMBOLS = [f"S{i}" for i in range(8)]
PRESETS = ["default", "crypto-capital-manager", "aurora-capital-scaling", "equity-conviction",
           "phased-options", "aurora-kelly"]
CONFIGS = {name: RiskConfig.preset(name, env={}) for name in PRESETS}

opt = st.one_of


@st.composite
def markets(draw: st.DrawFn, symbol: str) -> MarketSnapshot:
    step = draw(st.sampled_from(["1", "0.1", "0.001", "0.00001"]))
    price = max(round(draw(st.floats(0.5, 60_000)), 2), 0.5)
    has_quote = draw(st.booleans())
    spread = draw(st.floats(0.0, 0.004))
    bid = round(price * (1 - spread), 2) if has_quote else None
    ask = round(price * (1 + spread), 2) + 0.01 if has_quote else None
    max_qty = draw(opt(st.none(), st.sampled_from(["5", "1000", "250000"])))
    rules = MarketRules(symbol, step=step, tick="0.01",
                        min_qty=draw(st.sampled_from(["0", step])),
                        max_qty=max_qty,
                        min_notional=draw(st.sampled_from(["0", "5", "10"])),
                        contract_size=draw(st.sampled_from(["1", "1", "100"])),
                        max_leverage=draw(st.sampled_from(["1", "20", "125"])))
    return MarketSnapshot(
        rules, price=Decimal(repr(price)),
        as_of=NOW - timedelta(seconds=draw(st.sampled_from([0, 0, 0, 5, 30, 59, 61, 300]))),
        bid=None if bid is None else Decimal(repr(bid)),
        ask=None if ask is None else Decimal(repr(ask)),
        atr=draw(opt(st.none(), st.floats(0.001, 0.08).map(
            lambda f: Decimal(repr(round(price * f, 4)))))),
        volatility=draw(opt(st.none(), st.floats(0.005, 0.1))),
        vix=draw(opt(st.none(), st.floats(9, 45))))


@st.composite
def signals(draw: st.DrawFn, symbol: str) -> Signal:
    return Signal(symbol, draw(st.sampled_from(["LONG", "SHORT"])),
                  score=draw(opt(st.none(), st.floats(-1, 100))),
                  strength=draw(opt(st.none(), st.floats(-0.3, 0.3))),
                  win_rate=draw(opt(st.none(), st.floats(0.2, 0.8))),
                  win_loss_ratio=draw(opt(st.none(), st.floats(0.5, 3.0))),
                  regime=draw(opt(st.none(), st.sampled_from(
                      ["STRONG_TREND", "TRENDING", "NEUTRAL", "RANGING", "VOLATILE"]))),
                  reduce_only=draw(st.integers(0, 7)) == 0)


@st.composite
def accounts(draw: st.DrawFn) -> AccountState:
    equity = draw(st.floats(200, 2_000_000))
    used = draw(opt(st.floats(0, 0.45), st.floats(0, 0.95)))
    positions = []
    for sym in draw(st.lists(st.sampled_from(SYMBOLS), max_size=5, unique=True)):
        positions.append(Position(sym, draw(st.sampled_from(["LONG", "SHORT"])),
                                  Decimal(repr(draw(st.floats(0.01, 50)))),
                                  Decimal(repr(draw(st.floats(1, 50_000)))),
                                  leverage=draw(st.sampled_from([1, 3, 10])),
                                  score=draw(opt(st.none(), st.floats(0, 100)))))
    return AccountState(
        equity=Decimal(repr(equity)), available=Decimal(repr(equity * (1 - used))),
        margin_used=Decimal(repr(equity * used)), as_of=NOW - timedelta(seconds=draw(
            st.sampled_from([0, 0, 0, 10, 59, 90]))),
        positions=tuple(positions),
        high_water_mark=Decimal(repr(equity * draw(st.sampled_from([1.0, 1.06, 1.12, 1.3])))),
        day_start_equity=Decimal(repr(equity * draw(st.sampled_from([1.0, 1.05])))),
        buying_power=draw(opt(st.none(), st.just(Decimal(repr(equity * 4))))),
        trades_today=draw(st.integers(0, 12)),
        # approved openers not yet filled: each counts as an open position
        pending_symbols=frozenset(draw(st.lists(st.sampled_from(SYMBOLS), max_size=6,
                                                unique=True))))


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, AccountState, list[Signal], list[MarketSnapshot]]:
    preset = draw(st.sampled_from(PRESETS))
    account = draw(accounts())
    n = draw(st.integers(1, 12))
    syms = [draw(st.sampled_from(SYMBOLS)) for _ in range(n)]
    return preset, account, [draw(signals(s)) for s in syms], [draw(markets(s)) for s in syms]


@given(cases())
def test_batch_rows_equal_scalar_decisions(case):
    preset, account, sigs, mkts = case
    cfg = CONFIGS[preset]
    out = Desk(cfg).recommend_batch(sigs, account, mkts, now=NOW)
    assert len(out) == len(sigs)
    # With the Kelly stabilizer, rows are decided in order like successive calls of one desk.
    sequential = Desk(cfg) if cfg.kelly.stabilizer.enabled else None
    for i, (s, m) in enumerate(zip(sigs, mkts, strict=True)):
        d = (sequential or Desk(cfg)).recommend(s, account, m, now=NOW)
        assert out.action_of(i) is d.action, (i, d.trail)
        assert out.reasons_of(i) == d.reasons, (i, d.trail)
        assert out.binding_of(i) == d.binding_cap, (i, d.trail)
        assert out.quantity[i] == float(d.quantity), (i, d.trail)
        assert int(out.leverage[i]) == int(d.leverage), (i, d.trail)
        assert out.notional[i] == pytest.approx(float(d.notional), rel=1e-12, abs=1e-12)
        assert out.decision(i).quantity == d.quantity


def test_vectorized_rows_are_not_all_scalar():
    """The equality above must not hold only because every row fell back to the scalar path."""
    cfg = CONFIGS["crypto-capital-manager"]
    account = AccountState(equity=10_000, available=10_000, as_of=NOW)
    rules = MarketRules("S1", step="0.001", tick="0.01", max_leverage=125)
    prices = np.linspace(101.37, 977.13, 50)
    mkts = [MarketSnapshot(rules, price=Decimal(repr(round(float(p), 2))), bid=None, ask=None,
                           atr=Decimal("3.1"), as_of=NOW) for p in prices]
    sigs = [Signal("S1", "LONG", score=60.0)] * len(mkts)
    cfg2 = cfg.model_copy(update={"risk_management": cfg.risk_management.model_copy(
        update={"max_spread_bps": None})})
    out = Desk(cfg2).recommend_batch(sigs, account, mkts, now=NOW)
    assert len(out.scalar_rows) < len(mkts) // 2
    for i in range(len(mkts)):
        d = Desk(cfg2).recommend(sigs[i], account, mkts[i], now=NOW)
        assert out.action_of(i) is d.action
        assert Decimal(int(out.units[i])) * rules.step == d.quantity
