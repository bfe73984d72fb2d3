"""HTTP load on loopback: POST /api/capital/recommendation/position against hello-world.

Both apps run under uvicorn with 2 worker processes; the service on SQLite with journaling
and reservations (the ``make run`` setup). A Python load generator (httpx, one pooled client
per thread, several client processes) drives each for a fixed time and records requests/s,
p50 and p99. Environment: RISKDESK_BENCH_SECONDS (default 6), RISKDESK_BENCH_CLIENTS
(processes, default 2), RISKDESK_BENCH_THREADS (per process, default 8).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.runner import Bench

SECONDS = float(os.environ.get("RISKDESK_BENCH_SECONDS", "6"))
CLIENTS = int(os.environ.get("RISKDESK_BENCH_CLIENTS", "2"))
THREADS = int(os.environ.get("RISKDESK_BENCH_THREADS", "8"))
BODY = {"symbol": "AAPL", "side": "LONG", "signal_score": 75, "expected_return_pct": 3.5,
        "market_regime": "TRENDING", "win_rate": 0.58,
        "market": {"bid": "430.46", "ask": "430.48"}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(factory_or_app: str, port: int, env: dict[str, str], *, factory: bool
           ) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", factory_or_app, "--host", "127.0.0.1",
           "--port", str(port), "--workers", "2", "--no-access-log", "--log-level", "warning"]
    if factory:
        cmd.append("--factory")
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{factory_or_app} did not start")


def _client(url: str, headers: dict[str, str], seconds: float, threads: int,
            queue: Any) -> None:
    import threading

    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker() -> None:
        mine: list[float] = []
        bad = 0
        with httpx.Client(headers=headers, timeout=10,
                          limits=httpx.Limits(max_connections=1)) as c:
            end = time.perf_counter() + seconds
            while True:
                t0 = time.perf_counter()
                if t0 >= end:
                    break
                r = c.post(url, json=BODY)
                mine.append(time.perf_counter() - t0)
                bad += r.status_code != 200
        with lock:
            lat.extend(mine)
            errors[0] += bad

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    queue.put((lat, errors[0]))


def _drive(url: str, headers: dict[str, str]) -> tuple[float, float, float, int, int]:
    # Warm up (imports, connections, SQLite pages) before measuring.
    with httpx.Client(headers=headers, timeout=10) as c:
        for _ in range(50):
            c.post(url, json=BODY)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_client, args=(url, headers, SECONDS, THREADS, queue))
             for _ in range(CLIENTS)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    lat = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)
    n = len(lat)
    return (n / min(elapsed, SECONDS + 1.0), lat[n // 2] * 1e3,
            lat[min(n - 1, int(n * 0.99))] * 1e3, n, errors)


def main(bench: Bench) -> None:
    from riskdesk.demo import prepare

    with tempfile.TemporaryDirectory() as tmp:
        url, admin_key, _, _ = prepare(Path(tmp) / "bench.db")
        env = {"RISKDESK_DB_URL": url, "RISKDESK_CONFIG": "default",
               "RISKDESK_RESERVATION_TTL": "1", "RISKDESK_ACCESS_LOG": "1",
               "PROMETHEUS_MULTIPROC_DIR": tmp}
        hello_port, svc_port = _free_port(), _free_port()
        hello = _start("benchmarks._hello:app", hello_port, {}, factory=False)
        try:
            h_rps, h50, h99, hn, herr = _drive(f"http://127.0.0.1:{hello_port}/hello", {})
        finally:
            hello.terminate()
            hello.wait(10)
        svc = _start("riskdesk.api.app:create_app_from_env", svc_port, env, factory=True)
        try:
            s_rps, s50, s99, sn, serr = _drive(
                f"http://127.0.0.1:{svc_port}/api/capital/recommendation/position",
                {"X-API-Key": admin_key})
        finally:
            svc.terminate()
            svc.wait(10)
    load = f"{CLIENTS}x{THREADS} clients, {SECONDS:g}s, 2 workers"
    bench.record("hello-world requests/s", h_rps, "req/s", f"{hn} requests, {herr} non-200; {load}")
    bench.record("hello-world p50", h50, "ms")
    bench.record("hello-world p99", h99, "ms")
    bench.record("recommendation requests/s", s_rps, "req/s",
                 f"{sn} requests, {serr} non-200; SQLite, journaled; {load}")
    bench.record("recommendation p50", s50, "ms")
    bench.record("recommendation p99", s99, "ms")
    bench.record("recommendation / hello-world", 100.0 * s_rps / h_rps, "%", "target >= 50%")
