from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskdesk.config import Exits, PartialTakeProfit, RiskConfig
from riskdesk.domain import MarketRules, Position, Side
from riskdesk.errors import InvalidInputError
from riskdesk.exits import (
    Add,
    Bar,
    Close,
    ExitAction,
    ExitEngine,
    ExitPlan,
    ExitReason,
    MoveStop,
    PositionState,
    Reduce,
)

D = Decimal
T0 = datetime(2024, 1, 1, tzinfo=UTC)
RULES = MarketRules("X", step=D("0.001"), tick=D("0.1"))
PIVOT = D("100")


def bar(o: str, h: str, lo: str, c: str, i: int = 1, atr: str | None = None) -> Bar:
    return Bar(D(o), D(h), D(lo), D(c), T0 + timedelta(hours=i),
               None if atr is None else D(atr))


def mirror(b: Bar) -> Bar:
    return b.reflected(PIVOT)


def run(cfg: Exits, side: str, bars: list[Bar], *, qty: str = "1", atr: str | None = None,
        stop: str | None = None) -> tuple[ExitPlan, list[list[ExitAction]], PositionState]:
    eng = ExitEngine(cfg)
    p = eng.build_plan(symbol="X", side=side, entry=PIVOT, quantity=D(qty), rules=RULES,
                       atr=None if atr is None else D(atr), opened_at=T0,
                       stop_price=None if stop is None else D(stop))
    st = eng.start(p)
    out = []
    for b in bars:
        up = eng.on_bar(st, p, b)
        out.append(list(up.actions))
        st = up.state
        if st.closed:
            break
    return p, out, st


BASIC = Exits(stop_pct=0.02, take_profit_r=2.0)  # long: stop 98, target 104; short: 102, 96

# (name, long bars, expected long actions per bar); the short runs the reflected bars and
# must give the reflected prices.
PATHS = [
    ("quiet", [bar("100", "101", "99", "100.5")], [[]]),
    ("stop touched exactly", [bar("100", "100.5", "98", "99")],
     [[Close(D(1), D("98.0"), ExitReason.STOP_LOSS)]]),
    ("gap through the stop fills at the open", [bar("97", "97.5", "96", "97")],
     [[Close(D(1), D("97"), ExitReason.STOP_LOSS)]]),
    ("target touched", [bar("100", "104", "99.5", "103")],
     [[Close(D(1), D("104.0"), ExitReason.TAKE_PROFIT, 0)]]),
    ("gap through the target fills at the open", [bar("105", "106", "104.5", "105")],
     [[Close(D(1), D("105"), ExitReason.TAKE_PROFIT, 0)]]),
    ("both touched, stop first", [bar("100", "104.5", "97.5", "101")],
     [[Close(D(1), D("98.0"), ExitReason.STOP_LOSS)]]),
    ("second bar", [bar("100", "101", "99", "100.5", 1), bar("100.5", "101", "97.9", "98", 2)],
     [[], [Close(D(1), D("98.0"), ExitReason.STOP_LOSS)]]),
]


def reflect_action(a: ExitAction) -> ExitAction:
    two = 2 * PIVOT
    if isinstance(a, MoveStop):
        return MoveStop(two - a.stop, None if a.previous is None else two - a.previous,
                        a.reason)
    if isinstance(a, Reduce):
        return Reduce(a.quantity, two - a.price, a.reason, a.level)
    if isinstance(a, Close):
        return Close(a.quantity, two - a.price, a.reason, a.level)
    return Add(a.quantity, two - a.price, a.number, a.reason)


@pytest.mark.parametrize(("name", "bars", "expected"), PATHS, ids=[p[0] for p in PATHS])
@pytest.mark.parametrize("side", ["LONG", "SHORT"])
def test_bracket_paths(name: str, bars: list[Bar], expected: list[list[ExitAction]],
                       side: str) -> None:
    if side == "SHORT":
        bars = [mirror(b) for b in bars]
        expected = [[reflect_action(a) for a in step] for step in expected]
    _, got, _ = run(BASIC, side, bars)
    assert got == expected


