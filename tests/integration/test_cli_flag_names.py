"""A refused value is named by the flag that carried it (docs/cli.md, exit code 2).

The objects the offline commands build from their flags check their own fields
(``rules.step``, ``account.equity``); the refusal must still say ``--step`` or ``--equity``,
with the value as it was typed, on one line, exit 2, nothing on stdout.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import REC, cli_db, one_error_line, runner

from riskdesk.cli import app

EXITS = ["exits", "plan", "--symbol", "AAPL", "--side", "LONG", "--entry", "430.47",
         "--quantity", "10"]


@pytest.mark.parametrize(("flags", "named", "value"), [
    (["--price", "0"], "--price", "'0'"),
    (["--equity", "0"], "--equity", "'0'"),
    (["--step", "0"], "--step", "'0'"),
    (["--tick", "0"], "--tick", "'0'"),
    (["--max-leverage", "0"], "--max-leverage", "'0'"),
    (["--max-leverage", "0.5"], "--max-leverage", "'0.5'"),
    (["--bid", "0"], "--bid", "'0'"),
    (["--bid", "500"], "--bid", "'500'"),
    (["--stop", "0"], "--stop", "'0'"),
    (["--symbol", ""], "--symbol", "''"),
    (["--score", "nan"], "--score", "'nan'"),
    (["--strength", "inf"], "--strength", "'inf'"),
    (["--expected-return-pct", "nan"], "--expected-return-pct", "'nan'"),
    (["--win-loss-ratio", "-1"], "--win-loss-ratio", "'-1.0'"),
    (["--vix", "-5"], "--vix", "'-5.0'"),
])
def test_recommend_names_the_flag(flags: list[str], named: str, value: str) -> None:
    r = runner.invoke(app, [*REC, *flags, "--json"])
    assert r.exit_code == 2, r.output
    line = one_error_line(r)
    assert line.startswith(f"error: {named}: got {value}, expected "), line
    assert "market." not in line
    assert "Decimal(" not in line


def test_a_bid_above_the_ask_names_both_flags() -> None:
    r = runner.invoke(app, [*REC, "--bid", "500", "--json"])
    assert r.exit_code == 2, r.output
    assert one_error_line(r) == "error: --bid: got '500', expected <= --ask (430.48)"


@pytest.mark.parametrize(("flags", "named"), [
    (["--symbol", ""], "--symbol"),
    (["--symbol", " "], "--symbol"),
])
def test_exits_plan_names_the_flag(flags: list[str], named: str) -> None:
    r = runner.invoke(app, [*EXITS, *flags, "--json"])
    assert r.exit_code == 2, r.output
    line = one_error_line(r)
    assert line.startswith(f"error: {named}: got "), line


@pytest.mark.parametrize(("args", "named"), [
    (["journal", "tail", "--since", ""], "--since"),
    (["journal", "tail", "--since", "2026-01-01"], "--since"),
    (["journal", "tail", "--symbol", ""], "--symbol"),
    (["reconcile", "--policy", "ADOPT_REMOTE"], "--policy"),
])
def test_database_commands_name_the_flag(tmp_path: Path, args: list[str], named: str
                                         ) -> None:
    r = runner.invoke(app, [*args, "--db", cli_db(tmp_path), "--json"])
    assert r.exit_code == 2, r.output
    assert one_error_line(r).startswith(f"error: {named}: got "), r.stderr


@pytest.mark.parametrize("args", [
    [*REC, "--config", ""], [*REC, "--preset", ""], [*REC, "--config", " "],
    [*EXITS, "--config", ""], [*EXITS, "--preset", ""],
], ids=["recommend-config", "recommend-preset", "recommend-blank", "exits-config",
        "exits-preset"])
def test_an_empty_configuration_is_refused_not_read_as_the_default(args: list[str]) -> None:
    # ``--config "$CONFIG"`` with the variable unset must not decide under another preset.
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 2, r.output
    flag = args[-2]
    assert one_error_line(r).startswith(f"error: {flag}: got "), r.stderr


@pytest.mark.parametrize("command", [["state"], ["reconcile"], ["plan", "targets.yaml"]])
def test_database_commands_refuse_an_empty_configuration(tmp_path: Path, command: list[str]
                                                         ) -> None:
    (tmp_path / "targets.yaml").write_text("targets:\n  - {symbol: AAPL, target_weight: 0.02}\n",
                                           encoding="utf-8")
    args = [a if a != "targets.yaml" else str(tmp_path / a) for a in command]
    r = runner.invoke(app, [*args, "--db", cli_db(tmp_path), "--config", "", "--json"])
    assert r.exit_code == 2, r.output
    assert one_error_line(r) == ("error: --config: got '', expected a preset name or a "
                                 "configuration file")


def test_a_stop_the_desk_refuses_names_the_flag(tmp_path: Path) -> None:
    config = tmp_path / "stop-risk.yaml"
    config.write_text("position_sizing:\n  method: stop_risk\n", encoding="utf-8")
    r = runner.invoke(app, [*REC, "--stop", "500", "--config", str(config), "--json"])
    assert r.exit_code == 2, r.output
    assert one_error_line(r) == ("error: --stop: got '500', expected a stop on the losing "
                                 "side of 430.47 for a LONG")
