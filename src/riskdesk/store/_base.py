"""Transactions, locks and shared validation for the store's parts."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from riskdesk.config import RiskConfig
from riskdesk.domain import to_decimal
from riskdesk.errors import InvalidInputError
from riskdesk.store import _tables as t
from riskdesk.store._engine import BEGIN_OPTION
from riskdesk.store._holds import HoldLedger
from riskdesk.store._writelock import FileWriteLock


class StoreBase:
    """Connection handling every part of :class:`riskdesk.store.Store` builds on.

    Writes run in one transaction each. On SQLite a write transaction starts with
    ``BEGIN IMMEDIATE`` (one writer at a time across processes, others wait up to the busy
    timeout); inside one process writers queue on a thread lock first, and across processes on
    a file lock (:mod:`riskdesk.store._writelock`), so that nobody sleeps in SQLite's busy
    handler. On PostgreSQL, writers that must not interleave take a named lock row with
    ``SELECT ... FOR UPDATE`` (see :meth:`_lock`).
    """

    def __init__(self, engine: Engine, *, config: RiskConfig,
                 clock: Callable[[], datetime], memory: bool = False,
                 busy_timeout_ms: int = 30_000) -> None:
        self._engine = engine
        self._config = config
        self._clock = clock
        self._sqlite = engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock() if self._sqlite else None
        # One shared connection (in-memory SQLite): readers queue on the same lock.
        self._read_lock = self._write_lock if memory else None
        database = engine.url.database
        self._file_lock = FileWriteLock(database, timeout_s=busy_timeout_ms / 1000) \
            if self._sqlite and not memory and database else None
        # Each account's budget holds, kept in step with reservation_events.
        self._holds = HoldLedger()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @property
    def config(self) -> RiskConfig:
        """The configuration the store reads its thresholds from."""
        return self._config

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        guard: AbstractContextManager[Any] = self._write_lock or nullcontext()
        queue: AbstractContextManager[Any] = self._file_lock.hold() \
            if self._file_lock is not None else nullcontext()
        with guard, queue, self._engine.connect() as conn:
            conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        guard: AbstractContextManager[Any] = self._read_lock or nullcontext()
        with guard, self._engine.connect() as conn:
            if not self._sqlite:
                # Reads are single statements: skip the BEGIN and ROLLBACK round trips.
                conn.execution_options(isolation_level="AUTOCOMMIT")
            with conn.begin():
                yield conn

    def _lock(self, conn: Connection, name: str, *, shared: bool = False) -> None:
        """Serialize writers on ``name`` until the transaction ends (PostgreSQL).

        With ``shared``, the lock is taken ``FOR SHARE``: holders of the shared lock run side
        by side and exclude only the exclusive holders (those who change what it guards).
        SQLite needs nothing: ``BEGIN IMMEDIATE`` already holds the database's write lock.
        """
        if self._sqlite:
            return
        stmt = sa.select(t.store_locks.c.name).where(t.store_locks.c.name == name) \
            .with_for_update(read=shared)
        if conn.execute(stmt).first() is None:
            self._insert_ignore(conn, t.store_locks, {"name": name}, ["name"])
            conn.execute(stmt).one()

    def _insert_ignore(self, conn: Connection, table: sa.Table, values: dict[str, Any],
                       keys: list[str]) -> bool:
        """Insert unless a row with the same ``keys`` exists; True when a row was written."""
        stmt: sa.Insert
        if self._sqlite:
            stmt = sqlite.insert(table).values(values).on_conflict_do_nothing(
                index_elements=keys)
        else:
            stmt = postgresql.insert(table).values(values).on_conflict_do_nothing(
                index_elements=keys)
        # RETURNING, not rowcount: drivers do not all report a rowcount for INSERT.
        returned = stmt.returning(*(table.c[k] for k in keys))
        return conn.execute(returned).first() is not None

    def _now(self) -> datetime:
        return check_time(self._clock(), "clock()")


# ---------------------------------------------------------------------- validation helpers
def check_time(value: object, field: str) -> datetime:
    """A timezone-aware datetime, or :class:`InvalidInputError` naming ``field``."""
    if not isinstance(value, datetime) or value.tzinfo is None \
            or value.tzinfo.utcoffset(value) is None:
        raise InvalidInputError(field, value, "a timezone-aware datetime")
    return value


def check_text(value: object, field: str, max_len: int = 200) -> str:
    """A non-empty string of at most ``max_len`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(field, value, "a non-empty string")
    if len(value) > max_len:
        raise InvalidInputError(field, value, f"at most {max_len} characters")
    return value


def check_optional_text(value: object, field: str, max_len: int = 200) -> str | None:
    """``None`` or a string accepted by :func:`check_text`."""
    return None if value is None else check_text(value, field, max_len)


def check_money(value: object, field: str, *, allow_negative: bool = False,
                allow_zero: bool = True) -> Decimal:
    """A finite Decimal (see :func:`riskdesk.domain.to_decimal`)."""
    return to_decimal(value, field, allow_negative=allow_negative, allow_zero=allow_zero)


def check_float(value: object, field: str) -> float:
    """A finite float (booleans refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidInputError(field, value, "a number")
    f = float(value)
    if not math.isfinite(f):
        raise InvalidInputError(field, value, "a finite number")
    return f


def check_limit(value: object, field: str = "limit", maximum: int = 100_000) -> int:
    """A row limit: an int in [1, ``maximum``]."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidInputError(field, value, f"an int in [1, {maximum}]")
    return value
