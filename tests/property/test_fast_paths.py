"""The decision pipeline's fast paths give exactly what the paths they stand for give.

- ``MarketRules.quantize_qty_down`` against ``MarketRules.quantize_qty(x, Rounding.DOWN)``;
- ``leverage_parts`` against ``optimal_leverage``, ``opportunity_parts`` against
  ``opportunity_cost``;
- ``AccountState.figures`` against the Decimal properties and sums it replaces;
- a desk whose per-account caches are warm against a new desk seeing a new account object.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from riskdesk import AccountState, MarketRules, MarketSnapshot, Position, RiskConfig, Signal
from riskdesk.config import Leverage, Opportunity
from riskdesk.desk import Desk
from riskdesk.domain import BookLevel, Intent, ReasonCode, Rounding
from riskdesk.errors import InvalidInputError
from riskdesk.limits import opportunity_cost, opportunity_parts, worst_scored
from riskdesk.sizing import leverage_parts, optimal_leverage

NOW = datetime(2025, 8, 1, 10, 0, tzinfo=UTC)
STEPS = ["1", "0.1", "0.01", "0.001", "0.00001", "0.00000001", "5", "25", "0.25", "0.0025",
         "0.3", "0.7", "0.0010", "1E+1", "0.123456789", "7E-9", "1234567.891",
         "0.1234567890123456789012345"]
opt = st.one_of


def outcome(fn, *args):
    """The value's exact repr, or the error's type and message."""
    try:
        return "ok", repr(fn(*args))
    except (InvalidInputError, ArithmeticError) as e:
        return "error", type(e).__name__, str(e)


# --------------------------------------------------------------------- quantize_qty_down
@st.composite
def rules(draw: st.DrawFn) -> MarketRules:
    step = Decimal(draw(st.sampled_from(STEPS)))
    on_grid = draw(st.booleans())
    min_qty = step * draw(st.integers(0, 30)) if on_grid \
        else Decimal(repr(draw(st.floats(0, 10))))
    max_qty = draw(opt(st.none(), st.integers(1, 10**7).map(lambda k: min_qty + step * k),
                       st.floats(1e-3, 1e5).map(lambda f: min_qty + Decimal(repr(f)))))
    return MarketRules("X", step=step, tick="0.01", min_qty=min_qty, max_qty=max_qty)


def nudge(x: float, ulps: int) -> float:
    for _ in range(abs(ulps)):
        x = math.nextafter(x, math.inf if ulps > 0 else -math.inf)
    return x


@st.composite
def quantities(draw: st.DrawFn, r: MarketRules) -> float:
    """Quantities on, next to and between grid points, at the limits, and anywhere."""
    kind = draw(st.sampled_from(["grid", "between", "limit", "limit", "any", "special"]))
    ulps = draw(st.integers(-4, 4))
    if kind == "grid":
        k = draw(opt(st.integers(0, 1000), st.integers(0, 10**12), st.integers(0, 2**53)))
        return nudge(float(r.step * k), ulps)
    edge = r.min_qty if r.max_qty is None or draw(st.booleans()) else r.max_qty
    if kind == "between":  # clearly between two grid points, near a limit: the float path
        k = int(edge / r.step) + draw(st.integers(-3, 3))
        return float(r.step * k) + float(r.step) * draw(st.floats(0.01, 0.99))
    if kind == "limit":
        return nudge(float(edge), ulps)
    if kind == "any":
        return draw(st.floats(0, 1e17, allow_nan=False, allow_infinity=False))
    return draw(st.sampled_from([0.0, -0.0, -1e-9, -5.0, 1e15, nudge(1e15, 1), 2e15,
                                 float(2**50), float(2**53), 5e-324, math.inf, -math.inf,
                                 math.nan]))


@given(st.data())
def test_quantize_qty_down_equals_quantize_qty(data: st.DataObject) -> None:
    r = data.draw(rules())
    x = data.draw(quantities(r))
    assert outcome(r.quantize_qty_down, x) == outcome(r.quantize_qty, x, Rounding.DOWN)


def test_quantize_qty_down_on_and_around_every_kind_of_grid_point() -> None:
    """A deterministic sweep: the float path's tie margin is where a mistake would hide."""
    checked = 0
    for step in STEPS:
        s = Decimal(step)
        for r in (MarketRules("X", step=s, tick="0.01"),
                  MarketRules("X", step=s, tick="0.01", min_qty=s * 3, max_qty=s * 1000),
                  MarketRules("X", step=s, tick="0.01", min_qty=Decimal("0.0123"),
                              max_qty=Decimal("987.654321"))):
            for k in (0, 1, 2, 3, 7, 10, 999, 1000, 1001, 12345, 10**6 + 1, 10**9 + 7,
                      10**12 + 3, 2**50 - 1, 2**50 + 1):
                on_grid = float(s * k)
                # next to the grid point (Decimal decides), then between points (float decides)
                xs = [nudge(on_grid, ulps) for ulps in range(-3, 4)]
                xs += [on_grid + float(s) * f for f in (0.001, 0.25, 0.5, 0.999)]
                for x in xs:
                    assert outcome(r.quantize_qty_down, x) == \
                        outcome(r.quantize_qty, x, Rounding.DOWN), (step, k, x)
                    checked += 1
    assert checked == len(STEPS) * 3 * 15 * 11


