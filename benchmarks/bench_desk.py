"""Desk benchmarks: one full recommend, and recommend_batch over 10,000 symbols."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from benchmarks.runner import Bench
from riskdesk import AccountState, MarketRules, MarketSnapshot, Position, RiskConfig, Signal
from riskdesk.desk import Desk
from riskdesk.desk._batch_input import BatchInput

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


def _account(n_positions: int = 8) -> AccountState:
    positions = tuple(
        Position(f"ALT{i}USDT", "LONG", Decimal("10"), Decimal("20"), leverage=Decimal(5),
                 score=60.0 + i) for i in range(n_positions))
    return AccountState(equity=Decimal(10_000), available=Decimal(9_000),
                        margin_used=Decimal(320), as_of=NOW - timedelta(seconds=2),
                        positions=positions, high_water_mark=Decimal(10_400),
                        buying_power=Decimal(45_000), trades_today=1)


def _market(symbol: str, price: float) -> MarketSnapshot:
    rules = MarketRules(symbol, step=Decimal("0.001"), tick=Decimal("0.01"),
                        min_qty=Decimal("0.001"), min_notional=Decimal("5"),
                        max_leverage=Decimal(50))
    p = Decimal(repr(price))
    return MarketSnapshot(rules, price=p, as_of=NOW - timedelta(seconds=1),
                          bid=p - Decimal("0.01"), ask=p + Decimal("0.01"),
                          atr=Decimal(repr(round(price * 0.021, 4))), vix=18.0)


def main(bench: Bench) -> None:
    cfg = RiskConfig.preset("crypto-capital-manager", env={})
    desk = Desk(cfg)
    account = _account()
    market = _market("SOLUSDT", 143.27)
    signal = Signal("SOLUSDT", "LONG", score=85.0, win_rate=0.55, regime="TRENDING")
    d = desk.recommend(signal, account, market, now=NOW)
    assert d.approved, d
    bench.time("recommend (crypto preset, 8 positions, all gates)",
               lambda: desk.recommend(signal, account, market, now=NOW),
               note=f"{d.action.value}, {len(d.trail)} trail steps")
    nows = itertools.cycle([NOW + timedelta(milliseconds=i) for i in range(1000)])
    bench.time("recommend, same account, a new `now` each call",
               lambda: desk.recommend(signal, account, market, now=next(nows)))
    fresh = [_account() for _ in range(64)]
    it = iter(fresh * 100_000)
    bench.time("recommend, new AccountState object each call (64 objects in turn)",
               lambda: desk.recommend(signal, next(it), market, now=NOW))
    # Each account object decided once, never before: nothing about it is remembered.
    unseen = [_account() for _ in range(3000)]
    p50, mean = _each_once(lambda a: desk.recommend(signal, a, market, now=NOW), unseen)
    bench.record("recommend, an account object never seen before (8 positions)", p50,
                 "us/call p50", note=f"mean {mean:.1f} us over {len(unseen)} accounts")

    default = Desk(RiskConfig.preset("default", env={}))
    acct2 = AccountState(equity=Decimal(50_000), available=Decimal(40_000), as_of=NOW)
    mk2 = MarketSnapshot(MarketRules("AAPL", step=Decimal(1), tick=Decimal("0.01")),
                         price=Decimal("226.80"), bid=Decimal("226.79"), ask=Decimal("226.81"),
                         as_of=NOW)
    sig2 = Signal("AAPL", "LONG")
    bench.time("recommend (default preset, no positions)",
               lambda: default.recommend(sig2, acct2, mk2, now=NOW))

    n = 10_000
    rng = np.random.default_rng(7)
    prices = np.round(rng.uniform(0.5, 900.0, n), 2)
    markets = [_market(f"C{i}USDT", float(p)) for i, p in enumerate(prices)]
    signals = [Signal(f"C{i}USDT", "LONG" if i % 3 else "SHORT", score=float(s),
                      win_rate=0.55, regime="TRENDING")
               for i, s in enumerate(rng.uniform(40, 95, n))]
    t0 = time.perf_counter()
    batch = BatchInput.from_objects(signals, markets)
    build = time.perf_counter() - t0
    out = desk.recommend_batch(batch, account, now=NOW)
    share = 1.0 - len(out.scalar_rows) / n
    best = min(_timed(lambda: desk.recommend_batch(batch, account, now=NOW)) for _ in range(7))
    bench.record("recommend_batch 10,000 symbols (columns prepared)", n / best, "decisions/s",
                 note=f"{best * 1e3:.1f} ms per call; {share:.1%} rows vectorized")
    bench.record("recommend_batch 10,000 symbols incl. BatchInput.from_objects",
                 n / (best + build), "decisions/s", note=f"from_objects {build * 1e3:.0f} ms")
    t0 = time.perf_counter()
    for s, m in zip(signals[:2000], markets[:2000], strict=True):
        desk.recommend(s, account, m, now=NOW)
    scalar_rate = 2000 / (time.perf_counter() - t0)
    bench.record("scalar recommend loop, same rows", scalar_rate, "decisions/s")


def _each_once(fn: Callable[[AccountState], object],
               items: list[AccountState]) -> tuple[float, float]:
    """Call ``fn`` once per item, timing each call; p50 and mean in microseconds."""
    clock = time.perf_counter
    times = []
    for item in items:
        t0 = clock()
        fn(item)
        times.append(clock() - t0)
    times.sort()
    return times[len(times) // 2] * 1e6, sum(times) / len(times) * 1e6


def _timed(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0
