"""Store.open on URLs and files it cannot use: a riskdesk error, and no files left behind.

A path that is not a SQLite database, or whose directory cannot be made, is a database that
cannot be opened: ``StoreUnavailableError`` (exit code 3 on the command line, one line).
A URL riskdesk cannot use is bad input: ``ConfigError`` naming it (exit code 2). In-memory
SQLite URLs in SQLite's own URI form are in-memory databases like ``sqlite://``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from cli_support import one_error_line, runner

import riskdesk.cli._serve as serve_module
from riskdesk.cli import app
from riskdesk.errors import ConfigError, StoreUnavailableError
from riskdesk.store import Store

TEXT = "these are notes, not a database\n" * 40


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its content (``None`` for a directory)."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes()
            for p in sorted(folder.rglob("*"))}




@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


# ---------------------------------------------------------------------- not a database
@pytest.mark.parametrize("migrate", [True, False])
def test_a_file_that_is_not_a_database_is_unavailable_and_nothing_is_created(
        tmp_path: Path, text_file: Path, migrate: bool) -> None:
    before = snapshot(tmp_path)
    with pytest.raises(StoreUnavailableError) as exc:
        Store.open(f"sqlite:///{text_file}", migrate=migrate)
    assert exc.value.reason == "file is not a database"
    assert snapshot(tmp_path) == before  # no lock file, no -wal, the text untouched


@pytest.mark.parametrize("command", [["state"], ["journal", "tail"], ["keys", "list"]])
def test_cli_exits_3_on_a_file_that_is_not_a_database(tmp_path: Path, text_file: Path,
                                                      command: list[str]) -> None:
    before = snapshot(tmp_path)
    r = runner.invoke(app, [*command, "--db", f"sqlite:///{text_file}"])
    assert r.exit_code == 3, r.output
    assert one_error_line(r) == "store unavailable: file is not a database"
    assert snapshot(tmp_path) == before


def test_a_directory_in_place_of_the_database_leaves_no_lock_file(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    before = snapshot(tmp_path)
    r = runner.invoke(app, ["journal", "tail", "--db", f"sqlite:///{directory}"])
    assert r.exit_code == 3, r.output
    assert one_error_line(r) == "store unavailable: unable to open database file"
    assert snapshot(tmp_path) == before


def test_a_database_directory_that_cannot_be_made_is_unavailable(tmp_path: Path,
                                                                text_file: Path) -> None:
    before = snapshot(tmp_path)
    with pytest.raises(StoreUnavailableError) as exc:
        Store.open(f"sqlite:///{text_file}/sub/riskdesk.db", migrate=True)
    assert str(text_file) in exc.value.reason
    assert snapshot(tmp_path) == before
    r = runner.invoke(app, ["state", "--db", f"sqlite:///{text_file}/sub/riskdesk.db"])
    assert r.exit_code == 3, r.output
    assert one_error_line(r).startswith("store unavailable: ")


def test_a_real_database_still_opens_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'riskdesk.db'}"
    with Store.open(url, migrate=True) as store:
        store.put_kv("doc", {"n": 1})
    with Store.open(url) as store:
        assert store.get_kv("doc") == {"n": 1}


# ---------------------------------------------------------------------- SQLite URI forms
MEMORY_URIS = [
    "sqlite:///file:desk?mode=memory&uri=true",
    "sqlite:///file:desk?mode=memory&cache=shared&uri=true",
    "sqlite:///file::memory:?uri=true",
]


@pytest.mark.parametrize("url", MEMORY_URIS)
def test_an_in_memory_uri_is_an_in_memory_database(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   url: str) -> None:
    monkeypatch.chdir(tmp_path)
    with Store.open(url, migrate=True) as store:
        store.put_kv("doc", {"n": 1})
        # One shared connection, as with sqlite://: other threads see the same database.
        seen: list[Any] = []
        reader = threading.Thread(target=lambda: seen.append(store.get_kv("doc")))
        reader.start()
        reader.join()
        assert seen == [{"n": 1}]
    assert os.listdir(tmp_path) == []  # no file, no lock file, no directory


@pytest.mark.parametrize("url", MEMORY_URIS[:2])
def test_serve_refuses_several_workers_on_an_in_memory_uri(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    served: list[Any] = []
    monkeypatch.setattr(serve_module, "run_server", lambda *a, **kw: served.append(a))
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["serve", "--db", url, "--workers", "2"])
    assert r.exit_code == 2, r.output
    assert "--workers" in one_error_line(r)
    assert served == []


@pytest.mark.parametrize("url", [
    "sqlite:///file:{tmp}/riskdesk.db?uri=true",  # a file in SQLite's URI form
    "sqlite:///file:{tmp}/riskdesk.db?mode=rwc&uri=true",
    "sqlite:///file:{tmp}/riskdesk.db?uri=true&uri=true",
    "sqlite:///file:desk?mode=memory",  # SQLite reads URI parameters only with uri=true
    "sqlite:///{tmp}/riskdesk.db?timeout=soon",
    "sqlite:///{tmp}/riskdesk.db?uri=perhaps",
])
def test_a_sqlite_url_riskdesk_cannot_use_is_a_config_error_and_creates_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    given = url.format(tmp=tmp_path)
    with pytest.raises(ConfigError) as exc:
        Store.open(given, migrate=True)
    assert given in str(exc.value)
    assert snapshot(tmp_path) == {"work": None}
    r = runner.invoke(app, ["journal", "tail", "--db", given])
    assert r.exit_code == 2, r.output
    assert given in one_error_line(r)
    assert snapshot(tmp_path) == {"work": None}


# ---------------------------------------------------------------------- the home directory
def test_a_path_under_the_home_directory_opens_there(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    with Store.open("sqlite:///~/desk/riskdesk.db", migrate=True) as store:
        store.put_kv("doc", {"n": 1})
    assert (home / "desk" / "riskdesk.db").is_file()
    assert (home / "desk" / "riskdesk.db-writer.lock").is_file()  # beside the database
    assert os.listdir(work) == []
    with Store.open(f"sqlite:///{home / 'desk' / 'riskdesk.db'}") as store:
        assert store.get_kv("doc") == {"n": 1}
