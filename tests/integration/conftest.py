"""Database fixtures: a fresh SQLite file and a fresh PostgreSQL database per test.

``pg_url`` creates a uniquely named database on the local server
(``RISKDESK_TEST_PG_ADMIN_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
and drops it afterwards. It skips, with the reason, only when no server answers, and fails
instead when ``RISKDESK_REQUIRE_POSTGRES`` is set (for CI machines that must run them).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from store_support import Clock

from riskdesk.store import Store

PG_ADMIN_URL = os.environ.get("RISKDESK_TEST_PG_ADMIN_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'riskdesk.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                             connect_args={"connect_timeout": 5})
    try:
        conn = admin.connect()
    except OperationalError as exc:
        admin.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        message = f"no PostgreSQL server answers at {PG_ADMIN_URL}: {reason}"
        if os.environ.get("RISKDESK_REQUIRE_POSTGRES"):
            pytest.fail(message + " (RISKDESK_REQUIRE_POSTGRES is set)")
        pytest.skip(reason=message)
    name = f"riskdesk_test_{uuid.uuid4().hex[:16]}"
    with conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url = request.getfixturevalue(name)
    assert isinstance(url, str)
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on each database, on a hand-moved clock (``store_support.Clock``)."""
    s = Store.open(db_url, clock=Clock(), migrate=True)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    """A migrated store on SQLite only, on a hand-moved clock."""
    s = Store.open(sqlite_url, clock=Clock(), migrate=True)
    yield s
    s.close()
