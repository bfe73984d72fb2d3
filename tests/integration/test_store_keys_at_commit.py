"""An idempotency key claimed in the decision write's own transaction (``key_at_commit``).

Whoever commits the key first journals its decision; every other write with that key, in the
same batch, in another batch of the same process, in another store or process, writes nothing
and gets the stored answer (or a conflict for another body, or ``KeyInUseError`` while a claim
of the claim protocol is in progress).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from store_support import T0, Clock, account, decision, market, signal

from riskdesk.domain import Action, Decision, ReasonCode
from riskdesk.errors import ConflictError, StaleStateError
from riskdesk.store import (
    DecisionRecord,
    DecisionWrite,
    HoldRequest,
    RecordedDecision,
    ReservationLimits,
    ReservationOutcome,
    Store,
    WriteResult,
)
from riskdesk.store import _tables as t
from riskdesk.store._writes import KeyInUseError

D = Decimal
ACCOUNT = "acct-k"


def refuse(d: Decision, outcome: ReservationOutcome) -> Decision:
    return replace(d, action=Action.REJECT, quantity=D(0) * d.quantity, notional=D(0),
                   margin_required=D(0), binding_cap=None,
                   reasons=(*d.reasons, outcome.refused_by or ReasonCode.EXPOSURE_LIMIT))


def record(seq: int, *, hold: bool = True) -> DecisionRecord:
    d = decision(seq)
    limits = ReservationLimits(buying_power=D(10**9), max_exposure=D(10**12))
    h = HoldRequest(ACCOUNT, d.notional, d.margin_required, 60.0, limits) if hold else None
    return DecisionRecord(d, signal(seq), account(), market(), "test-config",
                          request_id=f"k-{seq}", hold=h, on_refused=refuse if hold else None)


def answer(recorded: tuple[RecordedDecision, ...]) -> dict[str, Any]:
    return {"id": recorded[0].decision_id, "request": f"w-{recorded[0].decision.quantity}"}


def keyed(seq: int, key: str, body: str = "body", **kw: Any) -> DecisionWrite:
    return DecisionWrite((record(seq),), T0, key_at_commit=(key, body), answer=answer, **kw)


def counts(store: Store) -> tuple[int, int, int]:
    with store.engine.connect() as conn:
        def n(table: sa.Table) -> int:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        return n(t.decisions), n(t.reservations), n(t.idempotency_keys)


def stored_keys(store: Store) -> dict[str, tuple[str, Any]]:
    k = t.idempotency_keys
    with store.engine.connect() as conn:
        return {r.key: (r.body_hash, r.response)
                for r in conn.execute(sa.select(k.c.key, k.c.body_hash, k.c.response))}


class Gate:
    """Holds a batch's transaction open (inside an answer callback) to pile writes up."""

    def __init__(self, *, fail: bool = False) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = fail

    def answer(self, recorded: tuple[RecordedDecision, ...]) -> dict[str, Any]:
        self.entered.set()
        assert self.release.wait(30)
        if self.fail:
            raise RuntimeError("the answer could not be built")
        return {"id": recorded[0].decision_id}


def test_the_key_is_stored_with_the_decision_and_replayed(store: Store) -> None:
    assert store.lookup_idempotency("k", "body") == ("new", None)
    first = store.record_decisions(keyed(1, "k"))
    assert not first.replayed
    assert first.answer == answer(first.decisions)
    assert store.lookup_idempotency("k", "body") == ("done", first.answer)
    assert counts(store) == (1, 1, 1)
    # A write that missed the stored key (it looked before the commit) replays it.
    again = store.record_decisions(keyed(2, "k"))
    assert again == WriteResult((), first.answer, replayed=True)
    with pytest.raises(ConflictError, match="different request body"):
        store.record_decisions(keyed(3, "k", "other"))
    with pytest.raises(ConflictError, match="different request body"):
        store.lookup_idempotency("k", "other")
    assert counts(store) == (1, 1, 1)
    # The claim protocol sees the same answer.
    assert store.claim_idempotency("k", "body") == (first.answer, "")


