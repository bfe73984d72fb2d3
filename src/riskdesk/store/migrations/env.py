"""Alembic environment for riskdesk's store.

``Store.migrate()`` hands over an open connection in ``config.attributes["connection"]``.
From the command line the URL comes from ``-x url=...``, else ``RISKDESK_DB_URL``, else the
default SQLite file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from riskdesk.store._engine import make_engine, resolve_url
from riskdesk.store._tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    engine = make_engine(resolve_url(url))
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("riskdesk migrations run online only (they need a connection)")
_main()
