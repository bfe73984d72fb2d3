"""record_decisions: hold + journal + answer in one group-committed transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from store_support import T0, Clock, account, decision, market, signal

from riskdesk.domain import Action, Decision, ReasonCode
from riskdesk.errors import (
    ConflictError,
    InvalidInputError,
    StaleStateError,
    StoreUnavailableError,
)
from riskdesk.store import (
    DecisionRecord,
    DecisionWrite,
    HoldRequest,
    RecordedDecision,
    ReservationLimits,
    ReservationOutcome,
    RevokedKeyError,
    Store,
    WriteResult,
)
from riskdesk.store import _tables as t

D = Decimal
ACCOUNT = "acct-w"
PLENTY = D(10**9)


def refuse(d: Decision, outcome: ReservationOutcome) -> Decision:
    code = outcome.refused_by or ReasonCode.EXPOSURE_LIMIT
    return replace(d, action=Action.REJECT, quantity=Decimal(0) * d.quantity,
                   notional=D(0), margin_required=D(0), binding_cap=None,
                   reasons=(*d.reasons, code))


def record(seq: int, *, notional: Decimal | None = None, budget: Decimal = PLENTY,
           on_refused: Callable[..., Any] = refuse, hold: bool = True) -> DecisionRecord:
    d = decision(seq)
    if notional is not None:
        d = replace(d, notional=notional, margin_required=notional / 4,
                    quantity=(notional / d.price).quantize(D("0.000000001")))
    limits = ReservationLimits(buying_power=budget, max_exposure=D(10**12))
    h = HoldRequest(ACCOUNT, d.notional, d.margin_required, 60.0, limits) if hold else None
    return DecisionRecord(d, signal(seq), account(), market(), "test-config",
                          request_id=f"w-{seq}", hold=h, on_refused=on_refused if hold else None)


def write(*records: DecisionRecord, **kw: Any) -> DecisionWrite:
    return DecisionWrite(tuple(records), T0, **kw)


def counts(store: Store) -> tuple[int, int, int]:
    with store.engine.connect() as conn:
        def n(table: sa.Table) -> int:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        return n(t.decisions), n(t.reservations), n(t.reservation_events)


class Gate:
    """Holds the group's transaction open (inside an answer callback) to pile writes up."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def answer(self, recorded: tuple[RecordedDecision, ...]) -> dict[str, Any]:
        self.entered.set()
        assert self.release.wait(30)
        return {"id": recorded[0].decision_id}

    def open_batch(self, store: Store) -> Future[WriteResult]:
        first = store.submit_decisions(write(record(0, hold=False), answer=self.answer))
        assert self.entered.wait(30)
        return first


def test_concurrent_writes_are_all_committed_and_durable(store: Store, db_url: str) -> None:
    def one(seq: int) -> tuple[int, str | None]:
        result = store.record_decisions(write(record(seq)))
        (rec,) = result.decisions
        assert rec.reservation is not None
        return rec.decision_id, rec.reservation.reservation_id

    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(one, range(120)))
    ids = [i for i, _ in done]
    assert len(set(ids)) == 120
    batches, items = store.group_commit_stats
    assert items == 120
    assert 1 <= batches <= 120
    # Another connection (as after a restart) sees every acknowledged row.
    other = Store.open(db_url)
    try:
        journal = {r["id"]: r for r in other.journal(limit=1000)}
        assert set(journal) == set(ids)
        assert {journal[i]["request_id"] for i in ids} == {f"w-{s}" for s in range(120)}
        held = {r.reservation_id for r in other.reservations(ACCOUNT, limit=1000)}
        assert held == {rid for _, rid in done}
    finally:
        other.close()


def test_holds_in_one_batch_count_each_other(store: Store) -> None:
    gate = Gate()
    first = gate.open_batch(store)
    budget = D(10_000)
    pending = [store.submit_decisions(write(record(s, notional=D(4000), budget=budget)))
               for s in range(1, 6)]
    gate.release.set()
    first.result(30)
    results = [f.result(30).decisions[0] for f in pending]
    # One transaction for the five: each hold saw the ones granted before it in the batch.
    assert store.group_commit_stats[0] == 2
    granted = [r for r in results if r.reservation is not None]
    refused = [r for r in results if r.reservation is None]
    assert len(granted) == 2
    assert [r.decision.action for r in refused] == [Action.REJECT] * 3
    for r in refused:
        assert r.refusal is not None
        assert r.refusal.refused_by is ReasonCode.INSUFFICIENT_BUYING_POWER
        assert r.refusal.held_notional == D(8000)
    journal = {row["id"]: row for row in store.journal(limit=100)}
    for r in results:
        assert journal[r.decision_id]["action"] == r.decision.action.value
    assert counts(store) == (6, 2, 2)


def test_a_stale_desk_version_fails_only_that_write(store: Store) -> None:
    store.save_desk_state({"trading_state": "HALTED"}, at=T0)  # version 1
    gate = Gate()
    first = gate.open_batch(store)
    stale = store.submit_decisions(write(record(1), desk_version=0))
    fresh = store.submit_decisions(write(record(2), desk_version=1))
    unchecked = store.submit_decisions(write(record(3)))
    gate.release.set()
    first.result(30)
    with pytest.raises(StaleStateError, match="version 1"):
        stale.result(30)
    assert fresh.result(30).decisions[0].reservation is not None
    assert unchecked.result(30).decisions[0].reservation is not None
    assert {r["request_id"] for r in store.journal()} == {"w-0", "w-2", "w-3"}
    assert counts(store)[1] == 2