def test_quantize_qty_down_takes_the_float_path_and_matches_exponents() -> None:
    r = MarketRules("X", step="0.0010", tick="0.01", min_qty="0.003", max_qty="50")
    assert repr(r.quantize_qty_down(13.9581234)) == "Decimal('13.9580')"
    assert repr(r.quantize_qty_down(0.0021)) == "Decimal('0.0000')"  # below min_qty
    assert repr(r.quantize_qty_down(60.5)) == "Decimal('50.0000')"  # above max_qty
    assert repr(MarketRules("X", step="1E+1", tick="1").quantize_qty_down(37.5)) == \
        "Decimal('3E+1')"
    for bad in (-1.0, math.nan, math.inf, 2e15):
        with pytest.raises(InvalidInputError, match="quantity"):
            r.quantize_qty_down(bad)


# --------------------------------------------------------------------- leverage, opportunity
@st.composite
def leverage_configs(draw: st.DrawFn) -> Leverage:
    lo = draw(st.floats(1, 10))
    return Leverage(enabled=draw(st.booleans()), base=draw(st.floats(1, 30)), min_leverage=lo,
                    max_leverage=draw(st.floats(lo, 50)),
                    regime_multipliers={"TRENDING": 1.1, "RANGING": 0.8},
                    fixed=draw(opt(st.none(), st.floats(1, 20))))


maybe_bad = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(leverage_configs(), opt(st.none(), st.floats(0.001, 0.2), maybe_bad),
       opt(st.none(), st.floats(0, 50), maybe_bad), opt(st.none(), st.floats(0, 1e8), maybe_bad),
       opt(st.floats(1, 1e7), maybe_bad), opt(st.none(), st.floats(0, 1), maybe_bad),
       st.sampled_from([None, "TRENDING", "ranging", "VOLATILE"]),
       opt(st.none(), st.floats(1, 30)), opt(st.none(), st.floats(1, 60)))
def test_leverage_parts_equal_optimal_leverage(cfg, atr, spread, depth, equity, win, regime,
                                               lo, hi):
    def advice() -> tuple[object, ...]:
        a = optimal_leverage(atr_pct=atr, spread_bps=spread, depth=depth, equity=equity,
                             win_rate=win, regime=regime, cfg=cfg, min_leverage=lo,
                             max_leverage=hi)
        return a.leverage, a.raw, a.note, a.factors

    expected = outcome(advice)
    args = (atr, spread, depth, equity, win, regime, cfg, lo, hi)
    assert outcome(lambda: leverage_parts(*args)) == expected
    if expected[0] == "ok":
        lev, raw, note, factors = leverage_parts(*args, False)
        assert (lev, raw, note) == leverage_parts(*args)[:3]
        assert factors == ()
    else:
        assert outcome(lambda: leverage_parts(*args, False)) == expected


