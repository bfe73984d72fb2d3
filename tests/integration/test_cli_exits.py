"""``riskdesk exits plan``: offline brackets, JSON for scripts, tables for people, exit codes.

Expected prices are derived from the configuration's numbers with plain ``decimal``
arithmetic and the documented rounding (ceiling for a long's exit prices, floor for a
short's), not from the exits module.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from pathlib import Path

import pytest
from config_support import EXITS_LADDER_YAML
from typer.testing import CliRunner

from riskdesk.cli import app
from riskdesk.config import RiskConfig
from riskdesk.demo import paper_service

runner = CliRunner()
DEFAULT = RiskConfig.preset("default").exits
LONG = ["exits", "plan", "--symbol", "AAPL", "--side", "LONG", "--entry", "430.47",
        "--quantity", "10"]
OPENED = "2024-03-04T14:30:00+00:00"
LADDER = EXITS_LADDER_YAML


def to_grid(value: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (value / tick).to_integral_value(rounding=rounding) * tick


def dec(x: float) -> Decimal:
    return Decimal(repr(x))


def run_json(args: list[str]) -> dict:
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


@pytest.fixture
def ladder(tmp_path: Path) -> Path:
    path = tmp_path / "ladder.yaml"
    path.write_text(LADDER, encoding="utf-8")
    return path


def test_long_plan_json_follows_the_default_preset() -> None:
    entry, tick = Decimal("430.47"), Decimal("0.01")
    p = run_json([*LONG, "--opened-at", OPENED])
    stop = to_grid(entry * (1 - dec(DEFAULT.stop_pct)), tick, ROUND_CEILING)
    r = entry - stop
    target = to_grid(entry + dec(DEFAULT.take_profit_r) * r, tick, ROUND_CEILING)
    assert (stop, target) == (Decimal("421.87"), Decimal("447.67"))  # by hand
    assert (p["symbol"], p["side"], p["entry_source"]) == ("AAPL", "LONG", "request")
    assert Decimal(p["stop"]) == stop
    assert Decimal(p["take_profit"]) == target
    assert Decimal(p["risk_budget"]) == 10 * r
    assert [(Decimal(t["price"]), Decimal(t["quantity"]), t["final"])
            for t in p["targets"]] == [(target, Decimal(10), True)]
    assert p["opened_at"] == OPENED
    assert p["time_stop_at"] is None
    assert p["config_name"] == "default"


def test_short_plan_json_on_a_crypto_grid() -> None:
    entry, tick = Decimal("60012.3"), Decimal("0.1")
    p = run_json(["exits", "plan", "--symbol", "BTCUSDT", "--side", "SELL", "--entry",
                  "60012.3", "--quantity", "0.25", "--tick", "0.1", "--step", "0.001",
                  "--preset", "default"])
    stop = to_grid(entry * (1 + dec(DEFAULT.stop_pct)), tick, ROUND_FLOOR)
    r = stop - entry
    target = to_grid(entry - dec(DEFAULT.take_profit_r) * r, tick, ROUND_FLOOR)
    assert (stop, target) == (Decimal("61212.5"), Decimal("57611.9"))  # by hand
    assert p["side"] == "SHORT"
    assert Decimal(p["stop"]) == stop
    assert Decimal(p["take_profit"]) == target
    assert Decimal(p["risk_budget"]) == Decimal("0.25") * r
    assert (p["tick"], p["step"]) == ("0.1", "0.001")


def test_explicit_stop_and_a_configuration_file(ladder: Path) -> None:
    entry, tick, qty = Decimal("430.47"), Decimal("0.01"), Decimal(10)
    cfg = RiskConfig.load(str(ladder)).exits
    p = run_json([*LONG, "--atr", "6.23", "--config", str(ladder), "--opened-at", OPENED])
    stop = to_grid(entry - dec(cfg.stop_atr_multiple) * Decimal("6.23"), tick, ROUND_CEILING)
    r = entry - stop
    rungs = [(to_grid(entry + dec(rung.r_multiple) * r, tick, ROUND_CEILING),
              (dec(rung.fraction) * qty).quantize(Decimal(1), rounding=ROUND_DOWN))
             for rung in cfg.partials]
    final = to_grid(entry + dec(cfg.take_profit_r) * r, tick, ROUND_CEILING)
    assert stop == Decimal("421.13")  # by hand: 430.47 - 9.345 rounded up
    assert Decimal(p["stop"]) == stop
    assert [(Decimal(t["price"]), Decimal(t["quantity"])) for t in p["targets"]] == \
        [*rungs, (final, qty - sum(q for _, q in rungs))]
    opened = datetime.fromisoformat(OPENED)
    assert p["time_stop_at"] == (opened + timedelta(hours=cfg.time_stop_hours)).isoformat()
    # a stop sent on the command line wins over the ATR stop
    q = run_json([*LONG, "--stop-price", "425", "--config", str(ladder),
                  "--opened-at", OPENED])
    assert Decimal(q["stop"]) == Decimal(425)
    assert Decimal(q["risk_per_unit"]) == entry - 425


def test_table_for_people() -> None:
    r = runner.invoke(app, LONG)
    assert r.exit_code == 0, r.output
    assert "exit plan LONG AAPL" in r.output
    assert "421.87" in r.output  # the stop
    assert "447.67" in r.output  # the target
    assert "targets" in r.output


def test_same_plan_as_the_service(tmp_path: Path) -> None:
    service = paper_service(f"sqlite:///{tmp_path / 'cli.db'}", {"AAPL": Decimal("430.47")})
    try:
        served = service.exit_plan(symbol="AAPL", side="LONG", quantity=Decimal(10),
                                   entry=Decimal("430.47"),
                                   opened_at=datetime.fromisoformat(OPENED))
    finally:
        service.close()
    assert run_json([*LONG, "--opened-at", OPENED]) == served


@pytest.mark.parametrize(("args", "named"), [
    (["--entry", "nan"], "--entry"),
    (["--entry", "0"], "--entry"),
    (["--quantity", "-1"], "--quantity"),
    (["--quantity", "abc"], "--quantity"),
    (["--side", "UP"], "--side"),
    (["--tick", "0"], "--tick"),
    (["--atr", "inf"], "--atr"),
    (["--stop-price", "431"], "--stop-price"),  # above a long's entry
    (["--opened-at", "2024-03-04T14:30:00"], "--opened-at"),
    (["--opened-at", "yesterday"], "--opened-at"),
    (["--preset", "default", "--config", "x.yaml"], "--preset"),
    (["--preset", "no-such-preset"], "no-such-preset"),
])
def test_bad_input_exits_2_naming_the_flag(args: list[str], named: str) -> None:
    flags = list(LONG)
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if flag in flags:
            flags[flags.index(flag) + 1] = value
        else:
            flags += [flag, value]
    r = runner.invoke(app, flags)
    assert r.exit_code == 2, r.output
    assert named in r.output


def test_a_plan_the_configuration_cannot_build_exits_2(ladder: Path) -> None:
    r = runner.invoke(app, [*LONG, "--config", str(ladder)])  # ATR stop, no --atr
    assert r.exit_code == 2, r.output
    assert "atr" in r.output
    missing = runner.invoke(app, ["exits", "plan", "--symbol", "AAPL", "--entry", "1",
                                  "--quantity", "1"])  # no --side
    assert missing.exit_code == 2
    assert "--side" in missing.output
