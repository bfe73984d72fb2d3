"""Each flag reaches the library in the field and unit it names (docs/cli.md).

``recommend`` builds the same signal, market and account as ``POST
/api/capital/recommendation/position`` does from its body: a value the API refuses (a target
weight of 50 typed as a percent, a score of 1e12) must not be sized by the command line
either. The database commands read ``--db`` and ``--config`` or their environment variables:
a variable that is set but empty is refused like the empty flag, not read as the default
database or preset. A plan file is refused, not half read, when it repeats a key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import REC, cli_db, one_error_line, runner
from pydantic import ValidationError

import riskdesk.cli._serve as serve_module
from riskdesk.api._requests import RecommendationIn
from riskdesk.cli import app
from riskdesk.config import RiskConfig

QUOTE = ["--bid", "430.46", "--ask", "430.48"]
BASE = ["recommend", "--symbol", "AAPL", "--price", "430.47", "--equity", "100000", *QUOTE]


def decide(*flags: str) -> dict[str, Any]:
    """The decision ``recommend`` prints for ``flags`` (exit 0 or 1, JSON on stdout)."""
    r = runner.invoke(app, [*BASE, *flags, "--json"])
    assert r.exit_code in (0, 1), r.output
    assert r.stderr == ""
    decision: dict[str, Any] = json.loads(r.stdout)
    return decision


def trail(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["code"]: a for a in decision["trail"]}


# ----------------------------------------------------------------- flags reach their fields
def test_strength_is_the_target_weight_as_a_fraction() -> None:
    d = decide("--preset", "aurora-capital-scaling", "--strength", "0.05")
    base = trail(d)["CAPITAL_UTILIZATION"]
    factor = RiskConfig.preset("aurora-capital-scaling").position_sizing.capital_utilization_factor
    assert base["after"] == pytest.approx(0.05 * 100_000 * factor)
    assert base["note"].startswith("|weight| 0.05 x equity 100,000.00")
    assert d["action"] == "ENTER"


def test_win_rate_and_ratio_reach_kelly() -> None:
    d = decide("--preset", "aurora-kelly", "--win-rate", "0.6", "--win-loss-ratio", "2")
    assert d["action"] == "ENTER"
    assert "Kelly" in trail(d)["KELLY"]["note"]
    missing = decide("--preset", "aurora-kelly", "--win-rate", "0.6")
    assert missing["reasons"] == ["STATE_MISSING"]


def test_stop_and_atr_reach_stop_risk_sizing(tmp_path: Path) -> None:
    config = tmp_path / "stop-risk.yaml"
    config.write_text("position_sizing:\n  method: stop_risk\n", encoding="utf-8")
    by_stop = trail(decide("--config", str(config), "--stop", "420"))["STOP_RISK"]
    assert "signal stop at 420" in by_stop["note"]
    by_atr = trail(decide("--config", str(config), "--atr", "5"))["STOP_RISK"]
    assert "ATR stop" in by_atr["note"]


@pytest.mark.parametrize(("side", "expected"), [("SELL", "SHORT"), ("sell", "SHORT"),
                                                ("BUY", "LONG"), ("SHORT", "SHORT")])
def test_side_words(side: str, expected: str) -> None:
    assert decide("--side", side)["side"] == expected


def test_reduce_only_makes_a_reducer_which_offline_has_nothing_to_reduce() -> None:
    d = decide("--reduce-only")
    assert (d["intent"], d["action"], d["reasons"]) == ("REDUCE", "REJECT",
                                                        ["NO_POSITION_TO_REDUCE"])


def test_available_and_margin_used_reach_the_account() -> None:
    assert decide("--available", "0")["reasons"] == ["INSUFFICIENT_BUYING_POWER"]
    assert "MARGIN_RED" in decide("--margin-used", "99000", "--available", "1000")["reasons"]


def test_the_quote_flags_reach_the_spread_gate() -> None:
    r = runner.invoke(app, ["recommend", "--symbol", "AAPL", "--price", "430.47",
                            "--equity", "100000", "--json"])
    assert r.exit_code == 1
    assert json.loads(r.stdout)["reasons"] == ["STATE_MISSING"]
    wide = decide("--bid", "420", "--ask", "440", "--price", "430")
    assert wide["action"] == "REJECT"


def test_market_rules_reach_the_quantizer() -> None:
    assert decide("--step", "0.001")["quantity"] == "2.323"  # 1,000 / 430.47, down to 0.001
    assert decide("--min-notional", "1000")["reasons"] == ["BELOW_MIN_NOTIONAL"]


# ------------------------------------------------------- the ranges the HTTP API takes
OUT_OF_RANGE = [
    ("--strength", "50"),           # 50 % typed as a percent: 50 x equity
    ("--strength", "1.5"),
    ("--strength", "-0.5"),         # the side says which way, the weight how much
    ("--score", "1e12"),
    ("--score", "-1001"),
    ("--expected-return-pct", "1e12"),
    ("--win-loss-ratio", "1e12"),
    ("--vix", "1e9"),
]
#: The request field of each flag, to check that the API refuses the same values.
API_FIELD = {"--strength": "strength", "--score": "signal_score",
             "--expected-return-pct": "expected_return_pct",
             "--win-loss-ratio": "win_loss_ratio", "--vix": "market.vix"}


def _api_body(flag: str, value: str) -> dict[str, Any]:
    field = API_FIELD[flag]
    if field.startswith("market."):
        return {"symbol": "AAPL", "market": {field.removeprefix("market."): float(value)}}
    return {"symbol": "AAPL", field: float(value)}


@pytest.mark.parametrize(("flag", "value"), OUT_OF_RANGE)
def test_recommend_refuses_what_the_api_refuses(flag: str, value: str) -> None:
    with pytest.raises(ValidationError):
        RecommendationIn.model_validate(_api_body(flag, value))
    r = runner.invoke(app, [*REC, flag, value, "--json"])
    assert r.exit_code == 2, r.output
    assert one_error_line(r).startswith(f"error: {flag}: got "), r.stderr


@pytest.mark.parametrize(("flag", "value"), [
    ("--strength", "0"), ("--strength", "1"), ("--score", "1000"), ("--score", "-1000"),
    ("--expected-return-pct", "-1000"), ("--win-loss-ratio", "1000"), ("--vix", "200"),
])
def test_recommend_takes_the_edges_of_the_range(flag: str, value: str) -> None:
    RecommendationIn.model_validate(_api_body(flag, value))
    r = runner.invoke(app, [*REC, flag, value, "--json"])
    assert r.exit_code in (0, 1), r.output


# --------------------------------------------------------------- empty environment values
@pytest.mark.parametrize(("variable", "command"), [
    ("RISKDESK_DB_URL", ["state"]),
    ("RISKDESK_DB_URL", ["keys", "list"]),
    ("RISKDESK_DB_URL", ["journal", "tail"]),
    ("RISKDESK_CONFIG", ["state"]),
    ("RISKDESK_CONFIG", ["reconcile"]),
])
def test_an_empty_environment_value_is_refused_not_read_as_the_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str,
        command: list[str]) -> None:
    # ``RISKDESK_DB_URL=$PROD_DB riskdesk ...`` with the variable unset must not read (or
    # revoke keys in) the local default database.
    monkeypatch.chdir(tmp_path)
    url = cli_db(tmp_path / "var", name="riskdesk.db")  # the default: sqlite:///var/riskdesk.db
    assert url.endswith("var/riskdesk.db")
    env = {"RISKDESK_DB_URL": None, "RISKDESK_CONFIG": None, variable: ""}
    r = runner.invoke(app, [*command, "--json"], env=env)
    assert r.exit_code == 2, r.output
    assert one_error_line(r).startswith(f"error: {variable}: got ''"), r.stderr


def test_a_flag_given_wins_over_an_empty_environment_value(tmp_path: Path) -> None:
    url = cli_db(tmp_path)
    r = runner.invoke(app, ["state", "--db", url, "--config", "default", "--json"],
                      env={"RISKDESK_DB_URL": "", "RISKDESK_CONFIG": ""})
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["config_name"] == "default"


# -------------------------------------------------------------------------------- serve
@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def record(settings: Any, **kwargs: Any) -> None:
        calls.append({"settings": settings, **kwargs})

    monkeypatch.setattr(serve_module, "run_server", record)
    return calls


@pytest.mark.parametrize("config", ["", " ", "no-such-preset"])
def test_serve_checks_the_configuration_before_starting(
        served: list[dict[str, Any]], tmp_path: Path, config: str) -> None:
    db = tmp_path / "s.db"
    r = runner.invoke(app, ["serve", "--db", f"sqlite:///{db}", "--config", config])
    assert r.exit_code == 2, r.output
    line = one_error_line(r)
    assert "--config" in line or "no-such-preset" in line, line
    assert served == []
    assert not db.exists()


def test_serve_refuses_an_empty_configuration_variable(served: list[dict[str, Any]],
                                                       tmp_path: Path) -> None:
    r = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 's.db'}"],
                      env={"RISKDESK_CONFIG": ""})
    assert r.exit_code == 2, r.output
    assert one_error_line(r).startswith("error: RISKDESK_CONFIG: got ''"), r.stderr
    assert served == []


# ---------------------------------------------------------------------------- plan FILE
@pytest.mark.parametrize(("text", "named"), [
    ("targets:\n  - {symbol: AAPL, target_weight: 0.02}\n"
     "targets:\n  - {symbol: MSFT, target_weight: 0.02}\n", "'targets'"),
    ("targets:\n  - {symbol: AAPL, target_weight: 0.02, target_weight: 0.5}\n",
     "'target_weight'"),
    ('{"targets": [{"symbol": "AAPL", "symbol": "MSFT", "target_weight": 0.02}]}',
     "'symbol'"),
])
def test_plan_file_with_a_repeated_key_is_refused(tmp_path: Path, text: str,
                                                  named: str) -> None:
    db = cli_db(tmp_path)
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    r = runner.invoke(app, ["plan", str(path), "--db", db, "--json"])
    assert r.exit_code == 2, r.output
    line = one_error_line(r)
    assert named in line, line
    assert "line" in line, line
    tail = runner.invoke(app, ["journal", "tail", "--db", db, "--json"])
    assert json.loads(tail.stdout) == []  # nothing journaled


def test_plan_file_may_override_a_merged_key(tmp_path: Path) -> None:
    db = cli_db(tmp_path)
    path = tmp_path / "plan.yaml"
    path.write_text("targets:\n  - &a {symbol: AAPL, target_weight: 0.5}\n"
                    "  - {<<: *a, symbol: MSFT, target_weight: 0.02}\n", encoding="utf-8")
    r = runner.invoke(app, ["plan", str(path), "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    weights = {line["symbol"]: line["target_weight"] for line in json.loads(r.stdout)["lines"]}
    assert weights == {"AAPL": 0.5, "MSFT": 0.02}


# ------------------------------------------------------------------------------ config
def test_config_check_refuses_a_repeated_section(tmp_path: Path) -> None:
    path = tmp_path / "risk.yaml"
    path.write_text("position_sizing:\n  risk_per_trade: 0.005\n"
                    "position_sizing:\n  method: fixed_fraction\n", encoding="utf-8")
    r = runner.invoke(app, ["config", "check", str(path)])
    assert r.exit_code == 2, r.output
    assert "position_sizing" in one_error_line(r)
