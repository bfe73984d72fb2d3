"""Decisions journaled with their budget holds and idempotent answer in one transaction.

:meth:`BatchOps.record_decisions` is the service's one write per decision: it reserves the
budget of each approved opener, journals every decision (a refused hold turned into the
caller's REJECT first), stores the idempotent answer and checks that the desk state the
decisions were made on is still the stored one, all in one transaction. Concurrent calls of
one process share that transaction (group commit, :mod:`riskdesk.store._group`): one
``BEGIN IMMEDIATE``, one commit and one fsync for the whole group.

A write may also claim its idempotency key in that transaction (``key_at_commit``): the
batch inserts the keys of its writes first (``INSERT ... ON CONFLICT DO NOTHING``, in key
order), so that a key stored already makes only the writes that name it lose: they write
nothing and are answered with the stored answer (or a conflict). On SQLite the batch holds
the write lock and sees every committed key; on PostgreSQL the insert of a key that a
concurrent batch inserted waits for that batch to end, then finds its key or none. Two writes
of one batch with the same key are one decision: the first that can be written wins, the
others replay its answer.

Inside the transaction each account's holds are read once (after marking the due ones
expired) and every hold of the group is checked, in arrival order, against those plus the
ones granted earlier in the same group, so the cross-process invariant of
:meth:`~riskdesk.store.Store.try_reserve` holds unchanged. A write that cannot be prepared
(bad input, stale desk state, a lost idempotency claim or key, a failing callback) fails or
replays alone and writes nothing; a failure of the transaction itself fails every write of the
group. No caller is answered before the transaction holding its write committed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from riskdesk._ids import new_id
from riskdesk.config import RiskConfig
from riskdesk.domain import Decision
from riskdesk.errors import ConflictError, InvalidInputError, StaleStateError
from riskdesk.store import _tables as t
from riskdesk.store._base import StoreBase
from riskdesk.store._codec import to_json_object, validated_json_text
from riskdesk.store._group import GroupCommit
from riskdesk.store._holds import Hold, check_openers, held
from riskdesk.store._idempotency import different_body
from riskdesk.store._journal import decision_fields, input_columns
from riskdesk.store._keys import RevokedKeyError
from riskdesk.store._reservations import (
    Reservation,
    ReservationOutcome,
    ReservationStatus,
    check_limits,
    reservation_row,
)
from riskdesk.store._writes import (
    DecisionRecord,
    DecisionWrite,
    KeyInUseError,
    RecordedDecision,
    WriteResult,
)

_J = t.decisions
_R = t.reservations
_E = t.reservation_events
_K = t.idempotency_keys
_A = t.api_keys
_D = t.desk_state
_DESK_ROW = 1

_ANSWER = (sa.update(_K)
           .where(_K.c.key == sa.bindparam("k_key"), _K.c.owner == sa.bindparam("k_owner"))
           .values(response=sa.bindparam("k_response", type_=_K.c.response.type),
                   completed_at=sa.bindparam("k_at", type_=_K.c.completed_at.type)))
#: Completes a key the batch inserted (``key_at_commit``) with its winner's body and answer.
_CLAIMED = (sa.update(_K)
            .where(_K.c.key == sa.bindparam("k_key"), _K.c.owner == sa.bindparam("k_owner"))
            .values(body_hash=sa.bindparam("k_hash", type_=_K.c.body_hash.type),
                    response=sa.bindparam("k_response", type_=_K.c.response.type),
                    completed_at=sa.bindparam("k_at", type_=_K.c.completed_at.type)))
#: A key's stored body hash and answer (``None`` while its claim is in progress).
_Stored = tuple[str, dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class _Job:
    """A write with its journal columns computed (and validated) outside the transaction."""

    write: DecisionWrite
    inputs: tuple[dict[str, Any], ...]
    fields: tuple[dict[str, Any], ...]


@dataclass
class _Rows:
    reservations: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    holds: list[tuple[str, Hold]] = field(default_factory=list)

    def extend(self, other: _Rows) -> None:
        self.reservations += other.reservations
        self.events += other.events
        self.decisions += other.decisions
        self.answers += other.answers
        self.claims += other.claims
        self.holds += other.holds


class _Book:
    """An account's holds during one batch, summed once for what every write sees alike.

    Active holds that outlive the batch's latest decision time count for every write of the
    batch: their sums are taken once. The others (expiring within the batch's time span,
    confirmed ones, which depend on each write's ``as_of``, and the holds granted in the
    batch) are checked write by write.
    """

    def __init__(self, holds: list[Hold], latest: datetime) -> None:
        self.notional = self.margin = Decimal(0)
        self.tiers: dict[str | None, Decimal] = {}
        self.varying: list[Hold] = []
        self.steady: list[Hold] = []
        for h in holds:
            if h.active and h.expires_at > latest:
                self.steady.append(h)
                self.notional += h.notional
                self.margin += h.margin
                self.tiers[h.tier] = self.tiers.get(h.tier, Decimal(0)) + h.notional
            else:
                self.varying.append(h)

    def held(self, now: datetime, as_of: datetime | None, tier: str | None,
             extra: list[Hold]) -> tuple[Decimal, Decimal, Decimal]:
        n, m, tier_n = held([*self.varying, *extra], now, as_of, tier)
        steady_tier = self.tiers.get(tier, Decimal(0)) if tier is not None else Decimal(0)
        return self.notional + n, self.margin + m, steady_tier + tier_n


_SQLITE_HEAD = sa.select(
    sa.select(_D.c.version).where(_D.c.id == _DESK_ROW).scalar_subquery(),
    sa.select(sa.func.coalesce(sa.func.max(_J.c.id), 0)).scalar_subquery())
_DESK_VERSION = sa.select(_D.c.version).where(_D.c.id == _DESK_ROW)
_NEXT_IDS = sa.select(sa.func.nextval(sa.func.pg_get_serial_sequence(_J.name, _J.c.id.name))) \
    .select_from(sa.func.generate_series(1, sa.bindparam("n", type_=sa.Integer())))
_ACTIVE_KEY = sa.select(_A.c.revoked_at).where(_A.c.key_id == sa.bindparam("b_key"))
_INSERT_RESERVATIONS = sa.insert(_R)
_INSERT_EVENTS = sa.insert(_E)
#: The journal's JSON columns arrive as JSON text, encoded before the transaction.
_JSON_COLUMNS = ("reasons", "close_symbols", "trail", "inputs")


def _insert_decisions(dialect: str) -> sa.Insert:
    def text(column: str) -> Any:
        param = sa.bindparam(f"j_{column}", type_=sa.Text())
        return sa.cast(param, postgresql.JSONB) if dialect == "postgresql" else param

    return sa.insert(_J).values({c: text(c) for c in _JSON_COLUMNS})


def _encoded(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with its JSON documents as JSON text (as the JSON column would store it)."""
    out = dict(fields)
    for column in _JSON_COLUMNS:
        if column in out:
            out[f"j_{column}"] = _dumps(out.pop(column))
    return out