@given(opt(st.floats(-10, 120), maybe_bad), opt(st.floats(0, 1), maybe_bad),
       st.lists(opt(st.none(), st.floats(0, 100)), max_size=5))
def test_opportunity_parts_equal_opportunity_cost(score, free, scores) -> None:
    held = [Position(f"S{i}", "LONG", 1, 100, score=s) for i, s in enumerate(scores)]
    cfg = Opportunity()

    def advice() -> tuple[object, ...]:
        a = opportunity_cost(score, held, free, cfg)
        return a.action, a.worst_symbol, a.worst_score, a.note

    expected = outcome(advice)
    assert outcome(lambda: opportunity_parts(score, held, free, cfg)) == expected
    assert outcome(lambda: opportunity_parts(score, held, free, cfg,
                                             worst_scored(held))) == expected


# --------------------------------------------------------------------- account figures
def dec(x: float) -> Decimal:
    return Decimal(repr(x))


@st.composite
def accounts(draw: st.DrawFn) -> AccountState:
    equity = draw(st.floats(50, 5e6))
    positions = tuple(
        Position(sym, draw(st.sampled_from(["LONG", "SHORT"])), dec(draw(st.floats(0.001, 500))),
                 dec(draw(st.floats(0.01, 70_000))),
                 mark_price=draw(opt(st.none(), st.floats(0.01, 70_000).map(dec))),
                 leverage=draw(st.sampled_from([1, 2, 3, 5, 10, 20])),
                 contract_size=draw(st.sampled_from([1, 1, 100, "0.01"])),
                 strategy=draw(st.sampled_from([None, "momentum", "Momentum", "wheel"])),
                 score=draw(opt(st.none(), st.floats(0, 100))))
        for sym in draw(st.lists(st.sampled_from(["AAA", "BBB", "CCC", "DDD", "EEE"]),
                                 max_size=5, unique=True)))
    used = draw(st.floats(0, 0.6))
    return AccountState(
        equity=dec(equity), available=dec(equity * (1 - used)), margin_used=dec(equity * used),
        as_of=NOW - timedelta(seconds=draw(st.sampled_from([0, 1, 30]))), positions=positions,
        high_water_mark=dec(equity * draw(st.sampled_from([1.0, 1.04, 1.07, 1.12, 1.3]))),
        day_start_equity=dec(equity * draw(st.sampled_from([1.0, 1.02, 1.2]))),
        buying_power=draw(opt(st.none(), st.just(dec(equity * 3)))),
        trades_today=draw(st.integers(0, 5)))


@given(accounts())
def test_account_figures_equal_the_decimal_figures(a: AccountState) -> None:
    f = a.figures
    assert f is a.figures  # computed once
    assert (f.equity, f.available, f.margin_used) == \
        (float(a.equity), float(a.available), float(a.margin_used))
    assert f.buying_power == float(a.buying_power)  # type: ignore[arg-type]
    assert (f.drawdown, f.daily_pnl_pct, f.weekly_pnl_pct) == \
        (a.drawdown, a.daily_pnl_pct, a.weekly_pnl_pct)
    net = gross = 0.0
    by_symbol: dict[str, float] = {}
    margin: dict[str, float] = {}
    strategies: dict[str, int] = {}
    for p in a.positions:
        n = float(p.notional)
        net += n * p.side.sign
        gross += n
        by_symbol[p.symbol] = by_symbol.get(p.symbol, 0.0) + n * p.side.sign
        margin[p.symbol] = margin.get(p.symbol, 0.0) + n / float(p.leverage)
        if p.strategy:
            strategies[p.strategy.upper()] = strategies.get(p.strategy.upper(), 0) + 1
    assert (f.net, f.gross, f.by_symbol, f.margin_by_symbol, f.by_strategy) == \
        (net, gross, by_symbol, margin, strategies)
    assert replace(a).figures == f


# --------------------------------------------------------------------- warm and cold desks
PRESETS = ["default", "crypto-capital-manager", "aurora-capital-scaling", "equity-conviction",
           "phased-options", "aurora-kelly"]
