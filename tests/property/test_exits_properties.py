from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskdesk.config import Exits, PartialTakeProfit
from riskdesk.domain import MarketRules, Rounding, Side, quantize_to_step
from riskdesk.errors import InvalidInputError
from riskdesk.exits import (
    Add,
    Bar,
    Close,
    ExitAction,
    ExitEngine,
    ExitPlan,
    ExitReason,
    ExitUpdate,
    MoveStop,
    PositionState,
    Reduce,
    build_plan,
)

D = Decimal
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TICKS = [D("0.01"), D("0.25"), D("0.5"), D("1")]
LADDERS = [(), ((1.0, 0.5),), ((0.5, 0.3), (1.5, 0.3)), ((1.0, 0.5), (2.0, 0.5)),
           ((0.7, 0.25), (1.3, 0.25), (2.2, 0.25))]


@st.composite
def scenarios(draw: st.DrawFn, *, mirror: bool = False) -> dict[str, Any]:
    """A market, an entry on the tick grid, exit settings and a bar path in ticks."""
    tick = draw(st.sampled_from(TICKS))
    step = draw(st.sampled_from([D("0.001"), D("0.1"), D("1")]))
    entry_ticks = draw(st.integers(1000, 3000))  # 40 bars move < 1000 ticks
    qty = step * draw(st.integers(1, 2000))
    stop_mode = draw(st.sampled_from(["percent", "atr", "price"]))
    pyramiding = draw(st.booleans())
    trailing_modes = ["atr", "chandelier"] if mirror else ["percent", "atr", "chandelier"]
    tp_mode = draw(st.sampled_from(["off", "r", "percent"]))
    cfg: dict[str, Any] = {
        "stop_enabled": stop_mode != "price",
        "stop_mode": "atr" if stop_mode == "atr" else "percent",
        "stop_pct": draw(st.sampled_from([0.005, 0.01, 0.02])),
        "stop_atr_multiple": draw(st.sampled_from([1.0, 2.0, 2.5])),
        "take_profit_enabled": tp_mode != "off",
        "take_profit_mode": "percent" if tp_mode == "percent" else "r",
        "take_profit_pct": draw(st.sampled_from([0.01, 0.03])),
        "take_profit_r": draw(st.sampled_from([1.5, 2.0, 3.0])),
        "trailing_enabled": draw(st.booleans()),
        "trailing_mode": draw(st.sampled_from(trailing_modes)),
        "trailing_pct": draw(st.sampled_from([0.005, 0.01, 0.02])),
        "trailing_atr_multiple": draw(st.sampled_from([1.0, 2.0, 3.0])),
        "trailing_activation_r": draw(st.sampled_from([0.0, 0.5, 1.0])),
        "break_even_enabled": draw(st.booleans()),
        "break_even_after_r": draw(st.sampled_from([0.5, 1.0])),
        # a fee offset is a fraction of the average entry, which adds move off the pivot
        "break_even_fee_offset_pct": 0.0 if mirror and pyramiding
        else draw(st.sampled_from([0.0, 0.001, 0.003])),
        # rungs usually fire before an add is due (adds stop after a partial exit)
        "partials": () if pyramiding and draw(st.booleans()) else tuple(
            PartialTakeProfit(r_multiple=r, fraction=f)
            for r, f in draw(st.sampled_from(LADDERS))),
        "pyramiding_enabled": pyramiding,
        "pyramid_after_r": draw(st.sampled_from([0.5, 1.0])),
        "pyramid_max_adds": draw(st.integers(1, 3)),
        "time_stop_hours": draw(st.sampled_from([None, 6.0, 20.0])),
        "intrabar": draw(st.sampled_from(["stop_first", "target_first"])),
    }
    bars = draw(st.lists(st.tuples(st.integers(-3, 3), st.integers(-8, 8), st.integers(0, 6),
                                   st.integers(0, 6), st.one_of(st.none(),
                                                                st.integers(1, 40))),
                         min_size=1, max_size=40))
    return {"tick": tick, "step": step, "entry": tick * entry_ticks, "qty": qty,
            "stop_ticks": draw(st.integers(2, 40)), "cfg": Exits(**cfg), "bars": bars,
            "drift": draw(st.integers(-4, 4)),
            "plan_atr": tick * draw(st.integers(8, 40)) / 4}


