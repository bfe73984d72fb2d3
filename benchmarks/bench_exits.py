"""ExitEngine.on_bar over a book of 1,000 positions (per position and per book)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from benchmarks.runner import Bench
from riskdesk.config import Exits, PartialTakeProfit
from riskdesk.domain import MarketRules, Side
from riskdesk.exits import Bar, ExitEngine, ExitPlan, PositionState

BOOK = 1000
T0 = datetime(2024, 1, 1, tzinfo=UTC)

CONFIGS = [
    Exits(),  # default: 2% stop, 2R target
    Exits(stop_mode="atr", stop_atr_multiple=2.0, take_profit_r=3.0, trailing_enabled=True,
          trailing_mode="chandelier", trailing_activation_r=1.0, break_even_enabled=True,
          partials=(PartialTakeProfit(r_multiple=1, fraction=0.5),
                    PartialTakeProfit(r_multiple=2, fraction=0.25))),
    Exits(stop_pct=0.01, take_profit_enabled=False, trailing_enabled=True,
          trailing_mode="atr", trailing_activation_r=0.5, pyramiding_enabled=True,
          pyramid_max_adds=3, pyramid_after_r=0.5, time_stop_hours=48),
    Exits(stop_enabled=False, take_profit_mode="percent", take_profit_pct=0.00001,
          take_profit_r=None),  # seed 002's rule
]


def _book(seed: int = 7) -> tuple[list[ExitPlan], list[PositionState], list[Bar], list[Bar]]:
    rnd = random.Random(seed)
    plans, states, quiet, busy = [], [], [], []
    for i in range(BOOK):
        tick = Decimal(rnd.choice(["0.01", "0.1", "0.5"]))
        rules = MarketRules(f"S{i}", step=Decimal("0.001"), tick=tick)
        entry = tick * rnd.randint(2000, 20000)
        side = rnd.choice([Side.LONG, Side.SHORT])
        cfg = CONFIGS[i % len(CONFIGS)]
        eng = ExitEngine(cfg)
        atr = (entry / 100).quantize(tick)
        plan = eng.build_plan(symbol=rules.symbol, side=side, entry=entry,
                              quantity=Decimal("1.5"), rules=rules, atr=atr, opened_at=T0)
        plans.append(plan)
        states.append(eng.start(plan))
        ts = T0 + timedelta(hours=1)
        e = entry
        quiet.append(Bar(e, e, e, e, ts, atr))  # flat at the entry: nothing to do
        # a bar that moves 0 to 3 % either way: stops, targets, trails, adds
        move = e * Decimal(rnd.uniform(-0.03, 0.03)).quantize(Decimal("0.0001"))
        c = (e + move).quantize(tick)
        busy.append(Bar(e, max(e, c) + tick * 3, min(e, c) - tick * 3, c, ts, atr))
    return plans, states, quiet, busy


def main(bench: Bench) -> None:
    plans, states, quiet, busy = _book()
    engines = [ExitEngine(p.config) for p in plans]
    items_quiet = list(zip(engines, states, plans, quiet, strict=True))
    items_busy = list(zip(engines, states, plans, busy, strict=True))

    def book_quiet() -> None:
        for eng, st, plan, b in items_quiet:
            eng.on_bar(st, plan, b)

    def book_busy() -> None:
        for eng, st, plan, b in items_busy:
            eng.on_bar(st, plan, b)

    actions = sum(len(e.on_bar(s, p, b).actions) for e, s, p, b in items_busy)
    bench.record("busy bar: actions per book", actions, "actions",
                 note=f"{BOOK} positions, 4 exit set-ups, longs and shorts")
    row = bench.time("on_bar per book, quiet bar", book_quiet, batch=1,
                     note=f"{BOOK} positions, no level touched")
    bench.record("on_bar per position, quiet bar", (row.p50 or 0.0) / BOOK, "us/call",
                 note="per-book p50 / 1,000")
    row = bench.time("on_bar per book, busy bar", book_busy, batch=1,
                     note=f"{BOOK} positions, moves of up to 3%")
    bench.record("on_bar per position, busy bar", (row.p50 or 0.0) / BOOK, "us/call",
                 note="per-book p50 / 1,000")
    for row in bench.rows[-4:]:
        if row.p50 is not None:
            row.unit = "us/book"
