"""A small benchmark runner: ``python -m benchmarks.runner [module ...]``.

Each ``benchmarks/bench_*.py`` module defines ``main(bench: Bench) -> None`` and calls
``bench.time(name, fn)`` for per-call timings or ``bench.record(name, value, unit)`` for
figures it measures itself (throughput, requests/s). The runner prints one table.
"""

from __future__ import annotations

import importlib
import pkgutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Row:
    suite: str
    name: str
    p50: float | None = None
    p99: float | None = None
    mean: float | None = None
    calls: int = 0
    value: float | None = None
    unit: str = "us/call"
    note: str = ""


@dataclass
class Bench:
    suite: str = ""
    rows: list[Row] = field(default_factory=list)
    min_time: float = 0.3

    def time(self, name: str, fn: Callable[[], object], *, batch: int | None = None,
             per: int = 1, note: str = "") -> Row:
        """Time ``fn``; ``per`` divides each sample (e.g. symbols per batch call)."""
        fn()  # warm up
        if batch is None:
            t0 = time.perf_counter()
            n = 0
            while time.perf_counter() - t0 < 0.02:
                fn()
                n += 1
            elapsed = (time.perf_counter() - t0) / max(n, 1)
            batch = max(1, int(2e-4 / max(elapsed, 1e-9)))
        samples: list[float] = []
        t_start = time.perf_counter()
        while time.perf_counter() - t_start < self.min_time or len(samples) < 15:
            t0 = time.perf_counter()
            for _ in range(batch):
                fn()
            samples.append((time.perf_counter() - t0) / batch / per)
            if len(samples) >= 20000:
                break
        samples.sort()
        row = Row(
            self.suite, name,
            p50=samples[len(samples) // 2] * 1e6,
            p99=samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1e6,
            mean=statistics.fmean(samples) * 1e6,
            calls=len(samples) * batch,
            note=note,
        )
        self.rows.append(row)
        print(f"  {self.suite}/{name}: p50 {row.p50:.2f} us", file=sys.stderr, flush=True)
        return row

    def record(self, name: str, value: float, unit: str, note: str = "") -> Row:
        """Record a figure measured by the benchmark itself."""
        row = Row(self.suite, name, value=value, unit=unit, note=note)
        self.rows.append(row)
        print(f"  {self.suite}/{name}: {value:.4g} {unit}", file=sys.stderr, flush=True)
        return row


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.2f}"


def render(rows: list[Row]) -> str:
    """Render rows as a Markdown table."""
    out = ["| suite | benchmark | p50 | p99 | unit | note |", "|---|---|---:|---:|---|---|"]
    for r in rows:
        if r.value is not None:
            out.append(f"| {r.suite} | {r.name} | {_fmt(r.value)} | | {r.unit} | {r.note} |")
        else:
            out.append(f"| {r.suite} | {r.name} | {_fmt(r.p50)} | {_fmt(r.p99)} | {r.unit} "
                       f"| {r.note} |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    wanted = [a.removeprefix("bench_").removesuffix(".py") for a in argv]
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if wanted:
        names = [n for n in names if n.removeprefix("bench_") in wanted]
    bench = Bench()
    for name in names:
        bench.suite = name.removeprefix("bench_")
        print(f"running {name}", file=sys.stderr, flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        module.main(bench)
    print(render(bench.rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