def _dumps(document: Any) -> str:
    """JSON text of a document :func:`to_json` built (orjson; integers beyond 64 bits too)."""
    try:
        return orjson.dumps(document).decode()
    except orjson.JSONEncodeError:  # an integer orjson cannot hold
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


class BatchOps(StoreBase):
    """Journal decisions with their holds and answers, group-committed."""

    def __init__(self, engine: Engine, *, config: RiskConfig,
                 clock: Callable[[], datetime], memory: bool = False,
                 busy_timeout_ms: int = 30_000) -> None:
        super().__init__(engine, config=config, clock=clock, memory=memory,
                         busy_timeout_ms=busy_timeout_ms)
        self._decision_group: GroupCommit[_Job, WriteResult] = \
            GroupCommit(self._write_decisions)
        self._insert_decisions = _insert_decisions(engine.dialect.name)
        insert = sqlite.insert(_K) if self._sqlite else postgresql.insert(_K)
        self._insert_keys_stmt = insert.on_conflict_do_nothing(index_elements=["key"]) \
            .returning(_K.c.key)

    @property
    def group_commit_stats(self) -> tuple[int, int]:
        """Transactions and writes :meth:`record_decisions` committed in this process."""
        return self._decision_group.batches, self._decision_group.items

    def record_decisions(self, write: DecisionWrite) -> WriteResult:
        """Reserve, journal and answer in one transaction shared with concurrent callers.

        Parameters
        ----------
        write
            The decisions, their holds, the desk-state version and the idempotency claim.

        Returns
        -------
        WriteResult
            Each decision as journaled with its id and hold, and the answer (JSON form, as
            stored), once the transaction committed (durable on disk). When
            ``write.key_at_commit`` was stored already: no decision, the stored answer and
            ``replayed``.

        Raises
        ------
        StaleStateError
            When the stored desk state is no longer ``write.desk_version``.
        ConflictError
            When the idempotency claim was taken over by another request, or
            ``write.key_at_commit`` is stored with another body hash.
        KeyInUseError
            When ``write.key_at_commit`` is claimed by a request still computing its answer.
        RevokedKeyError
            When ``write.api_key_id`` was revoked before the commit.
        InvalidInputError
            For a decision that cannot be journaled (nothing is written).
        """
        return self._decision_group.submit(_job(write))

    def submit_decisions(self, write: DecisionWrite) -> Future[WriteResult]:
        """Like :meth:`record_decisions`, without blocking: for callers on an event loop.

        A writer thread commits the write with whatever else is queued; the future completes
        once the transaction committed (or fails with the exceptions
        :meth:`record_decisions` raises). Bad input raises here, before anything is queued.
        """
        return self._decision_group.submit_nowait(_job(write))

    async def record_decisions_async(self, write: DecisionWrite) -> WriteResult:
        """:meth:`record_decisions` for a coroutine: it waits on its loop, without a thread.

        The writer thread commits the write with whatever else is queued and wakes the loop
        once per transaction for all of that loop's writes in it. Bad input raises before
        anything is queued. A caller cancelled while waiting does not undo its write.
        """
        return await self._decision_group.submit_async(_job(write))

    def _stop_group_commit(self) -> None:
        self._decision_group.close()

    # ------------------------------------------------------------------ the transaction
    def _write_decisions(self, take: Callable[[], list[_Job]]
                         ) -> list[WriteResult | BaseException]:
        out: list[WriteResult | BaseException] = []
        rows = _Rows()
        with self._write() as conn:
            # Taken only now that the write lock is held: what arrived meanwhile joins.
            jobs = take()
            recorded_at = self._now()
            writes = [j.write for j in jobs]
            version, ids = self._head(conn, writes, sum(len(w.records) for w in writes))
            books = self._hold_books(conn, writes)
            owners = self._claim_owners(conn, writes)
            token = new_id()
            fresh, stored = self._insert_keys(conn, writes, token, recorded_at)
            keys = self._active_keys(conn, writes)
            # Keys this batch inserted and wrote a decision for: (body hash, answer).
            taken: dict[str, _Stored] = {}
            for job in jobs:
                w = job.write
                try:
                    if w.key_at_commit is not None:
                        key, digest = w.key_at_commit
                        if key not in fresh or key in taken:
                            out.append(_replay(key, digest, taken.get(key) or stored.get(key)))
                            continue
                    if w.api_key_id is not None and w.api_key_id not in keys:
                        raise RevokedKeyError(f"API key {w.api_key_id} was revoked")
                    result, mine = _prepare(job, version, books, owners, ids, recorded_at)
                except Exception as exc:  # noqa: BLE001 - the failure is this caller's answer
                    out.append(exc)
                    continue
                if w.key_at_commit is not None:
                    key, digest = w.key_at_commit
                    assert result.answer is not None
                    taken[key] = (digest, result.answer)
                    mine.claims.append({"k_key": key, "k_owner": token, "k_hash": digest,
                                        "k_response": result.answer, "k_at": recorded_at})
                for account_id, hold in mine.holds:
                    books[account_id].varying.append(hold)
                rows.extend(mine)
                out.append(result)
            if rows.reservations:
                conn.execute(_INSERT_RESERVATIONS, rows.reservations)
            if rows.events:
                conn.execute(_INSERT_EVENTS, rows.events)
            if rows.decisions:
                conn.execute(self._insert_decisions, rows.decisions)
            if rows.answers:
                conn.execute(_ANSWER, rows.answers)
            if rows.claims:
                conn.execute(_CLAIMED, rows.claims)
            unused = sorted(fresh.difference(taken))
            if unused:  # every write naming these keys failed: the keys stay free
                conn.execute(sa.delete(_K).where(_K.c.key.in_(unused), _K.c.owner == token))
        return out

    def _head(self, conn: Connection, writes: Sequence[DecisionWrite],
              n: int) -> tuple[int | None, Iterator[int]]:
        """The stored desk-state version (when a write checks it) and ``n`` journal ids.

        The ids are known before the insert so that the answers can name them.
        """
        check = any(w.desk_version is not None for w in writes)
        if self._sqlite:
            # One statement for both; the write lock is held, nobody else inserts meanwhile.
            current, last = conn.execute(_SQLITE_HEAD).one()
            first = int(last) + 1
            return (0 if current is None else int(current)) if check else None, \
                iter(range(first, first + n))
        version = None
        if check:
            # Shared: batches run side by side, a save of the desk state waits for them.
            self._lock(conn, "desk_state", shared=True)
            current = conn.execute(_DESK_VERSION).scalar()
            version = 0 if current is None else int(current)
        return version, iter([int(v) for v in conn.execute(_NEXT_IDS, {"n": n}).scalars()])

    def _hold_books(self, conn: Connection, writes: Sequence[DecisionWrite]
                    ) -> dict[str, _Book]:
        span: dict[str, tuple[datetime, datetime]] = {}
        for w in writes:
            for r in w.records:
                if r.hold is not None:
                    first, last = span.get(r.hold.account_id, (w.now, w.now))
                    span[r.hold.account_id] = (min(first, w.now), max(last, w.now))
        books: dict[str, _Book] = {}
        for account_id in sorted(span):
            self._lock(conn, f"reservations:{account_id}")
            first, last = span[account_id]
            books[account_id] = _Book(self._holds.holds(conn, account_id, earliest=first),
                                      last)
        return books

    def _active_keys(self, conn: Connection, writes: Sequence[DecisionWrite]) -> set[str]:
        wanted = sorted({w.api_key_id for w in writes if w.api_key_id is not None})
        # One point query per key (batches rarely carry more than one or two keys).
        return {k for k in wanted
                if (row := conn.execute(_ACTIVE_KEY, {"b_key": k}).first()) is not None
                and row[0] is None}

    def _insert_keys(self, conn: Connection, writes: Sequence[DecisionWrite], token: str,
                     at: datetime) -> tuple[set[str], dict[str, _Stored]]:
        """Insert the writes' ``key_at_commit`` keys, unanswered, under the owner ``token``.

        Returns the keys inserted (this batch's) and, for the others, what is stored under
        them. Keys are inserted in key order, so that two PostgreSQL batches waiting for each
        other's keys cannot deadlock; a key inserted by a concurrent batch makes the insert
        wait for that batch's end, and then it is found (or inserted, if that batch rolled
        back).
        """
        hashes: dict[str, str] = {}
        for w in writes:
            if w.key_at_commit is not None:
                hashes.setdefault(*w.key_at_commit)
        if not hashes:
            return set(), {}
        rows = [{"key": k, "body_hash": hashes[k], "owner": token, "created_at": at}
                for k in sorted(hashes)]
        # One statement (SQLAlchemy's "insertmanyvalues"), its rows in the order given.
        fresh = {str(k) for k in conn.execute(self._insert_keys_stmt, rows).scalars()}
        lost = sorted(hashes.keys() - fresh)
        if not lost:
            return fresh, {}
        found = conn.execute(sa.select(_K.c.key, _K.c.body_hash, _K.c.response)
                             .where(_K.c.key.in_(lost))).all()
        return fresh, {str(k): (str(h), None if r is None else dict(r)) for k, h, r in found}

    def _claim_owners(self, conn: Connection, writes: Sequence[DecisionWrite]
                      ) -> dict[str, str]:
        keys = sorted({w.idempotency[0] for w in writes if w.idempotency is not None})
        if not keys:
            return {}
        stmt = sa.select(_K.c.key, _K.c.owner).where(_K.c.key.in_(keys)).order_by(_K.c.key)
        if not self._sqlite:
            stmt = stmt.with_for_update()
        return {str(k): str(o) for k, o in conn.execute(stmt).all()}


