"""Database URL options the driver refuses are bad configuration, not a bug or an outage.

psycopg reads the option names and ``connect_timeout`` before connecting: ``Store.open``
refuses those without connecting. libpq reads most values (``sslmode``, ``keepalives``) and
the server the settings in ``options`` only while connecting: those are refused by the first
connection. Either way the library raises ``ConfigError`` naming the URL, the option and its
value (passwords hidden), and the command line exits 2 with that one line, ``serve`` included.
The SQLite driver's options are read the same way.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import one_error_line, runner

from riskdesk.cli import app
from riskdesk.errors import ConfigError
from riskdesk.service import Service, Settings
from riskdesk.store import Store

RISKDESK = Path(sys.executable).with_name("riskdesk")
#: Nothing listens there: every refusal below comes before any server is reached.
NOWHERE = "postgresql+psycopg://nobody:s3cret@127.0.0.1:1/none"
SHOWN = "postgresql+psycopg://nobody:***@127.0.0.1:1/none"

# (query, the driver's reason)
READ_BEFORE_CONNECTING = [
    ("connect_timeout=abc", "bad value for connect_timeout: 'abc'"),
    ("bogus_option=1", 'invalid connection option "bogus_option"'),
]
READ_WHILE_CONNECTING = [
    ("sslmode=bogus", 'invalid sslmode value: "bogus"'),
    ("keepalives=x", 'invalid integer value "x" for connection option "keepalives"'),
]
ALL = READ_BEFORE_CONNECTING + READ_WHILE_CONNECTING


def message(query: str, reason: str) -> str:
    return f"url: cannot use '{SHOWN}?{query}': {reason}"


@pytest.mark.parametrize(("query", "reason"), READ_BEFORE_CONNECTING)
def test_store_open_refuses_an_option_psycopg_cannot_read(query: str, reason: str) -> None:
    with pytest.raises(ConfigError) as exc:
        Store.open(f"{NOWHERE}?{query}")
    assert str(exc.value) == message(query, reason)


@pytest.mark.parametrize(("query", "reason"), READ_WHILE_CONNECTING)
def test_an_option_refused_while_connecting_is_a_config_error(query: str,
                                                              reason: str) -> None:
    with pytest.raises(ConfigError) as exc:
        Store.open(f"{NOWHERE}?{query}", migrate=True)
    assert str(exc.value) == message(query, reason)
    store = Store.open(f"{NOWHERE}?{query}")
    try:
        with pytest.raises(ConfigError) as exc:
            store.schema_version()
        assert str(exc.value) == message(query, reason)
    finally:
        store.close()


@pytest.mark.parametrize(("query", "reason"), ALL)
def test_service_open_refuses_a_bad_option(query: str, reason: str) -> None:
    with pytest.raises(ConfigError) as exc:
        Service.open(Settings(db_url=f"{NOWHERE}?{query}"))
    assert str(exc.value) == message(query, reason)


@pytest.mark.parametrize("command", [["journal", "tail"], ["state", "--json"]])
@pytest.mark.parametrize(("query", "reason"), ALL)
def test_cli_exits_2_naming_the_option(command: list[str], query: str, reason: str) -> None:
    r = runner.invoke(app, [*command, "--db", f"{NOWHERE}?{query}"])
    assert r.exit_code == 2, r.output
    assert one_error_line(r) == f"error: {message(query, reason)}"


def test_a_password_in_the_query_is_hidden() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?password=s3cret&connect_timeout=abc"
    with pytest.raises(ConfigError) as exc:
        Store.open(url)
    assert "s3cret" not in str(exc.value)
    assert "password=***" in str(exc.value)
    r = runner.invoke(app, ["journal", "tail", "--db", url])
    assert r.exit_code == 2, r.output
    line = one_error_line(r)
    assert "s3cret" not in line
    assert "connect_timeout=abc" in line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize(("query", "reason"), [READ_BEFORE_CONNECTING[0],
                                               READ_WHILE_CONNECTING[0]])
def test_serve_refuses_a_bad_option_at_start_up(query: str, reason: str) -> None:
    done = subprocess.run([str(RISKDESK), "serve", "--port", str(free_port()),
                           "--db", f"{NOWHERE}?{query}"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [f"error: {message(query, reason)}"]


@pytest.mark.postgres
def test_a_server_setting_the_server_refuses_is_a_config_error(pg_url: str) -> None:
    url = f"{pg_url}?options=-c%20TimeZone%3DNowhere%2FAtAll"
    with pytest.raises(ConfigError) as exc:
        Store.open(url, migrate=True)
    assert str(exc.value).endswith(': invalid value for parameter "TimeZone": '
                                   '"Nowhere/AtAll"')
    r = runner.invoke(app, ["journal", "tail", "--db", url])
    assert r.exit_code == 2, r.output
    assert "TimeZone" in one_error_line(r)


# ---------------------------------------------------------------------- SQLite
@pytest.mark.parametrize("url", [
    "sqlite:///{tmp}/riskdesk.db?detect_types=99999999999",
    "sqlite:///{tmp}/riskdesk.db?cached_statements=99999999999",
    "sqlite://?detect_types=99999999999",
    "sqlite:///{tmp}/riskdesk.db?bogus=1",  # an option the driver would ignore
    "sqlite:///{tmp}/riskdesk.db?cache=shared",  # a URI argument without uri=true
])
def test_a_sqlite_option_the_driver_refuses_is_a_config_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.chdir(tmp_path)
    given = url.format(tmp=tmp_path)
    with pytest.raises(ConfigError) as exc:
        Store.open(given, migrate=True)
    assert str(exc.value).startswith(f"url: cannot use '{given}': ")
    assert list(tmp_path.iterdir()) == []
    r = runner.invoke(app, ["state", "--db", given])
    assert r.exit_code == 2, r.output
    assert given in one_error_line(r)
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_option_the_driver_ignores_is_named_without_a_warning(
        tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    with pytest.raises(ConfigError, match="'bogus' are not accepted by the pysqlite driver"):
        Store.open(f"sqlite:///{tmp_path}/riskdesk.db?bogus=1", migrate=True)
    assert [str(w.message) for w in recwarn] == []
    store = Store.open(f"sqlite:///{tmp_path}/riskdesk.db?timeout=5", migrate=True)
    store.close()  # an option the driver reads is still accepted
