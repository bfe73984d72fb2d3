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
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from riskdesk.config import RiskConfig
from riskdesk.domain import to_decimal
from riskdesk.errors import InvalidInputError, StoreUnavailableError
from riskdesk.store import _tables as t
from riskdesk.store._engine import BEGIN_OPTION
from riskdesk.store._holds import HoldLedger
from riskdesk.store._writelock import FileWriteLock

#: What the store's transactions look at to tell an unavailable database from a bug.
_DRIVER_ERRORS = (DBAPIError, PoolTimeoutError)
#: SQLite primary result codes of an unavailable database: BUSY, LOCKED, READONLY, IOERR,
#: FULL, CANTOPEN, PROTOCOL. SQLITE_ERROR (a syntax error, a missing table) is not one.
_SQLITE_OUTAGE_CODES = frozenset({5, 6, 8, 10, 13, 14, 15})
#: The same conditions by message, for errors that carry no result code.
_SQLITE_OUTAGE_TEXT = ("database is locked", "database table is locked", "readonly",
                       "disk i/o error", "database or disk is full",
                       "unable to open database file")
#: PostgreSQL SQLSTATE classes of an unavailable database: connection exception, transaction
#: rollback (serialization failure, deadlock), insufficient resources, operator intervention
#: (shutdown, cancelled statement) and system error (I/O).
_PG_OUTAGE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
#: ... and lock_not_available (``lock_timeout``).
_PG_OUTAGE_STATES = frozenset({"55P03"})
_MAX_REASON = 300


class StoreBase:
    """Connection handling every part of :class:`riskdesk.store.Store` builds on.

    Writes run in one transaction each. A database that is down, unreachable, locked past the
    busy timeout, read-only or full raises :class:`~riskdesk.errors.StoreUnavailableError` from
    :meth:`_write` and :meth:`_read` (see :func:`unavailable_reason`); the transaction is rolled
    back first. On SQLite a write transaction starts with
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
        try:
            with guard, queue, self._engine.connect() as conn:
                conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
                with conn.begin():
                    yield conn
        except _DRIVER_ERRORS as exc:
            self._raise_if_unavailable(exc)
            raise

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        guard: AbstractContextManager[Any] = self._read_lock or nullcontext()
        try:
            with guard, self._engine.connect() as conn:
                if not self._sqlite:
                    # Reads are single statements: skip the BEGIN and ROLLBACK round trips.
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                with conn.begin():
                    yield conn
        except _DRIVER_ERRORS as exc:
            self._raise_if_unavailable(exc)
            raise

    def _raise_if_unavailable(self, exc: Exception) -> None:
        """Raise :class:`StoreUnavailableError` from ``exc`` when it is an outage."""
        reason = unavailable_reason(exc, sqlite=self._sqlite)
        if reason is None:
            return
        password = self._engine.url.password
        if password:
            reason = reason.replace(str(password), "***")
        raise StoreUnavailableError(reason) from exc

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


# ---------------------------------------------------------------------- outages
def unavailable_reason(exc: BaseException, *, sqlite: bool) -> str | None:
    """Why the database is unavailable, in one line, or ``None`` when ``exc`` is no outage.

    An outage is an error the database or its connection caused, not the statement: a
    connection that was refused, dropped or invalidated, a pool with no connection to give
    within its timeout and, by dialect:

    * SQLite: a database locked past the busy timeout, read-only, out of disk, failing I/O or
      that cannot be opened (not a syntax error or a missing table);
    * PostgreSQL: every ``OperationalError`` of a connection or of SQLSTATE class 08, 40, 53,
      57 or 58 (and ``55P03``), and every ``InterfaceError`` (a closed connection).

    Parameters
    ----------
    exc
        The exception a statement, a connect, a commit or a rollback raised.
    sqlite
        Whether the database is SQLite.

    Returns
    -------
    str or None
        The driver's first line (no SQL, no parameters), at most 300 characters.
    """
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    if isinstance(exc, PoolTimeoutError) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated):
        outage = True
    elif sqlite:
        outage = isinstance(exc, OperationalError) and _sqlite_outage(orig)
    else:
        outage = isinstance(exc, InterfaceError) or (
            isinstance(exc, OperationalError) and _pg_outage(orig))
    return _first_line(orig if orig is not None else exc) if outage else None


def _sqlite_outage(orig: BaseException | None) -> bool:
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in _SQLITE_OUTAGE_CODES
    text = str(orig).lower()
    return any(phrase in text for phrase in _SQLITE_OUTAGE_TEXT)


def _pg_outage(orig: BaseException | None) -> bool:
    state = getattr(orig, "sqlstate", None)
    if not isinstance(state, str) or not state:  # a connection failure carries no SQLSTATE
        return True
    return state[:2] in _PG_OUTAGE_CLASSES or state in _PG_OUTAGE_STATES


def _first_line(error: BaseException) -> str:
    # SQLAlchemy's own messages end with a link to its documentation: not a reason.
    text = str(error.args[0]) if error.args and not isinstance(error, DBAPIError) \
        else str(error)
    text = text.split(" (Background on this error at:", 1)[0]
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        line = type(error).__name__
    return line if len(line) <= _MAX_REASON else line[:_MAX_REASON - 3] + "..."


# ---------------------------------------------------------------------- validation helpers
def check_time(value: object, field: str) -> datetime:
    """A timezone-aware datetime, or :class:`InvalidInputError` naming ``field``."""
    if not isinstance(value, datetime) or value.tzinfo is None \
            or value.tzinfo.utcoffset(value) is None:
        raise InvalidInputError(field, value, "a timezone-aware datetime")
    return value


def check_text(value: object, field: str, max_len: int = 200) -> str:
    """A non-empty string of at most ``max_len`` characters that every database can store."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(field, value, "a non-empty string")
    if len(value) > max_len:
        raise InvalidInputError(field, value, f"at most {max_len} characters")
    return check_storable(value, field)


def check_storable(value: str, field: str) -> str:
    """``value`` unless it holds NUL or a lone surrogate (undecodable bytes, in Python).

    PostgreSQL refuses both in text and JSON with a driver error (SQLite stored them):
    refused alike on both, as bad input naming ``field``.
    """
    if value.isascii():
        if "\x00" in value:
            raise InvalidInputError(field, value, "text without NUL characters")
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(field, value, "valid Unicode text (no lone surrogates)"
                                ) from None
    if "\x00" in value:
        raise InvalidInputError(field, value, "text without NUL characters")
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