def _job(write: DecisionWrite) -> _Job:
    """The write with its journal columns built and checked (outside the transaction)."""
    if not isinstance(write, DecisionWrite):
        raise InvalidInputError("write", write, "a DecisionWrite")
    return _Job(write,
                tuple({**input_columns(signal=r.signal, account=r.account, market=r.market,
                                       config_name=r.config_name, request_id=r.request_id),
                       "j_inputs": validated_json_text(
                           {"signal": r.signal, "account": r.account, "market": r.market},
                           "inputs")}
                      for r in write.records),
                tuple(_encoded(decision_fields(r.decision)) for r in write.records))


def _prepare(job: _Job, version: int | None, books: dict[str, _Book],
             owners: Mapping[str, str], ids: Iterator[int],
             recorded_at: datetime) -> tuple[WriteResult, _Rows]:
    """One write's rows, checked against the stored state; raises to fail this write only."""
    w = job.write
    if w.desk_version is not None and w.desk_version != version:
        raise StaleStateError(f"desk state changed (version {version}, decided on "
                              f"{w.desk_version}): decide again")
    if w.idempotency is not None and owners.get(w.idempotency[0]) != w.idempotency[1]:
        raise ConflictError(f"idempotency key {w.idempotency[0]!r} was taken over by "
                            "another request")
    mine = _Rows()
    recorded = []
    for rec, inputs, fields in zip(w.records, job.inputs, job.fields, strict=True):
        decision, reservation, refusal = rec.decision, None, None
        if rec.hold is not None:
            decision, reservation, refusal = _hold(rec, w.now, books, mine)
            if refusal is not None:
                fields = _encoded(decision_fields(decision))
        row = {**inputs, **fields, "id": next(ids), "recorded_at": recorded_at}
        if row["decided_at"] is None:
            row["decided_at"] = recorded_at
        mine.decisions.append(row)
        recorded.append(RecordedDecision(decision, row["id"], reservation, refusal))
    answer = None
    if w.answer is not None:
        answer = to_json_object(w.answer(tuple(recorded)), "answer")
        if w.idempotency is not None:
            mine.answers.append({"k_key": w.idempotency[0], "k_owner": w.idempotency[1],
                                 "k_response": answer, "k_at": recorded_at})
    return WriteResult(tuple(recorded), answer), mine