CONFIGS = {n: RiskConfig.preset(n, env={}) for n in PRESETS}
SYMS = ["AAA", "BBB", "CCC", "DDD"]


@st.composite
def markets(draw: st.DrawFn, symbol: str) -> MarketSnapshot:
    price = draw(st.sampled_from([0.37, 25.0, 143.27, 2_500.0, 64_321.5]))
    spread = draw(st.sampled_from([0.0, 0.0002, 0.002]))
    book = draw(st.booleans())
    levels = tuple(BookLevel(price * (1 + 0.001 * i), draw(st.floats(0.01, 20)))
                   for i in range(3)) if book else ()
    return MarketSnapshot(
        MarketRules(symbol, step=draw(st.sampled_from(["1", "0.01", "0.001", "0.0025"])),
                    tick="0.0001", min_notional=draw(st.sampled_from(["0", "5"])),
                    max_leverage=draw(st.sampled_from(["1", "20", "125"]))),
        price=dec(price), bid=dec(price * (1 - spread)), ask=dec(price * (1 + spread)),
        as_of=NOW, atr=dec(price * draw(st.sampled_from([0.01, 0.03]))),
        vix=draw(opt(st.none(), st.floats(10, 40))), asks=levels, bids=levels)


@st.composite
def signals(draw: st.DrawFn, symbol: str) -> Signal:
    return Signal(symbol, draw(st.sampled_from(["LONG", "SHORT"])),
                  score=draw(st.sampled_from([None, 3.0, 4.8, 70.0, 85.0, 95.0])),
                  strength=draw(st.sampled_from([None, 0.03, -0.05, 0.2])),
                  win_rate=draw(st.sampled_from([None, 0.55, 0.6])),
                  win_loss_ratio=draw(st.sampled_from([None, 1.8])),
                  regime=draw(st.sampled_from([None, "TRENDING", "RANGING"])))


def figures(d) -> tuple[object, ...]:
    return (d.to_dict(), repr(d.quantity), repr(d.notional), repr(d.margin_required),
            repr(d.leverage), d.risk_pct, d.trail)


@given(st.sampled_from(PRESETS), accounts(), st.lists(st.sampled_from(SYMS), min_size=2,
                                                       max_size=4), st.data())
def test_a_warm_desk_answers_as_a_new_desk_would(preset, acct, syms, data) -> None:
    """Per-account caches (view, drawdown, trail entries) never change an answer."""
    cfg = CONFIGS[preset]
    # The Kelly stabilizer is desk memory by design (docs/desk.md): its history may differ.
    assume(not cfg.kelly.stabilizer.enabled)
    warm = Desk(cfg)
    for k, sym in enumerate(syms):
        sig, mkt = data.draw(signals(sym)), data.draw(markets(sym))
        now = NOW + timedelta(seconds=k)  # a new time each call, as a bot would pass
        before = warm.state
        got = warm.recommend(sig, acct, mkt, now=now)
        cold = Desk(cfg, state=before)
        want = cold.recommend(sig, replace(acct), mkt, now=now)
        assert figures(got) == figures(want)
        assert warm.state == cold.state


@given(st.sampled_from(PRESETS), accounts(), st.sampled_from(SYMS), st.data())
def test_each_sizing_step_starts_from_the_figure_the_last_one_ended_on(
        preset, acct, sym, data) -> None:
    """A trail entry reused from the account's cache must still fit where it is placed."""
    desk = Desk(CONFIGS[preset])
    decisions = [desk.recommend(data.draw(signals(sym)), acct, data.draw(markets(sym)), now=NOW)
                 for _ in range(3)]
    for d in decisions:
        if d.intent is not Intent.OPEN:
            continue
        sizing = [a for a in d.trail if a.step in ("base_size", "adjust", "cap")]
        for prev, nxt in pairwise(sizing):
            # (a cap with no room left records 0 but passes its negative room on)
            if prev.after > 0.0:
                assert nxt.before == prev.after, d.trail
        quantize = [a for a in d.trail if a.code is ReasonCode.QUANTIZE]
        if quantize:
            assert quantize[0].before == sizing[-1].after, d.trail