def test_one_key_twice_in_one_batch_is_one_decision(store: Store) -> None:
    gate = Gate()
    blocker = store.submit_decisions(DecisionWrite((record(0),), T0, answer=gate.answer))
    assert gate.entered.wait(30)
    # Queued while the first batch is open: the next batch takes them all.
    futures = [store.submit_decisions(keyed(1, "dup")),
               store.submit_decisions(keyed(2, "dup")),
               store.submit_decisions(keyed(3, "dup", "other")),
               store.submit_decisions(keyed(4, "solo"))]
    gate.release.set()
    blocker.result(30)
    first, second = futures[0].result(30), futures[1].result(30)
    with pytest.raises(ConflictError, match="different request body"):
        futures[2].result(30)
    solo = futures[3].result(30)
    batches, items = store.group_commit_stats
    assert (batches, items) == (2, 5)  # the four keyed writes shared one transaction
    assert not first.replayed
    assert len(first.decisions) == 1
    assert second == WriteResult((), first.answer, replayed=True)
    assert not solo.replayed
    assert counts(store) == (3, 3, 2)
    assert stored_keys(store) == {"dup": ("body", first.answer), "solo": ("body", solo.answer)}


def test_a_key_committed_by_another_store_meanwhile_makes_this_write_replay(
        store: Store, db_url: str) -> None:
    assert store.lookup_idempotency("raced", "body") == ("new", None)
    other = Store.open(db_url, clock=Clock())
    try:
        won = other.record_decisions(keyed(1, "raced"))
        assert other.lookup_idempotency("late", "body") == ("new", None)
        store.record_decisions(keyed(2, "late", "mine"))
        # The other body, raced: a conflict, and nothing of the loser is written.
        with pytest.raises(ConflictError, match="different request body"):
            other.record_decisions(keyed(3, "late", "theirs"))
    finally:
        other.close()
    lost = store.record_decisions(keyed(4, "raced"))
    assert lost == WriteResult((), won.answer, replayed=True)
    assert counts(store) == (2, 2, 2)


def test_a_key_claimed_under_the_claim_protocol_is_in_use(store: Store) -> None:
    stored, owner = store.claim_idempotency("claimed", "body")
    assert stored is None
    assert store.lookup_idempotency("claimed", "body") == ("busy", None)
    with pytest.raises(KeyInUseError, match="still being processed"):
        store.record_decisions(keyed(1, "claimed"))
    assert counts(store) == (0, 0, 1)
    done = store.record_decisions(DecisionWrite((record(2),), T0, idempotency=("claimed", owner),
                                                answer=answer))
    assert store.record_decisions(keyed(3, "claimed")) == \
        WriteResult((), done.answer, replayed=True)
    assert counts(store) == (1, 1, 1)


def test_a_write_that_fails_leaves_its_key_free(store: Store) -> None:
    gate = Gate()
    blocker = store.submit_decisions(DecisionWrite((record(0),), T0, answer=gate.answer))
    assert gate.entered.wait(30)
    # The first write of the key is stale: the next one with the key (another body) wins.
    stale = store.submit_decisions(keyed(1, "k", "first", desk_version=7))
    winner = store.submit_decisions(keyed(2, "k", "second"))
    lone = store.submit_decisions(keyed(3, "lone", desk_version=7))
    gate.release.set()
    blocker.result(30)
    with pytest.raises(StaleStateError):
        stale.result(30)
    with pytest.raises(StaleStateError):
        lone.result(30)
    won = winner.result(30)
    assert not won.replayed
    assert stored_keys(store) == {"k": ("second", won.answer)}
    assert store.lookup_idempotency("lone", "body") == ("new", None)
    assert counts(store) == (2, 2, 1)


