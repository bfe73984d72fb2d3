"""A symbol the broker does not list is bad input: exit 2, one line naming the symbol.

docs/cli.md: exit 2 is bad input (fix the request), exit 3 state that is unavailable (retry
later). Retrying a plan with a symbol the venue does not list cannot succeed, so the CLI
answers it as the HTTP API does (422, ``unknown_symbol``) and not as missing state; nothing
of the plan is decided, reserved or journaled.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from cli_support import cli_db, one_error_line, runner

from riskdesk.cli import app
from riskdesk.cli._common import exits
from riskdesk.errors import StateError, UnknownSymbolError


@pytest.fixture
def db(tmp_path: Path) -> str:
    return cli_db(tmp_path)


def _nothing_decided(db: str) -> None:
    tail = runner.invoke(app, ["journal", "tail", "--db", db, "--json"])
    assert json.loads(tail.stdout) == []
    state = json.loads(runner.invoke(app, ["state", "--db", db, "--json"]).stdout)
    assert state["capital_state"]["reserved"]["count"] == 0


@pytest.mark.parametrize("targets", [
    "  - {symbol: ZZZZ, target_weight: 0.02}\n",
    "  - {symbol: AAPL, target_weight: 0.02}\n  - {symbol: ZZZZ, target_weight: 0.01}\n",
], ids=["alone", "after-a-listed-symbol"])
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "table"])
def test_plan_with_a_symbol_the_broker_does_not_list_is_bad_input(
        tmp_path: Path, db: str, targets: str, as_json: bool) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("targets:\n" + targets, encoding="utf-8")
    r = runner.invoke(app, ["plan", str(path), "--db", db, *(["--json"] if as_json else [])])
    assert r.exit_code == 2, r.output
    line = one_error_line(r)
    assert line.startswith("error: unknown symbol: "), line
    assert "ZZZZ" in line
    assert "state unavailable" not in line
    _nothing_decided(db)


def test_every_command_maps_an_unknown_symbol_to_exit_2() -> None:
    @exits
    def unknown() -> None:
        raise UnknownSymbolError("the venue lists no market 'ZZZZ'")

    with pytest.raises(typer.Exit) as caught:
        unknown()
    assert caught.value.exit_code == 2


def test_other_missing_state_stays_exit_3() -> None:
    @exits
    def missing() -> None:
        raise StateError("no price for AAPL: the broker quotes none")

    with pytest.raises(typer.Exit) as caught:
        missing()
    assert caught.value.exit_code == 3


@pytest.mark.parametrize("command", [
    ["recommend", "--symbol", " ", "--price", "430.47", "--equity", "100000", "--score", "75",
     "--json"],
    ["exits", "plan", "--symbol", " ", "--side", "LONG", "--entry", "430.47", "--quantity",
     "10", "--json"],
], ids=["recommend", "exits-plan"])
def test_offline_commands_refuse_a_blank_symbol_as_bad_input(command: list[str]) -> None:
    # Offline there is no broker to list symbols: any symbol is the caller's market, but one
    # that is blank is bad input, exit 2 naming the flag, as for plan.
    r = runner.invoke(app, command)
    assert r.exit_code == 2, r.output
    assert "--symbol" in one_error_line(r)
