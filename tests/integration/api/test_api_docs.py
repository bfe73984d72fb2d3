"""docs/api.md against the API: its JSON examples and the fields it names exist as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from api_support import Api

from riskdesk.api._exits import ExitPlanIn, ExitPlanOut
from riskdesk.api._requests import PlanTargetIn, RecommendationIn
from riskdesk.api._responses import RecommendationOut

DOC = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text(encoding="utf-8")


def _examples() -> list[dict[str, object]]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", DOC, re.S)]


def _example_with(key: str, value: object) -> dict[str, object]:
    found = [e for e in _examples() if e.get(key) == value]
    assert len(found) == 1, (key, value, found)
    return found[0]


def test_the_plan_targets_the_docs_name_are_the_request_s_fields() -> None:
    match = re.search(r"`targets: \[\{([^}]*)\}\]`", DOC)
    assert match is not None
    named = [name.strip().rstrip("?") for name in match.group(1).split(",")]
    assert set(named) <= set(PlanTargetIn.model_fields), named
    required = {n for n, f in PlanTargetIn.model_fields.items() if f.is_required()}
    assert required <= set(named)


def test_the_documented_recommendation_request_validates() -> None:
    example = _examples()[0]
    assert example["symbol"] == "AAPL"
    assert "signal_score" in example
    RecommendationIn.model_validate(example)


def test_the_documented_recommendation_answer_has_the_answer_s_fields() -> None:
    example = _example_with("recommendation", "ENTER")
    assert set(example) == set(RecommendationOut.model_fields)


def test_the_documented_exit_plan_request_and_answer_have_their_fields() -> None:
    [request] = [e for e in _examples() if "stop_price" in e and "recommendation" not in e]
    ExitPlanIn.model_validate(request)
    answer = _example_with("entry_source", "broker")
    assert set(answer) == set(ExitPlanOut.model_fields)


@pytest.mark.parametrize("body", [{"targets": [{"symbol": "AAPL", "target_weight": 0.01}]},
                                  {"targets": [{"symbol": "AAPL", "target_weight": 0.01,
                                                "price": "430.47"}]}])
def test_a_plan_with_the_documented_target_fields_is_answered(api: Api, body: object) -> None:
    r = api.client.post("/api/orders/plan", json=body, headers=api.headers())
    assert r.status_code == 200, r.text
    assert [d["symbol"] for d in r.json()["decisions"]] == ["AAPL"]
