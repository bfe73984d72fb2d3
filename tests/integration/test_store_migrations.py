from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from store_support import T0, journal_one

from riskdesk.errors import ConfigError
from riskdesk.store import ENV_VAR, Store, resolve_url
from riskdesk.store._tables import metadata

TABLES = {"store_locks", "capital_snapshots", "decisions", "idempotency_keys", "reservations",
          "reservation_events", "desk_state", "trading_state_events", "kv", "fills",
          "reconciliations", "api_keys"}


def _tables(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}


def test_upgrade_empty_database_to_head_and_back(db_url: str) -> None:
    with Store.open(db_url) as store:
        assert store.schema_version() is None
        assert _tables(store) == set()
        store.migrate()
        assert store.schema_version() == Store.head_version() == "0002"
        assert _tables(store) == TABLES
        # The migration builds exactly the schema the code declares.
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(
                conn, opts={"compare_type": True}), metadata)
        assert diff == []
        store.migrate()  # at head already: nothing to do
        journal_one(store, 1)
        store.downgrade()
        assert store.schema_version() is None
        assert _tables(store) == set()
        store.migrate()
        assert store.journal() == []
        journal_one(store, 2)
        assert len(store.journal()) == 1


def test_open_with_migrate(db_url: str) -> None:
    with Store.open(db_url, migrate=True) as store:
        assert store.schema_version() == "0002"
        assert repr(store).startswith("Store(")


def test_default_url_is_a_sqlite_file_under_var(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_url() == "sqlite:///var/riskdesk.db"
    with Store.open(migrate=True) as store:
        store.put_kv("k", {"at": T0})
    assert (tmp_path / "var" / "riskdesk.db").is_file()


def test_env_var_names_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    monkeypatch.setenv(ENV_VAR, url)
    assert resolve_url() == url
    assert resolve_url("sqlite:///other.db") == "sqlite:///other.db"
    with Store.open(migrate=True) as store:
        assert store.dialect == "sqlite"
    assert (tmp_path / "from-env.db").is_file()


@pytest.mark.parametrize(("given", "expected"), [
    ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
    ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:////abs/path.db", "sqlite:////abs/path.db"),
])
def test_url_normalisation(given: str, expected: str) -> None:
    assert resolve_url(given, env={}) == expected


@pytest.mark.parametrize("bad", ["mysql://u@h/db", "not a url", "oracle://x"])
def test_unsupported_urls(bad: str) -> None:
    with pytest.raises(ConfigError):
        resolve_url(bad, env={})
    with pytest.raises(ConfigError):
        resolve_url(None, env={ENV_VAR: bad})


def test_in_memory_sqlite_for_experiments() -> None:
    with Store.open("sqlite://", migrate=True) as store:
        store.put_kv("k", {"v": 1})
        assert store.get_kv("k") == {"v": 1}