def make_bars(sc: dict[str, Any], reflect: bool = False) -> list[Bar]:
    tick, p0 = sc["tick"], sc["entry"]
    out, close = [], p0
    for i, (gap, body, up, down, atr) in enumerate(sc["bars"]):
        o = close + gap * tick
        c = o + (body + sc["drift"]) * tick
        b = Bar(o, max(o, c) + up * tick, min(o, c) - down * tick, c,
                T0 + timedelta(hours=i + 1), None if atr is None else tick * atr / 4)
        out.append(b.reflected(p0) if reflect else b)
        close = c
    return out


def make_plan(sc: dict[str, Any], side: Side) -> ExitPlan:
    rules = MarketRules("X", step=sc["step"], tick=sc["tick"])
    cfg: Exits = sc["cfg"]
    stop_price = None
    if not cfg.stop_enabled:
        stop_price = sc["entry"] - side.sign * sc["stop_ticks"] * sc["tick"]
    return ExitEngine(cfg).build_plan(symbol="X", side=side, entry=sc["entry"],
                                      quantity=sc["qty"], rules=rules, stop_price=stop_price,
                                      atr=sc["plan_atr"], opened_at=T0)


def simulate(plan: ExitPlan, bars: list[Bar]) -> tuple[PositionState, list[ExitUpdate]]:
    eng = ExitEngine(plan.config)
    state = start = eng.start(plan)
    updates = []
    for b in bars:
        up = eng.on_bar(state, plan, b)
        updates.append(up)
        state = up.state
        if state.closed:
            break
    return start, updates


def tighter_or_equal(side: Side, new: Decimal, old: Decimal) -> bool:
    return new >= old if side is Side.LONG else new <= old


@given(scenarios(), st.sampled_from([Side.LONG, Side.SHORT]))
def test_stop_never_loosens(sc: dict[str, Any], side: Side) -> None:
    plan = make_plan(sc, side)
    start, updates = simulate(plan, make_bars(sc, reflect=side is Side.SHORT))
    prev = start.stop
    assert prev is not None
    for up in updates:
        for a in up.actions:
            if isinstance(a, MoveStop):
                assert a.previous == prev
                assert tighter_or_equal(side, a.stop, prev)
                assert a.stop != prev
                assert a.stop % plan.rules.tick == 0
                prev = a.stop
        assert up.state.stop == prev


@given(scenarios(), st.sampled_from([Side.LONG, Side.SHORT]))
def test_exit_quantities_never_exceed_the_position(sc: dict[str, Any], side: Side) -> None:
    plan = make_plan(sc, side)
    step = plan.rules.step
    assert sum(t.quantity for t in plan.targets if not t.final) <= plan.quantity
    assert all(t.quantity % step == 0 and t.quantity >= 0 for t in plan.targets)
    start, updates = simulate(plan, make_bars(sc, reflect=side is Side.SHORT))
    state, taken = start, D(0)
    for up in updates:
        for a in up.actions:
            if isinstance(a, Reduce):
                assert 0 < a.quantity < state.quantity
                assert a.quantity % step == 0
                taken += a.quantity
            elif isinstance(a, Close):
                assert a.quantity == state.quantity
                taken += a.quantity
            state = state.apply(a)
            assert taken + state.quantity == state.held
    assert taken <= state.held


@given(scenarios(), st.sampled_from([Side.LONG, Side.SHORT]))
def test_open_risk_stays_within_budget_after_every_action(sc: dict[str, Any],
                                                          side: Side) -> None:
    plan = make_plan(sc, side)
    budget = plan.risk_budget
    assert budget is not None
    start, updates = simulate(plan, make_bars(sc, reflect=side is Side.SHORT))
    cs = plan.contract_size
    assert start.open_risk(cs) == budget
    state = start
    for up in updates:
        for a in up.actions:
            state = state.apply(a)
            risk = state.open_risk(cs)
            assert risk is not None
            assert risk <= budget
        assert (state.quantity, state.stop, state.lots) == \
            (up.state.quantity, up.state.stop, up.state.lots)
        state = up.state


def reflect(a: ExitAction, pivot: Decimal) -> ExitAction:
    two = 2 * pivot
    if isinstance(a, MoveStop):
        return MoveStop(two - a.stop, None if a.previous is None else two - a.previous,
                        a.reason)
    if isinstance(a, Reduce):
        return Reduce(a.quantity, two - a.price, a.reason, a.level)
    if isinstance(a, Close):
        return Close(a.quantity, two - a.price, a.reason, a.level)
    assert isinstance(a, Add)
    return Add(a.quantity, two - a.price, a.number, a.reason)


