"""``POST /api/orders/plan`` answers money, prices and quantities as decimal strings.

The plan's ``summary`` and its ``lines`` are typed in the OpenAPI document, and a line's
decision gives ``risk_pct`` in percent, as ``decisions[]`` does. Run on both databases.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from api_support import PRICES, Api
from cli_support import cli_db, runner

from riskdesk.api._responses import PlanDecisionOut, PlanLineOut, PlanOut, PlanSummaryOut
from riskdesk.api.openapi import openapi_document
from riskdesk.cli import app
from riskdesk.config import RiskConfig

#: Quotes one cent around each mark, so that the spread guard can be evaluated.
QUOTES = {"AAPL": ("430.46", "430.48"), "MSFT": ("27.94", "27.96")}
#: 20 AAPL held; the plan cuts AAPL to 5 % of equity and opens 3 % in MSFT.
TARGETS = {"AAPL": 0.05, "MSFT": 0.03}

#: Where a plan answer may carry a JSON number: weights, percents and trail figures.
NUMBER_PATHS = {"lines.*.target_weight", "lines.*.decision.risk_pct",
                "lines.*.decision.trail.*.before", "lines.*.decision.trail.*.after",
                "decisions.*.risk_pct", "decisions.*.adjustments.*.before",
                "decisions.*.adjustments.*.after", "decisions.*.decision_id"}
#: The money, price and quantity fields of a line and of its decision.
LINE_MONEY = ("intended_val", "current_qty")
DECISION_MONEY = ("quantity", "price", "notional", "leverage", "margin_required")
SUMMARY_MONEY = ("available_before", "freed_margin", "available_after")


def _numbers(value: Any, path: str = "") -> list[str]:
    """The paths (list items as ``*``) of every JSON number in ``value``."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, (int, float)):
        return [path]
    prefix = f"{path}." if path else ""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _numbers(v, f"{prefix}{k}")]
    assert isinstance(value, list)
    return [p for v in value for p in _numbers(v, f"{prefix}*")]


def _dec(value: Any) -> Decimal:
    """A decimal string of the answer as a Decimal (a JSON number is refused)."""
    assert isinstance(value, str), value
    return Decimal(value)


def _state(api: Api) -> dict[str, Any]:
    r = api.client.get("/api/capital/state", headers=api.headers(api.keys.read))
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, dict)
    return body