def test_a_failing_callback_fails_only_its_write(store: Store) -> None:
    gate = Gate()
    first = gate.open_batch(store)
    bad = store.submit_decisions(write(record(1, budget=D(1), on_refused=lambda d, o: "no")))
    good = store.submit_decisions(write(record(2)))
    gate.release.set()
    first.result(30)
    with pytest.raises(InvalidInputError, match="on_refused"):
        bad.result(30)
    assert good.result(30).decisions[0].reservation is not None
    assert {r["request_id"] for r in store.journal()} == {"w-0", "w-2"}


def test_a_failed_transaction_acknowledges_nothing(store: Store,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_clock() -> Any:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(store, "_now", broken_clock)
    futures = [store.submit_decisions(write(record(s))) for s in range(5)]
    for f in futures:
        with pytest.raises(StoreUnavailableError, match="disk I/O error"):
            f.result(30)
    assert counts(store) == (0, 0, 0)
    monkeypatch.undo()
    assert store.record_decisions(write(record(9))).decisions[0].reservation is not None


def test_bad_input_raises_before_anything_is_queued(store: Store) -> None:
    bad = replace(decision(1), notional=D("NaN"))
    with pytest.raises(InvalidInputError, match="notional"):
        store.record_decisions(write(DecisionRecord(bad, signal(1), account(), market(), "x")))
    with pytest.raises(InvalidInputError, match="on_refused"):
        DecisionRecord(decision(1), signal(1), account(), market(), "x",
                       hold=record(1).hold)
    with pytest.raises(InvalidInputError, match="records"):
        DecisionWrite((), T0)
    with pytest.raises(InvalidInputError, match="answer"):
        write(record(1), idempotency=("k", "owner"))
    with pytest.raises(InvalidInputError, match="ttl_seconds"):
        HoldRequest(ACCOUNT, D(10), D(1), float("inf"), ReservationLimits(
            buying_power=D(1), max_exposure=D(1)))
    assert counts(store) == (0, 0, 0)


def test_a_revoked_key_writes_nothing(store: Store, db_url: str) -> None:
    key_id, plaintext = store.create_api_key("bot", ["trade"])
    assert store.verify_api_key(plaintext, max_age=60) is not None
    # Revoked by another process: this one's cache still trusts the key for a while...
    other = Store.open(db_url)
    try:
        other.revoke_api_key(key_id)
    finally:
        other.close()
    assert store.cached_api_key(plaintext, max_age=60) is not None
    # ...but no decision commits for it.
    with pytest.raises(RevokedKeyError):
        store.record_decisions(write(record(1), api_key_id=key_id))
    assert counts(store) == (0, 0, 0)
    # Revoked through this store: refused at once.
    key2, plain2 = store.create_api_key("bot-2", ["trade"])
    assert store.verify_api_key(plain2, max_age=60) is not None
    store.revoke_api_key(key2)
    assert store.cached_api_key(plain2, max_age=60) is None
    assert store.verify_api_key(plain2, max_age=60) is None


def test_the_idempotent_answer_commits_with_the_decision(store: Store) -> None:
    stored, owner = store.claim_idempotency("k1", "hash")
    assert stored is None
    result = store.record_decisions(write(record(1), idempotency=("k1", owner),
                                          answer=lambda rs: {"id": rs[0].decision_id}))
    assert result.answer == {"id": result.decisions[0].decision_id}
    replay, _ = store.claim_idempotency("k1", "hash")
    assert replay == result.answer
    # Withdrawing after the commit keeps the answer: the decision it describes exists.
    store.withdraw_idempotency("k1", owner)
    assert store.claim_idempotency("k1", "hash")[0] == result.answer


def test_a_claim_taken_over_writes_nothing(store: Store) -> None:
    clock = store._clock
    assert isinstance(clock, Clock)
    _, owner = store.claim_idempotency("k2", "hash")
    clock.advance((store.IDEMPOTENCY_STALE_AFTER + timedelta(seconds=1)).total_seconds())
    _, usurper = store.claim_idempotency("k2", "hash")
    assert usurper
    assert usurper != owner
    with pytest.raises(ConflictError, match="taken over"):
        store.record_decisions(write(record(1), idempotency=("k2", owner),
                                     answer=lambda rs: {"id": rs[0].decision_id}))
    assert counts(store) == (0, 0, 0)


def test_expired_holds_are_marked_in_the_same_transaction(store: Store) -> None:
    budget = D(5000)
    first = store.record_decisions(write(record(1, notional=D(4000), budget=budget)))
    assert first.decisions[0].reservation is not None
    # Within the hold's life the budget is taken...
    refused = store.record_decisions(DecisionWrite(
        (record(2, notional=D(4000), budget=budget),), T0 + timedelta(seconds=30)))
    assert refused.decisions[0].reservation is None
    # ...after it expired, it is marked so (with its event) and the budget is free again.
    later = T0 + timedelta(seconds=61)
    granted = store.record_decisions(DecisionWrite(
        (record(3, notional=D(4000), budget=budget),), later))
    assert granted.decisions[0].reservation is not None
    events = [e["event"] for e in store.reservation_events(ACCOUNT)]
    assert events == ["RESERVE", "EXPIRE", "RESERVE"]
    # try_reserve shares the same view of the holds.
    assert store.try_reserve(ACCOUNT, "X", D(2000), D(1), ttl_seconds=10, now=later,
                             limits=ReservationLimits(buying_power=budget,
                                                      max_exposure=D(10**9))
                             ).refused_by is ReasonCode.INSUFFICIENT_BUYING_POWER
