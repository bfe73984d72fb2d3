"""The ``Store``: opening, migrating and closing, and the parts it is made of."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from riskdesk.config import RiskConfig
from riskdesk.errors import InvalidInputError, StoreUnavailableError
from riskdesk.store._base import unavailable_reason
from riskdesk.store._batch import BatchOps
from riskdesk.store._capital import CapitalOps
from riskdesk.store._engine import is_memory_sqlite, make_engine, resolve_url
from riskdesk.store._idempotency import IdempotencyOps
from riskdesk.store._journal import JournalOps
from riskdesk.store._keys import KeyOps
from riskdesk.store._reports import ReportOps
from riskdesk.store._reservations import ReservationOps
from riskdesk.store._state import StateOps
from riskdesk.store._stats import StatsOps

_HERE = Path(__file__).resolve().parent
#: Any constant works: it names the advisory lock that serializes concurrent migrations.
_PG_MIGRATION_LOCK = 0x7269736B
#: SQLite's result code for a file that is not a database (SQLITE_NOTADB).
_SQLITE_NOTADB = 26


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_sqlite_file(engine: Engine) -> None:
    """Connect to a SQLite file once, before anything is created beside it.

    A file SQLite cannot use (not a database, a directory, no permission) raises
    :class:`StoreUnavailableError` here, not at the first write, which would first create
    the writers' lock file next to it.
    """
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        reason = unavailable_reason(exc, sqlite=True)
        if reason is None and _not_a_database(exc.orig):
            reason = next((ln.strip() for ln in str(exc.orig).splitlines() if ln.strip()),
                          "file is not a database")
        if reason is None:
            raise
        raise StoreUnavailableError(reason) from exc


def _not_a_database(orig: BaseException | None) -> bool:
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) == _SQLITE_NOTADB
    return "not a database" in str(orig).lower()


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration shipped inside the package.

    Parameters
    ----------
    connection
        When given, migrations run on it (inside its transaction).

    Returns
    -------
    alembic.config.Config
        Ready for ``alembic.command`` functions.
    """
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


class Store(BatchOps, JournalOps, IdempotencyOps, CapitalOps, ReservationOps, StateOps,
            StatsOps, ReportOps, KeyOps):
    """riskdesk's memory: journal, capital history, reservations, state, fills, keys.

    Open one per process with :meth:`open`; it is safe to share between threads. Several
    processes may open the same database: writes are serialized per database (SQLite) or per
    account and document (PostgreSQL row locks).
    """

    @classmethod
    def open(cls, url: str | None = None, *, config: RiskConfig | None = None,
             clock: Callable[[], datetime] | None = None, migrate: bool = False,
             busy_timeout_ms: int = 30_000, pool_size: int = 10) -> Store:
        """Open the database at ``url``.

        Parameters
        ----------
        url
            A SQLAlchemy URL (``sqlite:///path.db``, ``postgresql+psycopg://...``). ``None``
            reads ``RISKDESK_DB_URL``, else uses the SQLite file ``./var/riskdesk.db``.
            An in-memory SQLite URL (``sqlite://``, or SQLite's URI form
            ``sqlite:///file:NAME?mode=memory&uri=true``) works for single-process experiments.
        config
            Configuration read for capital status thresholds; defaults to ``RiskConfig()``.
        clock
            Returns the current aware time, for record timestamps; ``datetime.now(UTC)`` by
            default.
        migrate
            Upgrade the schema to the latest version right away.
        busy_timeout_ms
            How long a SQLite writer waits for another process's write to finish.
        pool_size
            Connections kept per process.

        Returns
        -------
        Store
            The open store.

        Raises
        ------
        ConfigError
            If the URL cannot be used (see :func:`riskdesk.store.resolve_url`).
        StoreUnavailableError
            If a SQLite file cannot be opened (not a database, a directory, no permission)
            or, with ``migrate``, the database is unavailable.
        """
        if isinstance(busy_timeout_ms, bool) or not isinstance(busy_timeout_ms, int) \
                or busy_timeout_ms < 0:
            raise InvalidInputError("busy_timeout_ms", busy_timeout_ms, "an int >= 0")
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise InvalidInputError("pool_size", pool_size, "an int >= 1")
        resolved = resolve_url(url)
        memory = is_memory_sqlite(make_url(resolved))
        engine = make_engine(resolved, busy_timeout_ms=busy_timeout_ms, pool_size=pool_size)
        if engine.dialect.name == "sqlite" and not memory:
            _check_sqlite_file(engine)
        store = cls(engine, config=config if config is not None else RiskConfig(),
                    clock=clock if clock is not None else _utc_now,
                    memory=memory, busy_timeout_ms=busy_timeout_ms)
        if migrate:
            try:
                store.migrate()
            except BaseException:
                store.close()  # the engine and its connections, not left to the collector
                raise
        return store

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision`` (Alembic, in one transaction)."""
        with self._write() as conn:
            if not self._sqlite:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            command.upgrade(alembic_config(conn), revision)
        self._holds.forget()

    def downgrade(self, revision: str = "base") -> None:
        """Downgrade the schema to ``revision`` (``"base"`` drops every table)."""
        with self._write() as conn:
            if not self._sqlite:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            command.downgrade(alembic_config(conn), revision)
        self._holds.forget()

    def schema_version(self) -> str | None:
        """The database's current migration revision, or ``None`` for an empty database."""
        with self._read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def head_version() -> str | None:
        """The latest migration revision shipped with this version of riskdesk."""
        return ScriptDirectory.from_config(alembic_config()).get_current_head()

    def close(self) -> None:
        """Commit queued decision writes, then close every pooled connection."""
        self._stop_group_commit()
        self._engine.dispose()
        if self._file_lock is not None:
            self._file_lock.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._engine.url.render_as_string(hide_password=True)!r})"
