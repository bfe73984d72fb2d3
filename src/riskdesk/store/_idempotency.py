"""Idempotency keys: a repeated request gets the stored answer, computed exactly once."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from riskdesk._ids import new_id
from riskdesk.errors import ConflictError, InvalidInputError
from riskdesk.store import _tables as t
from riskdesk.store._base import StoreBase, check_float, check_text, check_time
from riskdesk.store._codec import to_json_object

_K = t.idempotency_keys
_Claim = tuple[Literal["done", "mine", "busy"], dict[str, Any] | None]
#: What :meth:`IdempotencyOps.lookup_idempotency` finds under a key.
Lookup = tuple[Literal["done", "busy", "new"], dict[str, Any] | None]
_LOOKUP = sa.select(_K.c.body_hash, _K.c.response).where(_K.c.key == sa.bindparam("key"))
#: The same read on SQLite, run as one statement in SQLite's autocommit mode.
_SQLITE_LOOKUP = "SELECT body_hash, response FROM idempotency_keys WHERE key = ?"


class IdempotencyOps(StoreBase):
    """Run a computation once per idempotency key."""

    #: A claim older than this (by the store's clock) whose owner never finished is taken over.
    IDEMPOTENCY_STALE_AFTER = timedelta(seconds=60)

    def idempotent(self, key: str, body_hash: str, compute: Callable[[], dict[str, Any]], *,
                   wait_seconds: float = 30.0) -> tuple[dict[str, Any], bool]:
        """Return the stored answer for ``key``, or compute, store and return it.

        The first caller claims the key in its own committed transaction (a primary key on
        ``key`` makes the claim unique across threads and processes), computes outside any
        transaction (so ``compute`` may itself write to the store), then stores the answer.
        A concurrent caller with the same key and body waits for that answer instead of
        computing again. If ``compute`` raises, the claim is withdrawn and nothing is stored.

        Parameters
        ----------
        key
            The caller's idempotency key.
        body_hash
            A digest of the request body; the same key with another body is a conflict.
        compute
            Produces the answer: a JSON-serializable dict (Decimals and datetimes are stored
            as strings).
        wait_seconds
            How long to wait for a concurrent caller's answer.

        Returns
        -------
        tuple of (dict, bool)
            The answer as stored (JSON types), and ``True`` when it was replayed from the
            store rather than computed by this call.

        Raises
        ------
        ConflictError
            If the key was used with another ``body_hash``, or another caller is still
            computing after ``wait_seconds``.
        InvalidInputError
            For an empty key or hash, or an answer that is not a JSON-ready dict.
        """
        answer, owner = self.claim_idempotency(key, body_hash, wait_seconds=wait_seconds)
        if answer is not None:
            return answer, True
        try:
            answer = to_json_object(compute(), "response")
        except BaseException:
            self.withdraw_idempotency(key, owner)
            raise
        return self.complete_idempotency(key, owner, answer), False

    def claim_idempotency(self, key: str, body_hash: str, *,
                          wait_seconds: float = 30.0) -> tuple[dict[str, Any] | None, str]:
        """Claim ``key`` for this caller, or return the answer stored under it.

        The first step of :meth:`idempotent`, for callers that store the answer in the same
        transaction as the work it describes (see
        :meth:`~riskdesk.store.Store.record_decisions`): the claim is committed before this
        returns, concurrent callers with the same key wait for the answer, and an owner that
        fails must :meth:`withdraw_idempotency`.

        Parameters
        ----------
        key, body_hash, wait_seconds
            As for :meth:`idempotent`.

        Returns
        -------
        tuple of (dict or None, str)
            ``(answer, "")`` when an answer is stored (a replay), else ``(None, owner)``: the
            key is this caller's, under the owner token ``owner``.

        Raises
        ------
        ConflictError
            As for :meth:`idempotent`.
        """
        check_text(key, "key")
        check_text(body_hash, "body_hash", 128)
        wait = check_float(wait_seconds, "wait_seconds")
        owner = new_id()
        deadline = time.monotonic() + wait
        pause = 0.005
        while True:
            state, answer = self._claim(key, body_hash, owner)
            if state == "done":
                assert answer is not None
                return answer, ""
            if state == "mine":
                return None, owner
            if time.monotonic() >= deadline:
                raise ConflictError(f"idempotency key {key!r} is still being processed by "
                                    "another request; retry later")
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def lookup_idempotency(self, key: str, body_hash: str) -> Lookup:
        """What is stored under ``key``, read without taking the write lock.

        The first step of a request whose write claims the key at commit (see
        ``key_at_commit`` of :class:`~riskdesk.store.DecisionWrite`).

        Parameters
        ----------
        key, body_hash
            As for :meth:`idempotent`.

        Returns
        -------
        tuple of (str, dict or None)
            ``("done", answer)``: the stored answer, to replay; ``("busy", None)``: a claim of
            :meth:`claim_idempotency` whose answer is not stored yet (wait for it with that
            method); ``("new", None)``: nothing is stored under the key.

        Raises
        ------
        ConflictError
            If the key was used with another ``body_hash``.
        InvalidInputError
            For an empty or too long key or hash.
        """
        check_text(key, "key")
        check_text(body_hash, "body_hash", 128)
        if self._sqlite:
            row = self._sqlite_lookup(key)
        else:
            with self._read() as conn:
                found = conn.execute(_LOOKUP, {"key": key}).first()
            row = None if found is None else (found[0], found[1])
        if row is None:
            return "new", None
        stored_hash, response = row
        if stored_hash != body_hash:
            raise different_body(key)
        if response is None:
            return "busy", None
        return "done", dict(response)

    def _sqlite_lookup(self, key: str) -> tuple[str, dict[str, Any] | None] | None:
        """The key's row, read without the BEGIN and COMMIT a transaction would add.

        It runs on the service's event loop before every idempotent decision, so it is one
        statement on the pooled connection (which SQLite runs in a read transaction of its
        own); errors are those of :meth:`_read`.
        """
        guard: AbstractContextManager[Any] = self._read_lock or nullcontext()
        with guard, self._engine.connect() as conn:
            try:
                raw = conn.connection.driver_connection
                assert raw is not None
                row = raw.execute(_SQLITE_LOOKUP, (key,)).fetchone()
            except sqlite3.Error as exc:
                wrapped = DBAPIError.instance(_SQLITE_LOOKUP, (key,), exc, sqlite3.Error)
                self._raise_if_unavailable(wrapped)
                raise wrapped from exc
        if row is None:
            return None
        return str(row[0]), None if row[1] is None else json.loads(row[1])

    def complete_idempotency(self, key: str, owner: str,
                             answer: dict[str, Any]) -> dict[str, Any]:
        """Store ``answer`` under a claim made by :meth:`claim_idempotency`.

        Returns the answer as stored (JSON form). A claim that was taken over in the meantime
        (see ``IDEMPOTENCY_STALE_AFTER``) keeps the new owner's answer.
        """
        doc = to_json_object(answer, "response")
        with self._write() as conn:
            conn.execute(sa.update(_K).where(_K.c.key == key, _K.c.owner == owner)
                         .values(response=doc, completed_at=self._now()))
        return doc

    def withdraw_idempotency(self, key: str, owner: str) -> None:
        """Give up a claim made by :meth:`claim_idempotency`.

        An answer already stored under the claim is kept: the work it describes committed.
        """
        with self._write() as conn:
            conn.execute(sa.delete(_K).where(_K.c.key == key, _K.c.owner == owner,
                                             _K.c.response.is_(None)))

    def purge_idempotency(self, before: datetime) -> int:
        """Delete answered keys created before ``before``; returns how many."""
        check_time(before, "before")
        with self._write() as conn:
            n = conn.execute(sa.delete(_K).where(_K.c.created_at < before,
                                                 _K.c.response.is_not(None))).rowcount
        return int(n)

    def _claim(self, key: str, body_hash: str, owner: str) -> _Claim:
        now = self._now()
        with self._write() as conn:
            row = _select(conn, key)
            if row is None:
                values = {"key": key, "body_hash": body_hash, "owner": owner,
                          "created_at": now}
                if self._insert_ignore(conn, _K, values, ["key"]):
                    return "mine", None
                # PostgreSQL: the insert waited for a concurrent claim that has now committed.
                row = _select(conn, key)
                if row is None:
                    raise InvalidInputError("key", key, "a key not being deleted concurrently")
            if row.body_hash != body_hash:
                raise different_body(key)
            if row.response is not None:
                return "done", dict(row.response)
            if now - row.created_at > self.IDEMPOTENCY_STALE_AFTER:
                conn.execute(sa.update(_K).where(_K.c.key == key, _K.c.owner == row.owner)
                             .values(owner=owner, created_at=now))
                return "mine", None
            return "busy", None


def different_body(key: str) -> ConflictError:
    """The conflict of a key sent again with another request body."""
    return ConflictError(f"idempotency key {key!r} was already used with a different "
                         "request body")


def _select(conn: Connection, key: str) -> Any:
    return conn.execute(sa.select(_K).where(_K.c.key == key)).first()
