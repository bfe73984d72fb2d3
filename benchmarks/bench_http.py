"""HTTP load on loopback: POST /api/capital/recommendation/position against hello-world.

Both apps run under uvicorn with 2 worker processes; the service on SQLite with journaling
and reservations (the ``make run`` setup: paper account, synthetic book). The same load
generator drives both for the same time with the same number of connections, and records
requests/s, p50 and p99. A third app, the journaling floor (:mod:`benchmarks._floor`:
hello-world plus one durably group-committed SQLite row, nothing else), is measured the same
way: the most any service that journals each answer on disk reaches on this machine.

The service is measured three times, each time on a new database: with reservations that live
1 s (the paper account's budget fills within the first second, so most decisions are budget
refusals, journaled as REJECT), with reservations that live 0.05 s (most decisions are
approved and write their reservation too), and with a new ``Idempotency-Key`` on every request
(reservations live 1 s), as a bot that retries safely sends it. The mix of actions in the
journal is recorded. Each run also records the server's CPU time per request (all its
processes, from ``/proc``): on a machine where the servers are CPU-bound, the ratio of two
rates follows the inverse ratio of their CPU per request.

The load generator is ``wrk`` when it is installed (a compiled client that leaves the CPU to
the servers; ``apt-get install wrk``), else a Python client (httpx, several processes) that
competes with the servers for the same cores. Nothing is installed by the benchmark; the
client it used is printed and recorded. Environment: RISKDESK_BENCH_CLIENT (``wrk`` or
``python``, default: wrk when found), RISKDESK_BENCH_SECONDS (default 6),
RISKDESK_BENCH_CONNECTIONS (default 8), RISKDESK_BENCH_CLIENTS and RISKDESK_BENCH_THREADS
(Python client: processes and threads per process, default 2 x 4).

The same endpoint is then measured on PostgreSQL (``riskdesk serve --db postgresql://...`` with
2 workers) in a scratch database on the server at RISKDESK_BENCH_PG_ADMIN_URL (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); when no server answers, the rows are
left out and the reason is printed.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from benchmarks._floor import create as create_floor
from benchmarks.runner import Bench

SECONDS = float(os.environ.get("RISKDESK_BENCH_SECONDS", "6"))
CONNECTIONS = int(os.environ.get("RISKDESK_BENCH_CONNECTIONS", "8"))
CLIENTS = int(os.environ.get("RISKDESK_BENCH_CLIENTS", "2"))
THREADS = int(os.environ.get("RISKDESK_BENCH_THREADS", "4"))
WARMUP = 2.0
BODY = {"symbol": "AAPL", "side": "LONG", "signal_score": 75, "expected_return_pct": 3.5,
        "market_regime": "TRENDING", "win_rate": 0.58,
        "market": {"bid": "430.46", "ask": "430.48"}}

Result = tuple[float, float, float, int, int]  # req/s, p50 ms, p99 ms, requests, non-200
#: A measured run: the client's figures and the server's CPU time per request (ms; ``None``
#: where ``/proc`` cannot be read).
Run = tuple[float, float, float, int, int, float | None]
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


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


def _cpu_seconds(root: int) -> float | None:
    """CPU time (user + system) used so far by process ``root`` and its descendants.

    Read from ``/proc``; ``None`` where there is none. It tells where a rate comes from: a
    server that is CPU-bound answers at most (cores / CPU per request) requests a second.
    """
    procs = Path("/proc")
    if not procs.is_dir():
        return None
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in procs.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(ticks.get(pid, 0) for pid in tree) / _TICK


# ---------------------------------------------------------------------- wrk
def _wrk_script(directory: Path, headers: dict[str, str], idempotent: bool) -> Path:
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(BODY))}",
             'wrk.headers["Content-Type"] = "application/json"']
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    if idempotent:  # a new key per request, as a bot sends one per order
        lines += ["local n = 0", "local run = tostring(math.random(1, 2^30))",
                  "request = function()", "  n = n + 1",
                  '  wrk.headers["Idempotency-Key"] = "bench-" .. run .. "-" .. n',
                  "  return wrk.format()", "end"]
    path = directory / f"post-{len(headers)}-{int(idempotent)}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def _wrk(url: str, script: Path, seconds: float) -> Result:
    out = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency",
                          "-s", str(script), url], capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    if errors:
        print(f"  wrk: {errors.group(0)}", file=sys.stderr)
    return rps, p50, p99, n, int(bad.group(1)) if bad else 0


# ---------------------------------------------------------------------- Python client
def _client(url: str, headers: dict[str, str], seconds: float, threads: int,
            idempotent: bool, queue: Any) -> None:
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
                r = c.post(url, json=BODY, headers={"Idempotency-Key": uuid.uuid4().hex}
                           if idempotent else None)
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


def _python(url: str, headers: dict[str, str], seconds: float, idempotent: bool) -> Result:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_client, args=(url, headers, seconds, THREADS, idempotent, queue))
             for _ in range(CLIENTS)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    lat = sorted(x for r in results for x in r[0])
    n = len(lat)
    return (n / min(elapsed, seconds + 1.0), lat[n // 2] * 1e3,
            lat[min(n - 1, int(n * 0.99))] * 1e3, n, sum(r[1] for r in results))


# ---------------------------------------------------------------------- the run
def _client_name() -> str:
    wanted = os.environ.get("RISKDESK_BENCH_CLIENT", "wrk" if shutil.which("wrk") else "python")
    if wanted == "wrk" and not shutil.which("wrk"):
        raise SystemExit("RISKDESK_BENCH_CLIENT=wrk but wrk is not installed "
                         "(apt-get install wrk)")
    if wanted not in ("wrk", "python"):
        raise SystemExit(f"RISKDESK_BENCH_CLIENT: {wanted!r}, expected wrk or python")
    return wanted


def _drive(client: str, url: str, headers: dict[str, str], tmp: Path,
           server: subprocess.Popen[bytes], idempotent: bool = False) -> Run:
    """Warm ``url`` up, then measure it; with the server's CPU time per request.

    ``idempotent``: every request carries a new ``Idempotency-Key``.
    """
    if client == "wrk":
        script = _wrk_script(tmp, headers, idempotent)
        _wrk(url, script, WARMUP)  # imports, connections, SQLite pages
    else:
        with httpx.Client(headers=headers, timeout=10) as c:
            for _ in range(50):
                c.post(url, json=BODY)
    before = _cpu_seconds(server.pid)
    result = _wrk(url, script, SECONDS) if client == "wrk" \
        else _python(url, headers, SECONDS, idempotent)
    after = _cpu_seconds(server.pid)
    # Requests still in flight when the client stops are few against thousands measured.
    cpu = None if before is None or after is None or not result[3] \
        else 1e3 * (after - before) / result[3]
    return (*result, cpu)


def _record_variant(bench: Bench, name: str, run: Run, hello_rps: float, note: str) -> None:
    """The rows of one more run of the endpoint: rate, p50, p99, CPU, share of hello-world."""
    rps, p50, p99, n, bad, cpu = run
    bench.record(f"{name} requests/s", rps, "req/s", f"{n} requests, {bad} non-200; {note}")
    bench.record(f"{name} p50", p50, "ms")
    bench.record(f"{name} p99", p99, "ms")
    _record_cpu(bench, name, cpu)
    bench.record(f"{name} / hello-world", 100.0 * rps / hello_rps, "%", "target >= 50%")


def _record_cpu(bench: Bench, name: str, cpu: float | None) -> None:
    """A row with the server's CPU time per request (all its processes), when measured."""
    if cpu is not None:
        bench.record(f"{name} CPU per request", cpu, "ms",
                     "server processes' user + system time / requests")


