from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from store_support import T0, Clock, account, journal_one

from riskdesk.errors import ConflictError, InvalidInputError
from riskdesk.store import Store
from riskdesk.store import _tables as t


def test_replay_and_conflict(store: Store) -> None:
    calls = []

    def compute() -> dict[str, Any]:
        calls.append(1)
        return {"quantity": Decimal("0.125"), "n": len(calls)}

    first, replayed = store.idempotent("req-1", "h1", compute)
    assert (first, replayed) == ({"quantity": "0.125", "n": 1}, False)
    again, replayed = store.idempotent("req-1", "h1", compute)
    assert (again, replayed) == (first, True)
    assert len(calls) == 1
    with pytest.raises(ConflictError, match="different request body"):
        store.idempotent("req-1", "h2", compute)
    other, replayed = store.idempotent("req-2", "h2", compute)
    assert other["n"] == 2
    assert not replayed


def test_failed_compute_stores_nothing(store: Store) -> None:
    def boom() -> dict[str, Any]:
        raise RuntimeError("desk failed")

    with pytest.raises(RuntimeError):
        store.idempotent("req-x", "h", boom)
    answer, replayed = store.idempotent("req-x", "h", lambda: {"ok": True})
    assert answer == {"ok": True}
    assert not replayed
    with pytest.raises(InvalidInputError):
        store.idempotent("req-y", "h", lambda: {"bad": float("nan")})
    with store.engine.connect() as conn:
        keys = conn.execute(sa.select(t.idempotency_keys.c.key)).scalars().all()
    assert keys == ["req-x"]


def test_compute_may_write_to_the_store(store: Store) -> None:
    # The answer is computed outside any transaction, so journaling inside it cannot deadlock.
    answer, _ = store.idempotent("req-j", "h", lambda: {"journal_id": journal_one(store, 1)})
    assert store.journal_entry(answer["journal_id"])["request_id"] == "burst-1"
    snap, _ = store.idempotent("req-c", "h", lambda: {
        "status": store.record_capital(account(), at=T0)["capital_status"]})
    assert snap == {"status": "HEALTHY"}


@pytest.mark.timeout(60)
def test_concurrent_callers_get_one_computation(db_url: str) -> None:
    store = Store.open(db_url, migrate=True, pool_size=12)
    calls = []
    gate = threading.Barrier(10)
    release = threading.Event()
    results: list[tuple[dict[str, Any], bool]] = []
    lock = threading.Lock()

    def compute() -> dict[str, Any]:
        calls.append(threading.get_ident())
        release.wait(5)  # hold the computation open while the others arrive
        return {"by": len(calls)}

    def caller() -> None:
        gate.wait()
        out = store.idempotent("same-key", "same-body", compute)
        with lock:
            results.append(out)

    threads = [threading.Thread(target=caller) for _ in range(10)]
    for th in threads:
        th.start()
    # Wait until the single computation has started, then let it finish.
    for _ in range(500):
        if calls:
            break
        threading.Event().wait(0.01)
    release.set()
    for th in threads:
        th.join()
    store.close()
    assert len(calls) == 1
    assert len(results) == 10
    assert all(answer == {"by": 1} for answer, _ in results)
    assert sorted(replayed for _, replayed in results) == [False] + [True] * 9


def test_waiting_caller_times_out_with_conflict(store: Store) -> None:
    started = threading.Event()
    finish = threading.Event()

    def slow() -> dict[str, Any]:
        started.set()
        finish.wait(5)
        return {"done": True}

    th = threading.Thread(target=lambda: store.idempotent("k", "h", slow))
    th.start()
    started.wait(5)
    with pytest.raises(ConflictError, match="still being processed"):
        store.idempotent("k", "h", lambda: {"done": False}, wait_seconds=0.05)
    finish.set()
    th.join()
    assert store.idempotent("k", "h", lambda: {"done": False}) == ({"done": True}, True)


def test_abandoned_claim_is_taken_over(db_url: str) -> None:
    clock = Clock()
    with Store.open(db_url, clock=clock, migrate=True) as store:
        with store.engine.begin() as conn:  # a claim whose owner died mid-computation
            conn.execute(sa.insert(t.idempotency_keys).values(
                key="k", body_hash="h", owner="dead", created_at=T0))
        with pytest.raises(ConflictError):
            store.idempotent("k", "h", lambda: {"v": 1}, wait_seconds=0.02)
        clock.advance(61)
        assert store.idempotent("k", "h", lambda: {"v": 2}) == ({"v": 2}, False)
        assert store.purge_idempotency(T0 + timedelta(seconds=62)) == 1
        assert store.idempotent("k", "h", lambda: {"v": 3}) == ({"v": 3}, False)