@given(scenarios(mirror=True))
def test_a_short_on_the_reflected_path_mirrors_the_long(sc: dict[str, Any]) -> None:
    pivot = sc["entry"]
    long_plan, short_plan = make_plan(sc, Side.LONG), make_plan(sc, Side.SHORT)
    assert long_plan.stop is not None
    assert short_plan.stop == 2 * pivot - long_plan.stop
    assert [t.price for t in short_plan.targets] == \
        [2 * pivot - t.price for t in long_plan.targets]
    assert [t.quantity for t in short_plan.targets] == [t.quantity for t in long_plan.targets]
    _, longs = simulate(long_plan, make_bars(sc))
    _, shorts = simulate(short_plan, make_bars(sc, reflect=True))
    assert len(longs) == len(shorts)
    for lu, su in zip(longs, shorts, strict=True):
        assert list(su.actions) == [reflect(a, pivot) for a in lu.actions]
        assert su.state.quantity == lu.state.quantity
        assert su.state.extreme == 2 * pivot - lu.state.extreme


@given(st.sampled_from(TICKS), st.integers(100, 100000),
       st.sampled_from([0.00001, 0.0001, 0.0037, 0.01]), st.integers(-300, 300),
       st.sampled_from([Side.LONG, Side.SHORT]))
def test_percent_target_is_seed_002_rule_on_the_tick_grid(tick: Decimal, n: int, tp: float,
                                                          k: int, side: Side) -> None:
    """For prices on the tick grid, a close fires exactly when the seed's rule holds."""
    entry = tick * n
    price = entry + k * tick * max(1, n // 10000)
    if price <= 0:
        return
    cfg = Exits(stop_enabled=False, take_profit_mode="percent", take_profit_pct=tp,
                take_profit_r=None)
    eng = ExitEngine(cfg)
    plan = eng.build_plan(symbol="X", side=side, entry=entry, quantity=D(1),
                          rules=MarketRules("X", step=D("0.001"), tick=tick))
    actions = eng.on_tick(eng.start(plan), plan, price, T0).actions
    pct = D(repr(tp))
    seed_rule = price >= entry * (1 + pct) if side is Side.LONG else price <= entry * (1 - pct)
    assert bool(actions) == seed_rule
    if actions:
        assert actions == (Close(D(1), price, ExitReason.TAKE_PROFIT, 0),)


@given(st.sampled_from(TICKS), st.decimals(min_value=50, max_value=5000, places=4),
       st.sampled_from([0.005, 0.01, 0.02, 0.05]), st.sampled_from([1.0, 1.7, 2.0, 3.3]),
       st.sampled_from([Side.LONG, Side.SHORT]))
def test_rounding_never_adds_risk_nor_removes_reward(tick: Decimal, entry: Decimal,
                                                     pct: float, r: float, side: Side) -> None:
    """Off-grid entries too: the stop is never farther than asked, the target never nearer."""
    cfg = Exits(stop_pct=pct, take_profit_r=r)
    raw_stop = entry * (1 - side.sign * D(repr(pct)))
    rules = MarketRules("X", step=D("0.001"), tick=tick)
    nearest = quantize_to_step(raw_stop, tick,
                               Rounding.CEILING if side is Side.LONG else Rounding.FLOOR)
    if (nearest >= entry) if side is Side.LONG else (nearest <= entry):
        # no tick between the asked stop and the entry: refused, never widened
        assert abs(entry - raw_stop) < tick
        with pytest.raises(InvalidInputError) as exc:
            build_plan(cfg, symbol="X", side=side, entry=entry, quantity=D(2), rules=rules)
        assert exc.value.field == "exits.stop_pct"
        return
    plan = build_plan(cfg, symbol="X", side=side, entry=entry, quantity=D(2), rules=rules)
    assert plan.stop is not None
    assert plan.risk_per_unit is not None
    assert plan.stop % tick == 0
    assert plan.risk_per_unit <= abs(entry - raw_stop)
    assert plan.risk_per_unit > 0
    assert abs(plan.stop - raw_stop) < tick
    target = plan.take_profit
    assert target is not None
    assert target % tick == 0
    assert abs(target - entry) >= D(repr(r)) * plan.risk_per_unit
    assert abs(target - entry) - D(repr(r)) * plan.risk_per_unit < tick