@pytest.mark.parametrize("first_fails", [False, True], ids=["committed", "failed"])
def test_a_batch_waits_for_a_concurrent_batch_holding_the_key(
        store: Store, db_url: str, first_fails: bool) -> None:
    # The first batch has inserted the key and holds its transaction open; another store's
    # batch with the key waits for it (PostgreSQL: on the key's unique index; SQLite: on the
    # write lock), then replays the answer that committed, or wins the key given up.
    gate = Gate(fail=first_fails)
    first = store.submit_decisions(DecisionWrite((record(1, hold=False),), T0,
                                                 key_at_commit=("open", "body"),
                                                 answer=gate.answer))
    assert gate.entered.wait(30)
    other = Store.open(db_url, clock=Clock())
    try:
        same = other.submit_decisions(DecisionWrite((record(2, hold=False),), T0,
                                                    key_at_commit=("open", "body"),
                                                    answer=answer))
        changed = other.submit_decisions(DecisionWrite((record(3, hold=False),), T0,
                                                       key_at_commit=("open", "other"),
                                                       answer=answer))
        time.sleep(0.3)
        assert not same.done()
        gate.release.set()
        if first_fails:
            with pytest.raises(RuntimeError):
                first.result(30)
            won = same.result(30)
            assert not won.replayed
            assert len(won.decisions) == 1
        else:
            won = first.result(30)
            assert same.result(30) == WriteResult((), won.answer, replayed=True)
        with pytest.raises(ConflictError, match="different request body"):
            changed.result(30)
    finally:
        other.close()
    assert counts(store) == (1, 0, 1)
    assert stored_keys(store) == {"open": ("body", won.answer)}


def _race(store: Store, keys: list[str], barrier: threading.Barrier,
          results: list[tuple[str, WriteResult]]) -> None:
    for i, key in enumerate(keys):
        barrier.wait(30)
        results.append((key, store.record_decisions(keyed(i, key))))


@pytest.mark.timeout(120)
def test_two_stores_racing_on_each_key_make_one_decision_per_key(db_url: str) -> None:
    stores = [Store.open(db_url, clock=Clock(), migrate=True) for _ in range(2)]
    keys = [f"race-{i}" for i in range(25)]
    per_store = 3
    barrier = threading.Barrier(2 * per_store)
    results: list[tuple[str, WriteResult]] = []
    try:
        threads = [threading.Thread(target=_race, args=(s, keys, barrier, results))
                   for s in stores for _ in range(per_store)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(results) == len(keys) * 2 * per_store
        journaled = {key: r for key, r in results if not r.replayed}
        assert sorted(journaled) == sorted(keys)  # one decision per key
        assert sum(not r.replayed for _, r in results) == len(keys)
        assert all(len(r.decisions) == 1 for r in journaled.values())
        # Every caller got the winner's answer, and the store holds it.
        assert all(r.answer == journaled[key].answer for key, r in results)
        assert all(r.decisions == () for _, r in results if r.replayed)
        assert counts(stores[0]) == (len(keys), len(keys), len(keys))
        assert stored_keys(stores[0]) == {k: ("body", r.answer) for k, r in journaled.items()}
    finally:
        for s in stores:
            s.close()


def _process(url: str, keys: list[str], threads: int) -> list[tuple[str, bool, Any]]:
    store = Store.open(url)
    out: list[tuple[str, bool, Any]] = []
    lock = threading.Lock()

    def client() -> None:
        for i, key in enumerate(keys):
            result = store.record_decisions(keyed(i, key))
            with lock:
                out.append((key, result.replayed, result.answer))

    pool = [threading.Thread(target=client) for _ in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    store.close()
    return out


@pytest.mark.timeout(240)
def test_processes_retrying_the_same_keys_make_one_decision_per_key(db_url: str) -> None:
    Store.open(db_url, migrate=True).close()
    keys = [f"proc-{i}" for i in range(30)]
    procs, threads = 3, 3
    with mp.get_context("spawn").Pool(procs) as pool:
        results = pool.starmap(_process, [(db_url, keys, threads)] * procs)
    flat = [r for rs in results for r in rs]
    assert len(flat) == len(keys) * procs * threads
    assert Counter(key for key, replayed, _ in flat if not replayed) == Counter(keys)
    by_key: dict[str, set[Any]] = {}
    for key, _, ans in flat:
        by_key.setdefault(key, set()).add(ans["id"])
    assert all(len(ids) == 1 for ids in by_key.values())
    store = Store.open(db_url)
    try:
        assert counts(store) == (len(keys), len(keys), len(keys))
        assert {k: a["id"] for k, (_, a) in stored_keys(store).items()} == \
            {k: next(iter(ids)) for k, ids in by_key.items()}
    finally:
        store.close()
