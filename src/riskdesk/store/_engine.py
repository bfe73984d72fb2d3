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

from riskdesk.errors import ConfigError, StoreUnavailableError

#: Environment variable holding the database URL.
ENV_VAR = "RISKDESK_DB_URL"
#: Database used when neither an URL nor ``RISKDESK_DB_URL`` is given.
DEFAULT_SQLITE_PATH = Path("var") / "riskdesk.db"
#: Execution option naming the SQLite ``BEGIN`` mode of a connection's next transaction.
BEGIN_OPTION = "riskdesk_begin"
#: How SQLAlchemy spells true in a URL's query (``?uri=true``).
_TRUE = frozenset({"true", "yes", "on", "y", "t", "1"})


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
        ``url``, else ``RISKDESK_DB_URL``, else a SQLite file at ``./var/riskdesk.db``. A
        SQLite path starting with ``~`` is expanded to the home directory.

    Raises
    ------
    ConfigError
        If the URL cannot be parsed, names a backend other than SQLite or PostgreSQL, or is
        a SQLite URI filename (``?uri=true``) of anything but an in-memory database.
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
    if backend == "sqlite":
        _check_sqlite_uri(parsed, raw, source)
        if parsed.database and parsed.database.startswith("~"):
            # SQLite would read "~" as a directory name; the directory and the writers' lock
            # file go by the expanded path: one path for all three.
            parsed = parsed.set(database=os.path.expanduser(parsed.database))
    return parsed.render_as_string(hide_password=False)


def _check_sqlite_uri(url: URL, raw: str, source: str) -> None:
    """Refuse the SQLite URI forms whose file riskdesk could not find.

    With ``uri=true`` the database part is a SQLite URI (``file:...``) that only SQLite reads:
    riskdesk would make its directory and put the writers' lock file at the literal text
    instead. In-memory ones have neither, so those are accepted. Without ``uri=true``
    SQLite ignores ``mode``: ``?mode=memory`` would silently name a file.
    """
    if isinstance(url.query.get("uri"), tuple):
        raise ConfigError(f"{source}: uri is given more than once in {raw!r}", source)
    if _sqlite_uri(url):
        if not is_memory_sqlite(url):
            raise ConfigError(f"{source}: SQLite URI filenames (uri=true) are supported for "
                              f"in-memory databases only, got {raw!r}; use sqlite:///PATH "
                              "for a file", source)
    elif "mode" in url.query:
        raise ConfigError(f"{source}: SQLite reads mode only with uri=true, got {raw!r}; use "
                          "sqlite:///file:NAME?mode=memory&uri=true or sqlite:// for an "
                          "in-memory database", source)


def _sqlite_uri(url: URL) -> bool:
    value = url.query.get("uri")
    return isinstance(value, str) and value.strip().lower() in _TRUE


def is_memory_sqlite(url: URL) -> bool:
    """True for an in-memory SQLite URL.

    That is ``sqlite://``, ``sqlite:///:memory:`` and, in SQLite's URI form,
    ``sqlite:///file:NAME?mode=memory&uri=true`` and ``sqlite:///file::memory:?uri=true``.
    """
    if url.get_backend_name() != "sqlite":
        return False
    if url.database in (None, "", ":memory:"):
        return True
    return _sqlite_uri(url) and (url.query.get("mode") == "memory"
                                 or url.database == "file::memory:")


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

    Raises
    ------
    ConfigError
        If SQLAlchemy refuses the URL (a query parameter it cannot read, ``?timeout=soon``).
    StoreUnavailableError
        If the directory of a SQLite file cannot be created.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return _create_engine(parsed, pool_size=pool_size, max_overflow=pool_size,
                              pool_pre_ping=True)
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    }
    memory = is_memory_sqlite(parsed)
    if memory:
        kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = pool_size
    # The engine first: a URL it refuses must not leave a directory behind.
    engine = _create_engine(parsed, **kwargs)
    if not memory:
        assert parsed.database is not None
        parent = Path(parsed.database).expanduser().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            engine.dispose()
            raise StoreUnavailableError(f"unable to open database file: cannot create "
                                        f"directory {parent} ({exc.strerror})") from exc
    _install_sqlite_hooks(engine, busy_timeout_ms)
    return engine


def checked_url(url: str) -> URL:
    """``url`` resolved (see :func:`resolve_url`) once SQLAlchemy accepts it; creates nothing.

    Raises
    ------
    ConfigError
        As :func:`make_engine` would, for a URL that cannot be used.
    """
    parsed = make_url(resolve_url(url))
    _create_engine(parsed).dispose()  # reads the URL's options; connects to nothing
    return parsed


def _create_engine(url: URL, **kwargs: Any) -> Engine:
    try:
        return sa.create_engine(url, **kwargs)
    except (ArgumentError, ValueError) as exc:
        shown = url.render_as_string(hide_password=True)
        reason = next((line.strip() for line in str(exc).splitlines() if line.strip()),
                      type(exc).__name__)
        raise ConfigError(f"url: cannot use {shown!r}: {reason}", "url") from None


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
