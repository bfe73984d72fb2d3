"""The tables ``riskdesk`` prints for people: every figure readable, whatever the account.

``state`` must draw its exposure table when the account holds positions, the trails of
``recommend`` and ``journal tail --trail`` print amounts as plain numbers (``5000000``, not
``5e+06``), and ``keys list`` shows each key id whole (it is what ``keys revoke`` takes).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import broker_holds_unknown_position, cli_db, runner

from riskdesk.cli import app
from riskdesk.config import RiskConfig
from riskdesk.desk import Desk
from riskdesk.domain import AccountState, MarketRules, MarketSnapshot, Side, Signal
from riskdesk.store import Store

#: An account large enough that its sizes pass a million.
BIG = ["recommend", "--symbol", "BTCUSDT", "--price", "60000", "--bid", "59999", "--ask",
       "60001", "--equity", "500000000", "--score", "75", "--step", "0.001"]
EXPONENT = re.compile(r"\d[eE][+-]?\d")


def test_state_with_an_open_position_draws_the_exposure(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    broker_holds_unknown_position(db)  # 10 AAPL at the broker
    cli_db(tmp_path)  # then the quotes that approve openers
    adopted = runner.invoke(app, ["reconcile", "--db", db, "--policy", "adopt_remote",
                                  "--json"])
    assert adopted.exit_code in (0, 1), adopted.output
    plan = tmp_path / "plan.yaml"
    plan.write_text("targets:\n  - {symbol: MSFT, target_weight: 0.01}\n", encoding="utf-8")
    planned = runner.invoke(app, ["plan", str(plan), "--db", db, "--json"])
    assert planned.exit_code == 0, planned.output
    data = json.loads(runner.invoke(app, ["state", "--db", db, "--json"]).stdout)
    (held,) = data["exposure"]["by_symbol"]
    (pending,) = data["capital_state"]["reserved"]["by_symbol"]

    r = runner.invoke(app, ["state", "--db", db])
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    exposure = next(x for x in lines if x.strip("│ ").startswith(held["symbol"]))
    assert held["quantity"] in exposure
    assert held["notional"] in exposure
    assert f"{held['pct_of_equity']:.2f}" in exposure
    reserved = next(x for x in lines if x.strip("│ ").startswith(pending["symbol"]))
    assert pending["notional"] in reserved
    assert "reserved by pending orders" in r.stdout


def trail_rows(text: str) -> list[list[str]]:
    """The cells of the rows of the trail tables in ``text`` whose step is named."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("│┃").split("│")]
        if len(cells) == 5 and cells[0] in ("base_size", "adjust", "cap", "quantize"):
            rows.append(cells)
    return rows


def test_recommend_trail_prints_plain_amounts() -> None:
    decided = json.loads(runner.invoke(app, [*BIG, "--json"]).stdout)
    assert max(a["after"] for a in decided["trail"]) >= 1_000_000  # sizes past a million
    r = runner.invoke(app, BIG)
    assert r.exit_code == 0, r.output
    rows = trail_rows(r.stdout)
    assert rows
    figures = [cell for row in rows for cell in row[2:4]]
    assert not [f for f in figures if EXPONENT.search(f)], figures
    for row, step in zip(rows, [a for a in decided["trail"] if a["step"] != "leverage"],
                         strict=False):
        assert Decimal(row[2]) == Decimal(str(step["before"])), row
        assert Decimal(row[3]) == Decimal(str(step["after"])), row


def test_journal_trail_prints_plain_amounts(tmp_path: Path) -> None:
    db = cli_db(tmp_path)
    now = datetime.now(UTC)
    rules = MarketRules(symbol="BTCUSDT", step=Decimal("0.001"), tick=Decimal("0.1"))
    market = MarketSnapshot(rules=rules, price=Decimal(60000), bid=Decimal(59999),
                            ask=Decimal(60001), as_of=now)
    account = AccountState(equity=Decimal(500_000_000), available=Decimal(500_000_000),
                           as_of=now)
    signal = Signal(symbol="BTCUSDT", side=Side.LONG, score=75)
    decision = Desk(RiskConfig.load("default")).recommend(signal, account, market, now=now)
    assert max(a.after for a in decision.trail) >= 1_000_000
    with Store.open(db) as store:
        store.journal_decision(decision, signal=signal, account=account, market=market,
                               config_name="default", request_id="big-1")
    r = runner.invoke(app, ["journal", "tail", "--trail", "--db", db])
    assert r.exit_code == 0, r.output
    figures = [cell for row in trail_rows(r.stdout) for cell in row[2:4]]
    assert figures
    assert not [f for f in figures if EXPONENT.search(f)], figures
    assert "5000000" in figures


@pytest.mark.parametrize(("value", "shown"), [
    (0.0, "0"), (-0.0, "0"), (1.0, "1"), (5e6, "5000000"), (1234567.891, "1234567.891"),
    (860.9399999999999, "860.94"), (9.99999048, "9.99999048"), (1e-7, "0.0000001"),
    (-2.5e9, "-2500000000"),
])
def test_plain_number(value: float, shown: str) -> None:
    from riskdesk.cli._common import plain_number

    assert plain_number(value) == shown


@pytest.mark.parametrize("columns", ["60", "80", "120"])
def test_keys_list_shows_each_key_id_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           columns: str) -> None:
    # The id is what `keys revoke` takes: it must be readable in any terminal.
    monkeypatch.setenv("COLUMNS", columns)
    db = cli_db(tmp_path)
    ids = []
    for name in ("nightly reconciliation job on the ci runner", "dashboard", "bot"):
        made = runner.invoke(app, ["keys", "create", name, "--scope", "trade", "--db", db,
                                   "--json"])
        assert made.exit_code == 0, made.output
        ids.append(json.loads(made.stdout)["key_id"])
    revoked = runner.invoke(app, ["keys", "revoke", ids[0], "--db", db])
    assert revoked.exit_code == 0, revoked.output
    listed = runner.invoke(app, ["keys", "list", "--all", "--db", db])
    assert listed.exit_code == 0, listed.output
    for key_id in ids:
        assert key_id in listed.stdout, listed.stdout
    assert "…" not in "".join(line.split("│")[1] for line in listed.stdout.splitlines()
                              if line.startswith("│"))
