"""kill -9 during a burst of journal writes: no acknowledged row lost, no torn row."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from store_support import expected_row

from riskdesk.store import Store
from riskdesk.store._engine import sqlite_pragmas

HELPER = Path(__file__).with_name("store_support.py")
ROUNDS = 3


def _burst_then_kill(url: str, min_acks: int, rng: random.Random) -> dict[int, int]:
    """Start a writer, SIGKILL it after ``min_acks`` + a random number of acks."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HELPER.parent),
                                                    env.get("PYTHONPATH")) if p)
    child = subprocess.Popen([sys.executable, str(HELPER), "burst", url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    acked: dict[int, int] = {}
    target = min_acks + rng.randrange(min_acks)
    deadline = time.monotonic() + 60
    try:
        while len(acked) < target:
            line = child.stdout.readline()
            if not line:
                assert child.stderr is not None
                pytest.fail(f"writer exited early: {child.stderr.read()[-2000:]}")
            seq, row_id = map(int, line.split())
            acked[seq] = row_id
            assert time.monotonic() < deadline, "writer too slow"
        # Let it run on for a moment so the kill lands mid-write, not between bursts.
        threading.Event().wait(rng.uniform(0.0, 0.02))
        os.kill(child.pid, signal.SIGKILL)
        # Everything printed before the kill was acknowledged too.
        for line in child.stdout:
            if line.strip():
                seq, row_id = map(int, line.split())
                acked[seq] = row_id
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    return acked


@pytest.mark.timeout(180)
def test_kill_9_loses_no_acknowledged_row(db_url: str) -> None:
    Store.open(db_url, migrate=True).close()
    rng = random.Random(7)
    all_acked: dict[int, int] = {}
    for _ in range(ROUNDS):
        acked = _burst_then_kill(db_url, 100, rng)
        # The writer numbers rows from 0 each round; keep them apart by journal id.
        all_acked.update({row_id: seq for seq, row_id in acked.items()})
        store = Store.open(db_url)
        try:
            if store.dialect == "sqlite":
                with store.engine.connect() as conn:
                    assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            rows = {r["id"]: r for r in store.journal(limit=100_000)}
        finally:
            store.close()
        missing = set(all_acked) - set(rows)
        assert not missing, f"acknowledged rows lost: {sorted(missing)[:10]}"
        # Every row, acknowledged or written just before the kill, is whole.
        for row_id, row in rows.items():
            seq = int(row["request_id"].removeprefix("burst-"))
            if row_id in all_acked:
                assert all_acked[row_id] == seq
            for key, value in expected_row(seq).items():
                assert row[key] == value, (row_id, key)
            assert row["inputs"]["account"]["positions"][0]["symbol"] == "ETHUSDT"
    assert len(all_acked) >= ROUNDS * 100


def test_sqlite_runs_durable(sqlite_url: str) -> None:
    store = Store.open(sqlite_url, migrate=True, busy_timeout_ms=12_345)
    try:
        pragmas = sqlite_pragmas(store.engine)
    finally:
        store.close()
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 12345,
                       "foreign_keys": 1}
