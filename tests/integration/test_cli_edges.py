"""``riskdesk`` on awkward input: one plain line on stderr, the documented exit code.

Every refusal must print exactly one line naming the flag, key or file, print values as they
were given (no markup or emoji rendering of user text), leave stdout empty under ``--json``
and never end in a traceback.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli_support import REC, broker_holds_unknown_position, cli_db, one_error_line, runner

import riskdesk.cli._serve as serve_module
from riskdesk import demo
from riskdesk.cli import app
from riskdesk.config import RiskConfig


@pytest.fixture
def db(tmp_path: Path) -> str:
    return cli_db(tmp_path)




# ---------------------------------------------------------------------------- reconcile
def test_reconcile_exits_1_while_local_and_broker_differ(db: str) -> None:
    broker_holds_unknown_position(db)  # a position the service's book has never seen
    differ = runner.invoke(app, ["reconcile", "--db", db, "--json"])
    assert differ.exit_code == 1, differ.output
    report = json.loads(differ.stdout)
    assert [f["kind"] for f in report["findings"]] == ["UNKNOWN_POSITION"]
    human = runner.invoke(app, ["reconcile", "--db", db])
    assert human.exit_code == 1, human.output
    adopted = runner.invoke(app, ["reconcile", "--db", db, "--policy", "adopt_remote",
                                  "--json"])
    assert adopted.exit_code in (0, 1), adopted.output
    again = runner.invoke(app, ["reconcile", "--db", db, "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["findings"] == []


# ---------------------------------------------------------------------------- recommend
def test_recommend_available_zero_is_zero_not_the_equity() -> None:
    funded = runner.invoke(app, [*REC, "--json"])
    assert funded.exit_code == 0, funded.output
    assert json.loads(funded.stdout)["action"] == "ENTER"
    broke = runner.invoke(app, [*REC, "--available", "0", "--json"])
    assert broke.exit_code == 1, broke.output
    d = json.loads(broke.stdout)
    assert d["action"] != "ENTER"
    assert Decimal(d["quantity"]) == 0


# ------------------------------------------------------------------ messages, verbatim
@pytest.mark.parametrize("value", ["[/bold]", "[red]x", ":fire:", "[link=x]y"])
def test_an_error_prints_the_value_as_given(value: str) -> None:
    r = runner.invoke(app, [*REC, "--regime", value, "--json"])
    assert r.exit_code == 2, r.output
    line = one_error_line(r)
    assert "--regime" in line
    assert value in line


def test_a_config_path_with_brackets_is_named_as_given(tmp_path: Path) -> None:
    path = tmp_path / "[bold]cfg.yaml"
    path.write_text("exits: {stop_pct: lots}\n", encoding="utf-8")
    r = runner.invoke(app, ["config", "check", str(path)])
    assert r.exit_code == 2, r.output
    line = one_error_line(r)
    assert str(path) in line
    assert "stop_pct" in line


def test_tables_print_user_text_as_given(db: str) -> None:
    made = runner.invoke(app, ["keys", "create", "[/bot]", "--db", db])
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["keys", "create", "[bold]ci", "--db", db]).exit_code == 0
    listed = runner.invoke(app, ["keys", "list", "--db", db])
    assert listed.exit_code == 0, listed.output
    assert "[/bot]" in listed.stdout
    assert "[bold]ci" in listed.stdout
    rec = runner.invoke(app, ["recommend", "--symbol", "[/x]", *REC[3:]])
    assert rec.exit_code == 0, rec.output
    assert "[/x]" in rec.stdout


# ------------------------------------------------------------------------- one line
def test_long_messages_stay_on_one_line(tmp_path: Path) -> None:
    unknown = runner.invoke(app, [*REC, "--preset", "no-such-preset", "--json"])
    assert unknown.exit_code == 2
    assert "no-such-preset" in one_error_line(unknown)
    broken = tmp_path / "broken.yaml"
    broken.write_text("limits: [1, 2\n", encoding="utf-8")
    for args in ([*REC, "--config", str(broken), "--json"],
                 ["config", "check", str(broken)], ["config", "show", str(broken)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, r.output
        assert str(broken) in one_error_line(r)


# ---------------------------------------------------------------------------- plan FILE
@pytest.mark.parametrize(("text", "named"), [
    ("targets: [\n", "line 2"),
    ('{"targets": [{"symbol": "AAPL", "target_weight": 0.02}', "line 1"),
    ("targets:\n  - {symbol: AAPL, target_weight: 0.02, prcie: 431}\n", "targets[0].prcie"),
    ("targets:\n  - {symbol: AAPL, target_quantity: 5}\n", "targets[0].target_quantity"),
])
def test_plan_file_errors_name_the_place(db: str, tmp_path: Path, text: str,
                                         named: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    r = runner.invoke(app, ["plan", str(path), "--db", db, "--json"])
    assert r.exit_code == 2, r.output
    assert named in one_error_line(r)
    tail = runner.invoke(app, ["journal", "tail", "--db", db, "--json"])
    assert json.loads(tail.stdout) == []  # nothing journaled


def test_plan_file_that_is_not_text(db: str, tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_bytes(b"\xff\xfe\x00targets")
    r = runner.invoke(app, ["plan", str(path), "--db", db, "--json"])
    assert r.exit_code == 2, r.output
    line = one_error_line(r)
    assert str(path) in line
    assert "UTF-8" in line


# ------------------------------------------------------------------------------ config
def test_config_commands_map_unexpected_failures_to_exit_4(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ref: str) -> RiskConfig:
        raise RuntimeError("loader fell over")

    monkeypatch.setattr(RiskConfig, "load", staticmethod(broken))
    for command in ("check", "show"):
        r = runner.invoke(app, ["config", command, "default"])
        assert r.exit_code == 4, r.output
        assert "loader fell over" in one_error_line(r)


# ------------------------------------------------------------------------------- serve
@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def record(settings: Any, **kwargs: Any) -> None:
        calls.append({"settings": settings, **kwargs})

    monkeypatch.setattr(serve_module, "run_server", record)
    return calls


@pytest.mark.parametrize(("args", "named"), [
    (["--log-level", "BOGUS"], "--log-level"),
    (["--log-level", "15"], "--log-level"),
    (["--db", "sqlite://", "--workers", "2"], "--workers"),
    (["--db", "sqlite:///", "--workers", "2"], "--workers"),
    (["--db", "sqlite:///:memory:", "--workers", "2"], "--workers"),
    (["--reservation-ttl", "nan"], "--reservation-ttl"),
    (["--reservation-ttl", "inf"], "--reservation-ttl"),
    (["--reservation-ttl", "-5"], "--reservation-ttl"),
    (["--reservation-ttl", "0"], "--reservation-ttl"),
    (["--reservation-ttl", "86401"], "--reservation-ttl"),
    (["--host", ""], "--host"),
    (["--host", "  "], "--host"),
])
def test_serve_refuses_before_starting(served: list[dict[str, Any]], tmp_path: Path,
                                       args: list[str], named: str) -> None:
    r = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 's.db'}", *args])
    assert r.exit_code == 2, r.output
    assert named in one_error_line(r)
    assert served == []


def test_serve_accepts_a_lower_case_log_level(served: list[dict[str, Any]],
                                              tmp_path: Path) -> None:
    r = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 's.db'}",
                            "--log-level", "debug", "--workers", "2"])
    assert r.exit_code == 0, r.output
    assert [c["workers"] for c in served] == [2]


# -------------------------------------------------------------------------------- keys
def test_keys_create_prints_the_scopes_it_stored(db: str) -> None:
    made = runner.invoke(app, ["keys", "create", "bot", "--scope", "read", "--scope", "read",
                               "--scope", "admin", "--db", db, "--json"])
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    listed = json.loads(runner.invoke(app, ["keys", "list", "--db", db, "--json"]).stdout)
    (stored,) = [k for k in listed if k["key_id"] == key["key_id"]]
    assert key["scopes"] == stored["scopes"]
    assert sorted(set(key["scopes"])) == key["scopes"]


def test_keys_revoke_twice_keeps_the_first_time(db: str) -> None:
    key = json.loads(runner.invoke(app, ["keys", "create", "bot", "--db", db, "--json"]
                                   ).stdout)
    first = runner.invoke(app, ["keys", "revoke", key["key_id"], "--db", db, "--json"])
    second = runner.invoke(app, ["keys", "revoke", key["key_id"], "--db", db, "--json"])
    assert (first.exit_code, second.exit_code) == (0, 0), second.output
    assert json.loads(first.stdout) == json.loads(second.stdout)


@pytest.mark.parametrize(("args", "named"), [
    (["keys", "revoke", "no-such-key"], "key_id"),
    (["keys", "revoke", ""], "key_id"),
    (["keys", "create", "bot", "--scope", "root"], "--scope"),
    (["keys", "create", "bot", "--scope", "READ"], "--scope"),
    (["keys", "create", "bot", "--scope", "read,trade"], "--scope"),
    (["keys", "create", ""], "name"),
])
def test_keys_bad_input(db: str, args: list[str], named: str) -> None:
    r = runner.invoke(app, [*args, "--db", db, "--json"])
    assert r.exit_code == 2, r.output
    assert named in one_error_line(r)
    listed = json.loads(runner.invoke(app, ["keys", "list", "--all", "--db", db, "--json"]
                                      ).stdout)
    assert listed == []  # nothing created


# ----------------------------------------------------------------------------- journal
@pytest.mark.parametrize("limit", ["0", "-5", "10001", "99999999999999999999", "ten"])
def test_journal_tail_limits_out_of_range(db: str, limit: str) -> None:
    r = runner.invoke(app, ["journal", "tail", "-n", limit, "--db", db, "--json"])
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    assert "--limit" in r.stderr


def test_journal_tail_limits_in_range(db: str) -> None:
    for limit in ("1", "10000"):
        r = runner.invoke(app, ["journal", "tail", "-n", limit, "--db", db, "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout) == []


def test_journal_tail_pages_back_with_before(db: str) -> None:
    from riskdesk.domain import Signal
    from riskdesk.service import Service, Settings

    service = Service.open(Settings(db_url=db))
    try:
        for _ in range(3):
            service.recommend(Signal(symbol="AAPL", side="LONG", score=75))
    finally:
        service.close()
    newest = json.loads(runner.invoke(app, ["journal", "tail", "--db", db, "--json"]).stdout)
    ids = [e["id"] for e in newest]
    assert len(ids) == 3
    older = runner.invoke(app, ["journal", "tail", "--before", str(ids[0]), "--db", db,
                                "--json"])
    assert older.exit_code == 0, older.output
    assert [e["id"] for e in json.loads(older.stdout)] == ids[1:]
    bad = runner.invoke(app, ["journal", "tail", "--before", "0", "--db", db, "--json"])
    assert bad.exit_code == 2
    assert "--before" in bad.stderr


# -------------------------------------------------------------------------------- demo
def test_demo_takes_a_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "data" / "demo.db"
    assert demo.main(["--db", f"sqlite:///{target}", "--no-serve"]) == 0
    assert target.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert f"database   sqlite:///{target}\n" in capsys.readouterr().out
    listed = runner.invoke(app, ["keys", "list", "--db", f"sqlite:///{target}", "--json"])
    assert {k["name"] for k in json.loads(listed.stdout)} == {"demo-admin", "demo-dashboard"}


@pytest.mark.parametrize(("args", "code", "named"), [
    (["--config", "no-such-preset"], 2, "no-such-preset"),
    (["--db", "mysql://x/y"], 2, "mysql"),
    (["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"], 3,
     "store unavailable"),
])
def test_demo_refuses_bad_settings_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str],
                                               args: list[str], code: int, named: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert demo.main([*args, "--no-serve"]) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert named in line


# ---------------------------------------------------------------------- a mistyped database
@pytest.mark.parametrize("command", [["journal", "tail"], ["keys", "list"], ["state"],
                                     ["reconcile"], ["keys", "revoke", "k1"]])
def test_a_database_file_that_does_not_exist_is_not_created_and_read_as_empty(
        tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "typo" / "riskdesk.db"
    r = runner.invoke(app, [*command, "--db", f"sqlite:///{missing}", "--json"])
    assert r.exit_code == 3, r.output
    assert one_error_line(r) == (f"store unavailable: no database at {missing} (riskdesk serve "
                                 "or python -m riskdesk.demo creates one)")
    assert list(tmp_path.iterdir()) == []


def test_keys_create_makes_a_new_database(tmp_path: Path) -> None:
    fresh = tmp_path / "new" / "riskdesk.db"
    r = runner.invoke(app, ["keys", "create", "bot", "--db", f"sqlite:///{fresh}", "--json"])
    assert r.exit_code == 0, r.output
    assert fresh.exists()
    listed = runner.invoke(app, ["keys", "list", "--db", f"sqlite:///{fresh}", "--json"])
    assert [k["name"] for k in json.loads(listed.stdout)] == ["bot"]