PG_ADMIN_URL = os.environ.get("RISKDESK_BENCH_PG_ADMIN_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_database() -> tuple[str, Any] | None:
    """A scratch database's URL and a function dropping it, or ``None`` without a server."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.pool import NullPool

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                             connect_args={"connect_timeout": 3})
    try:
        conn = admin.connect()
    except OperationalError as exc:
        admin.dispose()
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        print(f"  http: no PostgreSQL server at {PG_ADMIN_URL} ({first}): PostgreSQL rows "
              "left out", file=sys.stderr)
        return None
    name = f"riskdesk_bench_{uuid.uuid4().hex[:12]}"
    with conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False), drop


def _postgres(bench: Bench, client: str, load: str, tmp: Path) -> None:
    from riskdesk.demo import prepare

    scratch = _pg_database()
    if scratch is None:
        return
    url, drop = scratch
    try:
        _, admin_key, _, _ = prepare(url)
        env = {"RISKDESK_DB_URL": url, "RISKDESK_CONFIG": "default",
               "RISKDESK_RESERVATION_TTL": "1", "RISKDESK_ACCESS_LOG": "1",
               "PROMETHEUS_MULTIPROC_DIR": str(tmp)}
        port = _free_port()
        load_avg = os.getloadavg()[0]
        svc = _start("riskdesk.api.app:create_app_from_env", port, env, factory=True)
        try:
            rps, p50, p99, n, bad, cpu = _drive(
                client, f"http://127.0.0.1:{port}/api/capital/recommendation/position",
                {"X-API-Key": admin_key}, tmp, svc)
        finally:
            svc.terminate()
            svc.wait(10)
        mix = _mix(url)
    finally:
        drop()
    bench.record("recommendation (PostgreSQL) requests/s", rps, "req/s",
                 f"{n} requests, {bad} non-200; PostgreSQL, journaled; {load}; "
                 f"load avg {load_avg:.2f}; reservations live 1 s: {mix}")
    bench.record("recommendation (PostgreSQL) p50", p50, "ms")
    bench.record("recommendation (PostgreSQL) p99", p99, "ms")
    _record_cpu(bench, "recommendation (PostgreSQL)", cpu)


def _service(client: str, directory: Path, ttl: str, idempotent: bool = False
             ) -> tuple[Run, str]:
    """The recommendation endpoint's figures on a new SQLite database, and its decision mix.

    ``ttl`` is the reservations' lifetime in seconds: it decides how many approved openers fit
    in the paper account's budget at once, hence the mix of approvals and budget refusals.
    ``idempotent``: every request carries a new ``Idempotency-Key``.
    """
    from riskdesk.demo import prepare

    directory.mkdir()
    url, admin_key, _, _ = prepare(directory / "bench.db")
    env = {"RISKDESK_DB_URL": url, "RISKDESK_CONFIG": "default",
           "RISKDESK_RESERVATION_TTL": ttl, "RISKDESK_ACCESS_LOG": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    port = _free_port()
    svc = _start("riskdesk.api.app:create_app_from_env", port, env, factory=True)
    try:
        result = _drive(client, f"http://127.0.0.1:{port}/api/capital/recommendation/position",
                        {"X-API-Key": admin_key}, directory, svc, idempotent)
    finally:
        svc.terminate()
        svc.wait(10)
    return result, _mix(url)


def _mix(url: str) -> str:
    """The journal's decisions by action, in percent (``ENTER 8%, REJECT 92%``)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            counts = {str(a): int(n) for a, n in conn.exec_driver_sql(
                "SELECT action, COUNT(*) FROM decisions GROUP BY action")}
    finally:
        engine.dispose()
    total = sum(counts.values()) or 1
    return ", ".join(f"{action} {100 * n / total:.0f}%" for action, n in sorted(counts.items()))