@pytest.mark.parametrize("side", ["LONG", "SHORT"])
def test_bar_touching_both_levels_target_first(side: str) -> None:
    cfg = Exits(stop_pct=0.02, take_profit_r=2.0, intrabar="target_first",
                partials=(PartialTakeProfit(r_multiple=1, fraction=0.5),))
    b = bar("100", "102.5", "97.5", "99")       # touches the 1R rung (102) and the stop (98)
    _, got, st = run(cfg, side, [b if side == "LONG" else mirror(b)])
    if side == "LONG":
        assert got == [[Reduce(D("0.500"), D("102.0"), ExitReason.PARTIAL_TAKE_PROFIT, 0),
                        Close(D("0.500"), D("98.0"), ExitReason.STOP_LOSS)]]
    else:
        assert got == [[Reduce(D("0.500"), D("98.0"), ExitReason.PARTIAL_TAKE_PROFIT, 0),
                        Close(D("0.500"), D("102.0"), ExitReason.STOP_LOSS)]]
    assert st.closed
    # the same bar under stop_first: all out at the stop, no rung
    cfg2 = cfg.model_copy(update={"intrabar": "stop_first"})
    _, got2, _ = run(cfg2, side, [b if side == "LONG" else mirror(b)])
    assert len(got2[0]) == 1
    assert got2[0][0].reason is ExitReason.STOP_LOSS


def test_target_first_reaching_the_final_target_never_hits_the_stop() -> None:
    cfg = Exits(stop_pct=0.02, take_profit_r=2.0, intrabar="target_first")
    _, got, _ = run(cfg, "LONG", [bar("100", "104.5", "97.5", "99")])
    assert got == [[Close(D(1), D("104.0"), ExitReason.TAKE_PROFIT, 0)]]


def test_ladder_then_trail_the_rest() -> None:
    # 50% at 1R, 25% at 2R, trail the rest (percent 2% from the high, active from 1R)
    cfg = Exits(stop_pct=0.02, take_profit_enabled=False, trailing_enabled=True,
                trailing_pct=0.02, trailing_activation_r=1.0,
                partials=(PartialTakeProfit(r_multiple=1, fraction=0.5),
                          PartialTakeProfit(r_multiple=2, fraction=0.25)))
    bars = [bar("100", "101", "99.5", "100.8", 1),    # 0.5R: nothing
            bar("100.8", "102.2", "100.5", "102", 2),  # 1R rung; trail 102.2 x .98 = 100.156
            bar("102", "104.1", "101.9", "104", 3),    # 2R rung; trail 104.1 x .98 = 102.018
            bar("104", "110", "103.5", "109", 4),      # trail 110 x .98 = 107.8
            bar("109", "109.5", "107.7", "108", 5)]    # stop 107.8 hit
    _, got, st = run(cfg, "LONG", bars, qty="1")
    assert got == [
        [],
        [Reduce(D("0.500"), D("102.0"), ExitReason.PARTIAL_TAKE_PROFIT, 0),
         MoveStop(D("100.2"), D("98.0"), ExitReason.TRAILING)],
        [Reduce(D("0.250"), D("104.0"), ExitReason.PARTIAL_TAKE_PROFIT, 1),
         MoveStop(D("102.1"), D("100.2"), ExitReason.TRAILING)],
        [MoveStop(D("107.8"), D("102.1"), ExitReason.TRAILING)],
        [Close(D("0.250"), D("107.8"), ExitReason.STOP_LOSS)],
    ]
    assert st.closed
    assert st.targets_done == 2


@pytest.mark.parametrize("side", ["LONG", "SHORT"])
def test_trailing_only_tightens(side: str) -> None:
    cfg = Exits(stop_pct=0.05, take_profit_enabled=False, trailing_enabled=True,
                trailing_mode="atr", trailing_atr_multiple=2.0, trailing_activation_r=0.0)
    bars = [bar("100", "101", "99", "100.5", 1, atr="1"),   # 100.5 - 2 = 98.5
            bar("100.5", "103", "100", "102.6", 2, atr="1"),  # 100.6
            bar("102.6", "102.6", "101", "101.2", 3, atr="1"),  # 99.2: looser, ignored
            bar("101.2", "102", "101", "101.9", 4, atr="2")]  # 97.9: looser, ignored
    if side == "SHORT":
        bars = [mirror(b) for b in bars]
    _, got, st = run(cfg, side, bars, atr="1")
    moves = [a for step in got for a in step]
    expected = [D("98.5"), D("100.6")]
    if side == "SHORT":
        expected = [2 * PIVOT - x for x in expected]
    assert [m.stop for m in moves if isinstance(m, MoveStop)] == expected
    assert got[2] == []
    assert got[3] == []
    assert st.stop == expected[-1]


def test_trailing_waits_for_its_activation_threshold() -> None:
    cfg = Exits(stop_pct=0.02, take_profit_enabled=False, trailing_enabled=True,
                trailing_pct=0.01, trailing_activation_r=1.5)          # activates at 103
    _, got, st = run(cfg, "LONG", [bar("100", "102.9", "100", "102.5", 1),
                                   bar("102.5", "103", "102", "102.8", 2)])
    assert got[0] == []
    assert got[1] == [MoveStop(D("102.0"), D("98.0"), ExitReason.TRAILING)]  # 103 x .99 = 101.97
    assert st.trailing_active