def _plan(api: Api) -> dict[str, Any]:
    for symbol, (bid, ask) in QUOTES.items():
        api.service.broker.set_book(symbol, [(bid, 10_000)], [(ask, 10_000)])
    api.service.broker.fill("AAPL", "BUY", 20, PRICES["AAPL"], fee_rate=0, fill_id="held",
                            now=api.clock())
    r = api.client.post("/api/orders/plan", headers=api.headers(), json={"targets": [
        {"symbol": s, "target_weight": w} for s, w in TARGETS.items()]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, dict)
    return body


def test_a_plan_answers_money_only_as_decimal_strings(api: Api) -> None:
    body = _plan(api)
    assert sorted(set(_numbers(body)) - NUMBER_PATHS) == []
    assert set(body["summary"]) == set(SUMMARY_MONEY)
    for key in SUMMARY_MONEY:
        assert isinstance(body["summary"][key], str), (key, body["summary"])
    assert [line["phase"] for line in body["lines"]] == ["A", "B"]  # a reducer, an opener
    for line in body["lines"]:
        for key in LINE_MONEY:
            assert isinstance(line[key], str), (key, line)
        for key in DECISION_MONEY:
            assert isinstance(line["decision"][key], str), (key, line["decision"])
    PlanOut.model_validate(body)


def test_the_summary_is_the_account_s_free_balance_moved_by_the_lines(api: Api) -> None:
    body = _plan(api)
    state = _state(api)  # read after the plan: the paper account fills nothing by itself
    summary = {k: _dec(v) for k, v in body["summary"].items()}
    assert summary["available_before"] == Decimal(state["available_balance"])
    approved = [line["decision"] for line in body["lines"]
                if line["decision"]["action"] in ("ENTER", "CAUTION")
                and Decimal(line["decision"]["quantity"]) > 0]
    freed = sum((Decimal(d["notional"]) / Decimal(d["leverage"]) for d in approved
                 if d["intent"] == "REDUCE"), Decimal(0))
    spent = sum((Decimal(d["margin_required"]) for d in approved if d["intent"] == "OPEN"),
                Decimal(0))
    assert freed > 0, body["lines"]
    assert spent > 0, body["lines"]
    assert summary["freed_margin"] == freed
    assert summary["available_after"] == summary["available_before"] + freed - spent


def test_a_line_s_figures_are_exact_decimals(api: Api) -> None:
    body = _plan(api)
    equity = Decimal(_state(api)["equity"])
    factor = RiskConfig.preset("default").position_sizing.capital_utilization_factor
    for line in body["lines"]:
        weight = TARGETS[line["symbol"]]
        assert line["target_weight"] == weight
        assert _dec(line["intended_val"]) == \
            abs(Decimal(repr(weight))) * equity * Decimal(repr(factor))
        held = Decimal(20) if line["symbol"] == "AAPL" else Decimal(0)
        assert _dec(line["current_qty"]) == held
        d = line["decision"]
        assert _dec(d["price"]) == PRICES[line["symbol"]]
        assert _dec(d["notional"]) == _dec(d["quantity"]) * _dec(d["price"])


def test_a_line_s_risk_pct_is_a_percent_as_in_decisions(api: Api) -> None:
    body = _plan(api)
    equity = Decimal(_state(api)["equity"])
    lines, decisions = body["lines"], body["decisions"]
    assert [line["symbol"] for line in lines] == [d["symbol"] for d in decisions]
    for line, decision in zip(lines, decisions, strict=True):
        d = line["decision"]
        assert Decimal(d["notional"]) > 0, d
        assert d["risk_pct"] == pytest.approx(float(Decimal(d["notional"]) / equity * 100))
        # Nothing refused a hold here: the line's decision is the journaled one.
        assert d["risk_pct"] == decision["risk_pct"]
        assert (d["action"], d["quantity"], d["notional"]) == (
            decision["recommendation"], decision["quantity"], decision["position_size_usd"])


def test_the_plan_answer_is_typed_in_the_openapi_document(api: Api) -> None:
    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    plan = schemas["PlanOut"]["properties"]
    assert plan["summary"]["$ref"] == "#/components/schemas/PlanSummaryOut"
    assert plan["lines"]["items"] == {"$ref": "#/components/schemas/PlanLineOut"}
    line = schemas["PlanLineOut"]["properties"]
    assert line["decision"]["$ref"] == "#/components/schemas/PlanDecisionOut"
    money = {"PlanSummaryOut": SUMMARY_MONEY, "PlanLineOut": LINE_MONEY,
             "PlanDecisionOut": DECISION_MONEY}
    for name, fields in money.items():
        assert schemas[name]["additionalProperties"] is False
        for field in fields:
            assert schemas[name]["properties"][field]["type"] == "string", (name, field)
    for model in (PlanSummaryOut, PlanLineOut):
        undocumented = [k for k, f in model.model_fields.items() if not f.description]
        assert undocumented == [], model.__name__
    assert "percent" in (PlanDecisionOut.model_fields["risk_pct"].description or "")
    # The served body fits the models key for key.
    body = _plan(api)
    PlanSummaryOut.model_validate(body["summary"])
    for served in body["lines"]:
        PlanLineOut.model_validate(served)


def test_the_cli_prints_the_same_decimal_strings(tmp_path: Path) -> None:
    db = cli_db(tmp_path)
    path = tmp_path / "plan.yaml"
    path.write_text("targets:\n  - {symbol: MSFT, target_weight: 0.03}\n", encoding="utf-8")
    r = runner.invoke(app, ["plan", str(path), "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert sorted(set(_numbers(body)) - NUMBER_PATHS) == []
    PlanOut.model_validate(body)
    table = runner.invoke(app, ["plan", str(path), "--db", db])
    assert table.exit_code == 0, table.output
    (decision,) = body["decisions"]
    row = next(x for x in table.stdout.splitlines() if "MSFT" in x)
    assert decision["quantity"] in row
    assert decision["position_size_usd"] in row


def test_a_plan_answer_stored_with_numbers_replays_as_decimal_strings() -> None:
    # Answers stored for an Idempotency-Key by earlier versions carry JSON numbers.
    from riskdesk.api._responses import PlanSummaryOut

    old = {"available_before": 5000.5, "freed_margin": 0, "available_after": 4000.25}
    out = PlanSummaryOut.model_validate(old)
    assert (out.available_before, out.freed_margin, out.available_after) == (
        "5000.5", "0", "4000.25")
