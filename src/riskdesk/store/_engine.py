"""Engine factory: SQLite by default (a durable WAL file), PostgreSQL by URL.

SQLite connections run with ``journal_mode=WAL``, ``synchronous=FULL`` (a commit is on disk
when it returns), a busy timeout and foreign keys on. The driver's own transaction handling is
switched off so that riskdesk emits ``BEGIN`` itself: ``BEGIN IMMEDIATE`` for writes, which
takes the database's write lock up front instead of upgrading a read lock mid-transaction (an
upgrade cannot wait for a busy database and fails at once).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from riskdesk.errors import ConfigError

#: Environment variable holding the database URL.
ENV_VAR = "RISKDESK_DB_URL"
#: Database used when neither an URL nor ``RISKDESK_DB_URL`` is given.
DEFAULT_SQLITE_PATH = Path("var") / "riskdesk.db"
#: Execution option naming the SQLite ``BEGIN`` mode of a connection's next transaction.
BEGIN_OPTION = "riskdesk_begin"


def resolve_url(url: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The database URL to use.

    Parameters
    ----------
    url
        An explicit SQLAlchemy URL. ``postgresql://`` and ``postgres://`` are read as
        ``postgresql+psycopg://`` (psycopg 3).
    env
        Environment to read ``RISKDESK_DB_URL`` from; ``os.environ`` when ``None``.

    Returns
    -------
    str
        ``url``, else ``RISKDESK_DB_URL``, else a SQLite file at ``./var/riskdesk.db``.

    Raises
    ------
    ConfigError
        If the URL cannot be parsed or names a backend other than SQLite or PostgreSQL.
    """
    environ = os.environ if env is None else env
    raw = url if url is not None else environ.get(ENV_VAR) or None
    source = "url" if url is not None else ENV_VAR
    if raw is None:
        return f"sqlite:///{DEFAULT_SQLITE_PATH.as_posix()}"
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"{source}: not a database URL: {raw!r}", source) from None
    backend = parsed.get_backend_name()
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"{source}: unsupported database {backend!r} in {raw!r}; "
                          "use sqlite:///PATH or postgresql+psycopg://...", source)
    return parsed.render_as_string(hide_password=False)


def is_memory_sqlite(url: URL) -> bool:
    """True for an in-memory SQLite URL (``sqlite://`` or ``sqlite:///:memory:``)."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: str, *, busy_timeout_ms: int = 30_000, pool_size: int = 10) -> Engine:
    """Create the engine for ``url`` with riskdesk's durability settings.

    Parameters
    ----------
    url
        A resolved URL (see :func:`resolve_url`).
    busy_timeout_ms
        How long a SQLite writer waits for the write lock before failing.
    pool_size
        Connections kept per process (PostgreSQL and SQLite files).

    Returns
    -------
    Engine
        A configured engine. SQLite files get their parent directory created.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_size=pool_size, max_overflow=pool_size,
                                pool_pre_ping=True)
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    }
    if is_memory_sqlite(parsed):
        kwargs["poolclass"] = StaticPool
    else:
        assert parsed.database is not None
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = pool_size
    engine = sa.create_engine(parsed, **kwargs)
    _install_sqlite_hooks(engine, busy_timeout_ms)
    return engine


def _install_sqlite_hooks(engine: Engine, busy_timeout_ms: int) -> None:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let riskdesk emit BEGIN itself (see the module docstring).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            # The busy timeout first: switching to WAL needs the lock another process may hold.
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = FULL")
            cur.execute("PRAGMA foreign_keys = ON")
        finally:
            cur.close()

    def on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")

    sa.event.listen(engine, "connect", on_connect)
    sa.event.listen(engine, "begin", on_begin)


def sqlite_pragmas(engine: Engine) -> dict[str, Any]:
    """The durability pragmas a SQLite connection of ``engine`` runs with (for checks)."""
    with engine.connect() as conn:
        return {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")}