@pytest.mark.parametrize("side", ["LONG", "SHORT"])
def test_chandelier_trails_the_extreme_less_k_atr(side: str) -> None:
    cfg = Exits(stop_pct=0.03, take_profit_enabled=False, trailing_enabled=True,
                trailing_mode="chandelier", trailing_atr_multiple=3.0,
                trailing_activation_r=0.0)
    bars = [bar("100", "102", "99.5", "100", 1, atr="0.5"),   # 102 - 1.5 = 100.5 > close 100
            bar("100", "103", "99.8", "102.9", 2, atr="0.5"),  # 103 - 1.5 = 101.5
            bar("102.9", "102.9", "101.6", "101.7", 3)]        # ATR kept; extreme still 103
    if side == "SHORT":
        bars = [mirror(b) for b in bars]
    _, got, _ = run(cfg, side, bars, atr="0.5")
    two = 2 * PIVOT
    expect = D("101.5") if side == "LONG" else two - D("101.5")
    assert got[0] == []  # 100.5 would sit through the close: wait for room
    assert got[1] == [MoveStop(expect, D("97.0") if side == "LONG" else D("103.0"),
                               ExitReason.TRAILING)]
    assert got[2] == []


@pytest.mark.parametrize("side", ["LONG", "SHORT"])
def test_break_even_after_one_r(side: str) -> None:
    cfg = Exits(stop_pct=0.02, take_profit_enabled=False, break_even_enabled=True,
                break_even_after_r=1.0, break_even_fee_offset_pct=0.0015)
    bars = [bar("100", "101.9", "99.5", "101.5", 1),   # 0.95R: nothing
            bar("101.5", "102", "101", "101.8", 2),     # 1R: stop -> 100.15 -> 100.2
            bar("101.8", "103", "101", "102", 3)]       # done once
    if side == "SHORT":
        bars = [mirror(b) for b in bars]
    _, got, st = run(cfg, side, bars)
    if side == "LONG":
        assert got == [[], [MoveStop(D("100.2"), D("98.0"), ExitReason.BREAK_EVEN)], []]
    else:  # 100 x (1 - 0.0015) = 99.85 rounds down to 99.8: the fees stay covered
        assert got == [[], [MoveStop(D("99.8"), D("102.0"), ExitReason.BREAK_EVEN)], []]
    assert st.break_even_done


def test_break_even_waits_while_the_price_sits_on_the_level() -> None:
    cfg = Exits(stop_pct=0.001, take_profit_enabled=False, break_even_enabled=True,
                break_even_after_r=1.0, break_even_fee_offset_pct=0.002)  # R = 0.1, BE 100.2
    _, got, _st = run(cfg, "LONG", [bar("100", "100.3", "99.95", "100.2", 1),
                                   bar("100.2", "100.4", "100.2", "100.3", 2)])
    assert got == [[], [MoveStop(D("100.2"), D("99.9"), ExitReason.BREAK_EVEN)]]


def test_pyramid_adds_within_the_risk_budget() -> None:
    cfg = Exits(stop_pct=0.02, take_profit_enabled=False, pyramiding_enabled=True,
                pyramid_after_r=1.0, pyramid_max_adds=2)     # R = 2, budget = 2
    bars = [bar("100", "102.5", "99.8", "102", 1),    # +1R at the close: add
            bar("102", "103", "101.5", "102.9", 2),   # not 1R past the last add yet
            bar("102.9", "104.5", "102.5", "104", 3),  # +1R past 102: second add
            bar("104", "107", "103.5", "106", 4)]      # max adds reached
    p, got, st = run(cfg, "LONG", bars)
    assert got[0] == [MoveStop(D("100.0"), D("98.0"), ExitReason.PYRAMID),
                      Add(D("1.000"), D("102"), 1)]
    assert got[1] == []
    # stop 102: lots at 100 and 102 risk nothing, the add at 104 risks 2 per unit: 1 unit
    assert got[2] == [MoveStop(D("102.0"), D("100.0"), ExitReason.PYRAMID),
                      Add(D("1.000"), D("104"), 2)]
    assert got[3] == []
    assert st.adds == 2
    assert st.quantity == D("3.000")
    assert st.open_risk(RULES.contract_size) == D("2.0") == p.risk_budget