def _replay(key: str, digest: str, stored: _Stored | None) -> WriteResult:
    """The result of a write whose ``key_at_commit`` is stored already (raises to refuse)."""
    if stored is None:  # deleted since the insert found it: a claim given up meanwhile
        raise _in_use(key)
    body, answer = stored
    if body != digest:
        raise different_body(key)
    if answer is None:
        raise _in_use(key)
    return WriteResult((), copy.deepcopy(answer), replayed=True)


def _in_use(key: str) -> KeyInUseError:
    return KeyInUseError(f"idempotency key {key!r} is still being processed by another "
                         "request; retry later")


def _hold(rec: DecisionRecord, now: datetime, books: dict[str, _Book], mine: _Rows
          ) -> tuple[Decision, Reservation | None, ReservationOutcome | None]:
    h = rec.hold
    assert h is not None
    assert rec.on_refused is not None
    lim = h.limits
    extra = [x for a, x in mine.holds if a == h.account_id]
    if h.seen is not None:  # against the holds granted before this write (not its own)
        book = books[h.account_id]
        check_openers(rec.decision.symbol, h.seen, lambda: book.steady + book.varying, now,
                      lim.as_of)
    n, m, tier_n = books[h.account_id].held(now, lim.as_of, lim.tier, extra)
    code, note = check_limits(lim, h.notional, h.margin, n, m, tier_n)
    if code is not None:
        refusal = ReservationOutcome(None, code, n, m, tier_n, note)
        decision = rec.on_refused(rec.decision, refusal)
        if not isinstance(decision, Decision):
            raise InvalidInputError("on_refused", decision, "a function returning a Decision")
        return decision, None, refusal
    res = Reservation(new_id(), h.account_id, rec.decision.symbol, h.notional,
                      h.margin, lim.tier, ReservationStatus.ACTIVE, now,
                      now + timedelta(seconds=float(h.ttl_seconds)))
    mine.reservations.append(reservation_row(res))
    mine.events.append({"reservation_id": res.reservation_id, "account_id": h.account_id,
                        "event": "RESERVE", "at": now, "notional": h.notional,
                        "margin": h.margin})
    mine.holds.append((h.account_id, Hold(h.notional, h.margin, lim.tier, True,
                                          res.expires_at, None, res.symbol, now)))
    return rec.decision, res, None
