"""Engine factory: SQLite by default (a durable WAL file), PostgreSQL by URL.

SQLite connections run with ``journal_mode=WAL``, ``synchronous=FULL`` (a commit is on disk
when it returns), a busy timeout and foreign keys on. The driver's own transaction handling is
switched off so that riskdesk emits ``BEGIN`` itself: ``BEGIN IMMEDIATE`` for writes, which
takes the database's write lock up front instead of upgrading a read lock mid-transaction (an
upgrade cannot wait for a busy database and fails at once).
"""

from __future__ import annotations

import inspect
import os
import re
import sqlite3
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, SAWarning
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
#: What libpq and the server say, while connecting, of a connection option's value (an
#: ``sslmode`` or ``keepalives`` libpq cannot read, a server setting given in ``options``).
_PG_OPTION_ERROR = re.compile(
    r'invalid integer value "[^"]*" for connection option "[^"]*"'
    r'|invalid port number: "[^"]*"'
    r'|invalid \w+ value: "[^"]*"'
    r'|could not parse network address "[^"]*"'
    r'|invalid value for parameter "[^"]*": "[^"]*"'
    r'|unrecognized configuration parameter "[^"]*"')


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
        If SQLAlchemy or the driver refuses the URL (a query parameter it cannot read,
        ``?timeout=soon``, ``?connect_timeout=abc``, an unknown PostgreSQL option). A
        PostgreSQL option value that libpq or the server reads only when connecting
        (``?sslmode=bogus``) raises it from the first connection instead.
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
    """``url`` resolved (see :func:`resolve_url`) once SQLAlchemy and the driver accept it.

    Creates nothing and connects to nothing.

    Raises
    ------
    ConfigError
        As :func:`make_engine` would, for a URL that cannot be used.
    """
    parsed = make_url(resolve_url(url))
    _create_engine(parsed).dispose()  # reads the URL's options
    return parsed


def _create_engine(url: URL, **kwargs: Any) -> Engine:
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always", SAWarning)
            engine = sa.create_engine(url, **kwargs)
    except (ArgumentError, ValueError) as exc:
        raise _unusable_url(url, str(exc) or type(exc).__name__) from None
    for warning in warned:
        if url.query and issubclass(warning.category, SAWarning):
            # An option the driver ignores (pysqlite: "?bogus=1", or URI arguments without
            # "uri=true") is a mistyped option: refused, as PostgreSQL's unknown ones are.
            engine.dispose()
            reason = str(warning.message).split(" (Background", 1)[0]
            raise _unusable_url(url, reason.replace(" and are being ignored", ""))
        warnings.warn_explicit(warning.message, warning.category, warning.filename,
                               warning.lineno)
    try:
        _read_connect_options(engine)
    except ConfigError:
        engine.dispose()
        raise
    if engine.dialect.name == "postgresql":
        _refuse_bad_options_on_connect(engine)
    return engine


def _unusable_url(url: URL, reason: str) -> ConfigError:
    """The :class:`ConfigError` for ``url``, refused for ``reason``; passwords hidden."""
    reason = next((line.strip() for line in reason.splitlines() if line.strip()), "refused")
    secrets = [url.password, url.query.get("password")]
    for secret in secrets:
        if isinstance(secret, str) and secret:
            reason = reason.replace(secret, "***")
    return ConfigError(f"url: cannot use {_shown_url(url)!r}: {reason}", "url")


def _shown_url(url: URL) -> str:
    """``url`` as it may be printed: its password, in the URL or its query, as ``***``."""
    if "password" not in url.query:
        return url.render_as_string(hide_password=True)
    hidden = url.update_query_dict({"password": "***"}).render_as_string(hide_password=True)
    return hidden.replace("password=%2A%2A%2A", "password=***")  # as the user would write it


def _read_connect_options(engine: Engine) -> None:
    """Let the driver read the URL's connection options, connecting to nothing.

    SQLite: :mod:`sqlite3` opens an in-memory database with them (``?detect_types=`` out of
    range). PostgreSQL: psycopg reads them as it does before connecting (an unknown option,
    ``?connect_timeout=abc``). What the driver refuses raises :class:`ConfigError`.
    """
    url = engine.url
    if engine.dialect.name == "sqlite":
        if not url.query:
            return  # the driver's defaults
        with warnings.catch_warnings():
            # Options the driver ignores were already warned about by create_engine.
            warnings.simplefilter("ignore", SAWarning)
            _, options = engine.dialect.create_connect_args(url)
        try:
            sqlite3.connect(":memory:", **options).close()
        except (ValueError, TypeError, OverflowError, sqlite3.Error) as exc:
            raise _unusable_url(url, str(exc) or type(exc).__name__) from None
        return
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    args, options = engine.dialect.create_connect_args(url)
    # Arguments of psycopg's connect() that are not connection options (the adapters).
    own = {name for name, p in inspect.signature(psycopg.Connection.connect).parameters.items()
           if p.kind is inspect.Parameter.KEYWORD_ONLY}
    try:
        params = conninfo_to_dict(*args, **{k: v for k, v in options.items() if k not in own})
        make_conninfo("", **params)  # libpq's own check of the option names
        # psycopg 3.2 and later read connect_timeout before connecting, here as there.
        read_timeout = getattr(psycopg.conninfo, "timeout_from_conninfo", None)
        if read_timeout is not None:
            read_timeout(params)
    except psycopg.ProgrammingError as exc:
        raise _unusable_url(url, str(exc)) from None


def _refuse_bad_options_on_connect(engine: Engine) -> None:
    """Raise :class:`ConfigError`, not an outage, for an option refused while connecting.

    libpq reads most option values (``sslmode``, ``keepalives``) only when it connects, and the
    server the settings in ``options``: those refusals carry no SQLSTATE, like a server that
    cannot be reached, so they are told apart by libpq's and the server's own words.
    """
    url = engine.url

    def on_error(ctx: ExceptionContext) -> BaseException | None:
        if ctx.connection is not None or ctx.is_pre_ping:
            return None  # not a new connection
        reason = _option_error(ctx.original_exception)
        return None if reason is None else _unusable_url(url, reason)

    sa.event.listen(engine, "handle_error", on_error)


def _option_error(exc: BaseException) -> str | None:
    import psycopg

    if not isinstance(exc, psycopg.Error) or exc.sqlstate:
        return None
    if isinstance(exc, psycopg.ProgrammingError):  # psycopg's reading of the options
        return str(exc)
    if isinstance(exc, psycopg.OperationalError):
        found = _PG_OPTION_ERROR.search(str(exc))
        return found.group(0) if found else None
    return None


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