def test_pyramid_add_is_smaller_when_the_first_lot_still_carries_risk() -> None:
    cfg = Exits(stop_pct=0.02, take_profit_enabled=False, pyramiding_enabled=True,
                pyramid_after_r=0.5, pyramid_max_adds=1)
    _, got, st = run(cfg, "SHORT", [bar("100", "100.2", "98.9", "99", 1)])
    # new stop 99 + 2 = 101; first lot risks 1 per unit, room 1, the add risks 2 per unit
    assert got == [[MoveStop(D("101.0"), D("102.0"), ExitReason.PYRAMID),
                    Add(D("0.500"), D("99"), 1)]]
    assert st.open_risk() == D("2.0")


def test_no_pyramid_after_a_partial_exit() -> None:
    cfg = Exits(stop_pct=0.02, take_profit_enabled=False, pyramiding_enabled=True,
                pyramid_after_r=1.0, pyramid_max_adds=3,
                partials=(PartialTakeProfit(r_multiple=0.5, fraction=0.5),))
    _, got, st = run(cfg, "LONG", [bar("100", "102.5", "99.8", "102", 1),
                                   bar("102", "105", "102", "105", 2)])
    assert got[0] == [Reduce(D("0.500"), D("101.0"), ExitReason.PARTIAL_TAKE_PROFIT, 0)]
    assert got[1] == []
    assert st.adds == 0


@pytest.mark.parametrize("side", ["LONG", "SHORT"])
def test_time_stop(side: str) -> None:
    cfg = Exits(stop_pct=0.02, take_profit_r=2.0, time_stop_hours=3.0)
    bars = [bar("100", "101", "99", "100.5", 1), bar("100.5", "101", "99", "100.7", 2),
            bar("100.7", "101", "99", "100.9", 3)]
    if side == "SHORT":
        bars = [mirror(b) for b in bars]
    _, got, st = run(cfg, side, bars)
    assert got[:2] == [[], []]
    assert got[2] == [Close(D(1), bars[2].close, ExitReason.TIME_STOP)]
    assert st.closed


def test_seed_002_take_profit_on_ticks() -> None:
    cfg = RiskConfig.preset("aurora-kelly", env={}).exits
    eng = ExitEngine(cfg)
    for side, below, at, beyond in (("LONG", "50000.4", "50000.5", "50001"),
                                    ("SHORT", "49999.6", "49999.5", "49999")):
        p = eng.build_plan(symbol="X", side=side, entry=D("50000"), quantity=D("0.01"),
                           rules=RULES)
        st = eng.start(p)
        assert eng.on_tick(st, p, D(below), T0).actions == ()
        # no stop: a deep adverse move does nothing (the seed had no stop loss)
        assert eng.on_tick(st, p, D("40000") if side == "LONG" else D("60000"), T0).actions == ()
        for price in (at, beyond):
            up = eng.on_tick(st, p, D(price), T0)
            assert up.actions == (Close(D("0.01"), D(price), ExitReason.TAKE_PROFIT, 0),)
            assert up.state.closed


def test_on_tick_is_a_bar_of_one_price() -> None:
    cfg = Exits(stop_pct=0.02, take_profit_r=2.0, trailing_enabled=True, trailing_pct=0.01,
                trailing_activation_r=0.5)
    eng = ExitEngine(cfg)
    p = eng.build_plan(symbol="X", side="LONG", entry=PIVOT, quantity=D(1), rules=RULES)
    st = eng.start(p)
    for i, price in enumerate(["100.5", "101.5", "101", "99"]):
        now = T0 + timedelta(minutes=i)
        a = eng.on_tick(st, p, D(price), now)
        b = eng.on_bar(st, p, Bar(D(price), D(price), D(price), D(price), now))
        assert a == b
        st = a.state
    assert st.closed


def test_state_guards() -> None:
    eng = ExitEngine(BASIC)
    p = eng.build_plan(symbol="X", side="LONG", entry=PIVOT, quantity=D(1), rules=RULES,
                       opened_at=T0)
    st = eng.start(p)
    up = eng.on_bar(st, p, bar("100", "101", "99", "100", 2))
    with pytest.raises(InvalidInputError) as exc:
        eng.on_bar(up.state, p, bar("100", "101", "99", "100", 1))   # time went backwards
    assert exc.value.field == "bar.ts"
    with pytest.raises(InvalidInputError) as exc:
        eng.on_tick(st, p, D(100), T0 - timedelta(hours=1))          # before the opening
    assert exc.value.field == "bar.ts"
    closed = eng.on_bar(st, p, bar("100", "100", "97", "97", 1)).state
    with pytest.raises(InvalidInputError) as exc:
        eng.on_bar(closed, p, bar("100", "101", "99", "100", 2))
    assert exc.value.field == "state.quantity"
    other = eng.build_plan(symbol="X", side="SHORT", entry=PIVOT, quantity=D(1), rules=RULES)
    with pytest.raises(InvalidInputError) as exc:
        eng.on_bar(st, other, bar("100", "101", "99", "100", 1))
    assert exc.value.field == "state"


