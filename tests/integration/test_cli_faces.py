from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import REC, cli_db, runner

from riskdesk.cli import app


@pytest.fixture
def db(tmp_path: Path) -> str:
    return cli_db(tmp_path, book=False)


def test_recommend_offline_exit_codes_and_json() -> None:
    ok = runner.invoke(app, [*REC, "--json"])
    assert ok.exit_code == 0, ok.output
    d = json.loads(ok.output)
    assert d["action"] == "ENTER"
    assert Decimal(d["quantity"]) == 2  # 1% of 100,000 at 430.47, whole shares
    denied = runner.invoke(app, [*REC[:-4], "--json"])  # no bid/ask: the spread guard denies
    assert denied.exit_code == 1
    assert json.loads(denied.output)["action"] == "REJECT"
    bad = runner.invoke(app, [*REC, "--win-rate", "1.5"])
    assert bad.exit_code == 2
    assert "--win-rate: got '1.5'" in bad.output
    nan = runner.invoke(app, [*REC[:4], "nan", *REC[5:]])
    assert nan.exit_code == 2
    assert "--price" in nan.output
    table = runner.invoke(app, [*REC, "--preset", "default"])
    assert table.exit_code == 0
    assert "BASE_SIZE" in table.output


def test_keys_lifecycle(db: str) -> None:
    made = runner.invoke(app, ["keys", "create", "bot", "--scope", "trade", "--db", db,
                               "--json"])
    assert made.exit_code == 0, made.output
    key = json.loads(made.output)
    listed = json.loads(runner.invoke(app, ["keys", "list", "--db", db, "--json"]).output)
    assert [k["key_id"] for k in listed] == [key["key_id"]]
    assert "key" not in listed[0]
    revoked = runner.invoke(app, ["keys", "revoke", key["key_id"], "--db", db])
    assert revoked.exit_code == 0
    assert runner.invoke(app, ["keys", "list", "--db", db, "--json"]).output.strip() == "[]"
    everything = json.loads(runner.invoke(app, ["keys", "list", "--all", "--db", db,
                                                "--json"]).output)
    assert everything[0]["revoked_at"] is not None


def test_state_plan_and_journal(db: str, tmp_path: Path) -> None:
    st = runner.invoke(app, ["state", "--db", db, "--json"])
    assert st.exit_code == 0, st.output
    assert json.loads(st.output)["capital_state"]["total_wallet_balance"] == "100000"
    plan = tmp_path / "plan.yaml"
    plan.write_text("targets:\n  - {symbol: AAPL, target_weight: 0.02}\n"
                    "  - {symbol: MSFT, target_weight: 0.01}\n")
    out = runner.invoke(app, ["plan", str(plan), "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    assert {d["symbol"] for d in json.loads(out.output)["decisions"]} == {"AAPL", "MSFT"}
    tail = runner.invoke(app, ["journal", "tail", "--db", db, "--json"])
    entries = json.loads(tail.output)
    assert len(entries) == 2
    human = runner.invoke(app, ["journal", "tail", "--db", db, "--trail"])
    assert human.exit_code == 0
    assert "AAPL" in human.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("targets:\n  - {symbol: AAPL, target_weight: .nan}\n")
    assert runner.invoke(app, ["plan", str(bad), "--db", db]).exit_code == 2


def test_unreachable_database_exits_3() -> None:
    r = runner.invoke(app, ["state", "--db",
                            "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"])
    assert r.exit_code == 3, r.output


def test_state_shows_the_budget_pending_orders_hold(tmp_path: Path) -> None:
    db = cli_db(tmp_path, name="booked.db")  # quotes from the paper book: openers approved
    plan = tmp_path / "plan.yaml"
    plan.write_text("targets:\n  - {symbol: AAPL, target_weight: 0.02}\n"
                    "  - {symbol: MSFT, target_weight: 0.01}\n")
    decided = json.loads(runner.invoke(app, ["plan", str(plan), "--db", db, "--json"]).output)
    approved = {d["symbol"]: Decimal(d["position_size_usd"]) for d in decided["decisions"]
                if d["reservation_id"] is not None}
    assert approved, decided  # the plan reserved budget for at least one order
    reserved = json.loads(runner.invoke(app, ["state", "--db", db, "--json"]).output)[
        "capital_state"]["reserved"]
    assert reserved["count"] == len(approved)
    assert Decimal(reserved["notional"]) == sum(approved.values())
    table = runner.invoke(app, ["state", "--db", db])
    assert table.exit_code == 0, table.output
    line = next(x for x in table.output.splitlines() if "reserved (pending orders)" in x)
    plural = "" if len(approved) == 1 else "s"
    assert f"{reserved['notional']} ({len(approved)} order{plural})" in line
    for symbol, notional in approved.items():
        row = next(x for x in table.output.splitlines() if x.strip("│ ").startswith(symbol))
        assert str(notional) in row or f"{notional:f}" in row


def test_state_names_who_halted_the_desk_and_why(tmp_path: Path) -> None:
    from riskdesk.domain import TradingState
    from riskdesk.service import Service, Settings

    db = cli_db(tmp_path, name="halted.db")
    active = runner.invoke(app, ["state", "--db", db])
    assert active.exit_code == 0, active.output
    assert "ACTIVE" in next(x for x in active.output.splitlines() if "operator" in x)
    service = Service.open(Settings(db_url=db))
    try:
        service.set_trading_state(TradingState.HALTED, operator="night-desk",
                                  note="venue outage")
    finally:
        service.close()
    table = runner.invoke(app, ["state", "--db", db])
    line = next(x for x in table.output.splitlines() if "operator" in x)
    assert "HALTED by night-desk" in line
    assert "venue outage" in line
    as_json = json.loads(runner.invoke(app, ["state", "--db", db, "--json"]).output)
    assert as_json["operator"]["changes"][0]["note"] == "venue outage"