def main(bench: Bench) -> None:

    client = _client_name()
    if client == "wrk":
        print("  http: load generator: wrk (compiled; 1 thread)", file=sys.stderr)
        load = f"wrk, {CONNECTIONS} connections"
    else:
        print("  http: load generator: Python client (install wrk for a client that does not "
              "compete with the servers for the CPU)", file=sys.stderr)
        load = f"Python client {CLIENTS}x{THREADS}"
    load += f", {SECONDS:g}s, 2 workers"
    with tempfile.TemporaryDirectory() as tmp:
        hello_port = _free_port()
        hello_load = os.getloadavg()[0]
        hello = _start("benchmarks._hello:app", hello_port, {}, factory=False)
        try:
            h_rps, h50, h99, hn, herr, hcpu = _drive(
                client, f"http://127.0.0.1:{hello_port}/hello", {}, Path(tmp), hello)
            y_rps, y50, y99, yn, yerr, _ = _drive(
                client, f"http://127.0.0.1:{hello_port}/hello-sync", {}, Path(tmp), hello)
        finally:
            hello.terminate()
            hello.wait(10)
        floor_db = str(Path(tmp) / "floor.db")
        create_floor(floor_db)
        floor_port = _free_port()
        floor = _start("benchmarks._floor:app", floor_port, {"RISKDESK_FLOOR_DB": floor_db},
                       factory=False)
        try:
            f_rps, f50, f99, fn, ferr, fcpu = _drive(
                client, f"http://127.0.0.1:{floor_port}/journaled", {}, Path(tmp), floor)
        finally:
            floor.terminate()
            floor.wait(10)
        svc_load = os.getloadavg()[0]
        (s_rps, s50, s99, sn, serr, scpu), mix = _service(client, Path(tmp) / "refusals", "1")
        approvals, a_mix = _service(client, Path(tmp) / "approvals", "0.05")
        idempotent, i_mix = _service(client, Path(tmp) / "idempotent", "1", idempotent=True)
    bench.record("hello-world requests/s", h_rps, "req/s",
                 f"async def; {hn} requests, {herr} non-200; {load}; "
                 f"load avg {hello_load:.2f}")
    bench.record("hello-world p50", h50, "ms")
    bench.record("hello-world p99", h99, "ms")
    _record_cpu(bench, "hello-world", hcpu)
    bench.record("hello-world (def) requests/s", y_rps, "req/s",
                 f"def, on the thread pool; {yn} requests, {yerr} non-200")
    bench.record("hello-world (def) p99", y99, "ms", f"p50 {y50:.2f} ms")
    bench.record("journaling floor requests/s", f_rps, "req/s",
                 f"hello-world + one 2.5 kB row group-committed to SQLite (WAL, "
                 f"synchronous=FULL), nothing else; {fn} requests, {ferr} non-200")
    bench.record("journaling floor p99", f99, "ms", f"p50 {f50:.2f} ms")
    _record_cpu(bench, "journaling floor", fcpu)
    bench.record("journaling floor / hello-world", 100.0 * f_rps / h_rps, "%",
                 "the most any durably journaling service reaches here")
    bench.record("recommendation requests/s", s_rps, "req/s",
                 f"{sn} requests, {serr} non-200; SQLite, journaled; {load}; "
                 f"load avg {svc_load:.2f}; reservations live 1 s, so most decisions are "
                 f"budget refusals: {mix}")
    bench.record("recommendation p50", s50, "ms")
    bench.record("recommendation p99", s99, "ms", "target <= 20 ms")
    _record_cpu(bench, "recommendation", scpu)
    if scpu and hcpu:
        bench.record("hello-world CPU / recommendation CPU", 100.0 * hcpu / scpu, "%",
                     "the rate ratio a CPU-bound pair of servers can reach")
    bench.record("recommendation / hello-world", 100.0 * s_rps / h_rps, "%", "target >= 50%")
    bench.record("recommendation / hello-world (def)", 100.0 * s_rps / y_rps, "%", "reference")
    bench.record("recommendation / journaling floor", 100.0 * s_rps / f_rps, "%", "reference")
    _record_variant(bench, "recommendation, approvals", approvals, h_rps,
                    f"reservations live 0.05 s, so most decisions are approved and reserve: "
                    f"{a_mix}")
    _record_variant(bench, "recommendation, Idempotency-Key", idempotent, h_rps,
                    f"a new Idempotency-Key per request; reservations live 1 s: {i_mix}")
    with tempfile.TemporaryDirectory() as tmp:
        _postgres(bench, client, load, Path(tmp))
