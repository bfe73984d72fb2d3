"""``riskdesk plan FILE``: a file that is not a list of targets is refused whole.

docs/cli.md: the file holds ``targets: [{symbol, target_weight, price?}]`` and any other key
is refused, so a misspelt or unsupported setting never passes silently while the orders are
decided, reserved and journaled. A refusal is exit 2, one line naming the place, and nothing
written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import cli_db, one_error_line, runner

from riskdesk.cli import app

TARGET = "targets:\n  - {symbol: AAPL, target_weight: 0.02}\n"


@pytest.mark.parametrize(("text", "says"), [
    (TARGET + "dry_run: true\n", "dry_run: got True, expected no such key (known: targets)"),
    ("targts:\n  - {symbol: AAPL, target_weight: 0.02}\n", "targts: got"),
    ("", "a mapping with a targets list (the file is empty)"),
    ("- {symbol: AAPL, target_weight: 0.02}\n",
     "a mapping with a targets list (its top level is a list)"),
    ("targets:\n  - {symbol: ' ', target_weight: 0.02}\n",
     "targets[0].symbol: got ' ', expected a non-empty symbol"),
    ("targets:\n  - {symbol: AAPL, target_weight: 11}\n",
     "targets[0].target_weight: got 11, expected within [-10, 10]"),
], ids=["unknown-key", "misspelt-targets", "empty", "a-list", "blank-symbol", "weight-as-given"])
def test_a_plan_file_that_is_not_only_targets_is_refused(tmp_path: Path, text: str,
                                                         says: str) -> None:
    db = cli_db(tmp_path)
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    r = runner.invoke(app, ["plan", str(path), "--db", db, "--json"])
    assert r.exit_code == 2, r.output
    assert says in one_error_line(r)
    tail = runner.invoke(app, ["journal", "tail", "--db", db, "--json"])
    assert json.loads(tail.stdout) == []  # nothing decided
    state = json.loads(runner.invoke(app, ["state", "--db", db, "--json"]).stdout)
    assert state["capital_state"]["reserved"]["count"] == 0


def test_the_same_targets_alone_are_planned(tmp_path: Path) -> None:
    db = cli_db(tmp_path)
    path = tmp_path / "plan.yaml"
    path.write_text(TARGET, encoding="utf-8")
    r = runner.invoke(app, ["plan", str(path), "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    assert [d["symbol"] for d in json.loads(r.stdout)["decisions"]] == ["AAPL"]