def test_apply_rejects_actions_that_do_not_fit() -> None:
    eng = ExitEngine(BASIC)
    p = eng.build_plan(symbol="X", side="LONG", entry=PIVOT, quantity=D(1), rules=RULES)
    st = eng.start(p)
    with pytest.raises(InvalidInputError):
        st.apply(MoveStop(D("97.9"), st.stop, ExitReason.TRAILING))   # looser
    with pytest.raises(InvalidInputError):
        st.apply(Reduce(D("1"), D(101), ExitReason.PARTIAL_TAKE_PROFIT, 0))  # whole position
    with pytest.raises(InvalidInputError):
        st.apply(Close(D("0.5"), D(101), ExitReason.STOP_LOSS))
    reduced = st.apply(Reduce(D("0.5"), D(101), ExitReason.PARTIAL_TAKE_PROFIT, 0))
    with pytest.raises(InvalidInputError):
        reduced.apply(Add(D("0.5"), D(101), 1))
    assert reduced.open_risk() == D("1.0")
    assert reduced.average_entry == PIVOT


@pytest.mark.parametrize(("args", "field"), [
    (("100", "99", "98", "100"), "bar.high"),
    (("100", "101", "100.5", "100.6"), "bar.low"),
    (("0", "101", "99", "100"), "bar.open"),
    (("100", "101", "99", "inf"), "bar.close"),
])
def test_bad_bars_name_the_field(args: tuple[str, str, str, str], field: str) -> None:
    o, h, lo, c = (D(x) for x in args)
    with pytest.raises(InvalidInputError) as exc:
        Bar(o, h, lo, c, T0)
    assert exc.value.field == field
    with pytest.raises(InvalidInputError) as exc2:
        Bar(D(100), D(101), D(99), D(100), datetime(2024, 1, 1))
    assert exc2.value.field == "bar.ts"


def test_actions_to_dict() -> None:
    assert MoveStop(D("1.5"), None, ExitReason.BREAK_EVEN).to_dict() == {
        "action": "MOVE_STOP", "stop": "1.5", "previous": None, "reason": "BREAK_EVEN"}
    assert Add(D("0.1"), D("2"), 1).to_dict()["reason"] == "PYRAMID"
    assert Close(D("1"), D("2"), ExitReason.TIME_STOP).to_dict()["level"] is None
    assert Reduce(D("1"), D("2"), ExitReason.PARTIAL_TAKE_PROFIT, 3).to_dict()["level"] == 3


def test_the_plan_carries_its_own_rules() -> None:
    target_first = Exits(stop_pct=0.02, take_profit_r=2.0, intrabar="target_first")
    p = ExitEngine(target_first).build_plan(symbol="X", side="LONG", entry=PIVOT,
                                            quantity=D(1), rules=RULES)
    other = ExitEngine(Exits(intrabar="stop_first"))
    up = other.on_bar(other.start(p), p, bar("100", "104.5", "97.5", "99"))
    assert up.actions == (Close(D(1), D("104.0"), ExitReason.TAKE_PROFIT, 0),)


def test_adopted_position_already_through_its_stop_closes_on_the_first_tick() -> None:
    eng = ExitEngine(Exits(stop_pct=0.02, take_profit_r=2.0))
    pos = Position("X", Side.SHORT, D("0.4"), D("100"), mark_price=D("103"))
    p = eng.plan_for_position(pos, RULES)
    up = eng.on_tick(eng.start(p), p, D("103"), T0)
    assert up.actions == (Close(D("0.4"), D("103"), ExitReason.STOP_LOSS),)


def test_on_tick_atr_feeds_the_trailing_stop() -> None:
    cfg = Exits(stop_pct=0.05, take_profit_enabled=False, trailing_enabled=True,
                trailing_mode="atr", trailing_atr_multiple=2.0, trailing_activation_r=0.0)
    eng = ExitEngine(cfg)
    p = eng.build_plan(symbol="X", side="LONG", entry=PIVOT, quantity=D(1), rules=RULES,
                       atr=D("3"))
    st = eng.start(p)
    assert eng.on_tick(st, p, D("101"), T0).actions == ()          # 101 - 6 = 95: not tighter
    up = eng.on_tick(st, p, D("101"), T0, atr=D("1"))               # 101 - 2 = 99
    assert up.actions == (MoveStop(D("99.0"), D("95.0"), ExitReason.TRAILING),)
    assert up.state.atr == D("1")
