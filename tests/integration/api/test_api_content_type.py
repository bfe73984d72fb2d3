"""A JSON body sent without a JSON content type: a 422 on ``body`` that says so.

FastAPI reads a body as JSON only under ``application/json`` (or ``+json``); under any other
content type, or none, it hands the raw bytes to validation, which said "Input should be a
valid dictionary or object to extract fields from" about a body that is a valid object.
"""

from __future__ import annotations

import json

import pytest
from api_support import Api

REC = json.dumps({"symbol": "AAPL", "signal_score": 75})

CASES = [
    ("/api/capital/recommendation/position", "trade", REC),
    ("/api/orders/plan", "trade", json.dumps({"targets": [{"symbol": "AAPL",
                                                           "target_weight": 0.01}]})),
    ("/api/capital/position-size/kelly", "read",
     json.dumps({"win_rate": 0.58, "win_loss_ratio": 1.75})),
    ("/api/exits/plan", "read", json.dumps({"symbol": "AAPL", "side": "LONG",
                                            "quantity": "2"})),
    ("/api/admin/trading-state", "admin", json.dumps({"state": "halt", "note": "drill"})),
]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/octet-stream", None])
@pytest.mark.parametrize(("path", "scope", "body"), CASES)
def test_a_body_without_a_json_content_type_is_named_as_such(
        api: Api, path: str, scope: str, body: str, content_type: str | None) -> None:
    headers = api.headers(getattr(api.keys, scope))
    if content_type is not None:
        headers["Content-Type"] = content_type
    before = api.journal_count()
    state = api.service.store.load_desk_state()
    r = api.client.post(path, content=body.encode(), headers=headers)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body"]
    assert error["field"] == "body"
    assert error["type"] == "content_type"
    assert "application/json" in error["msg"]
    assert (content_type or "no Content-Type") in error["msg"]
    assert api.journal_count() == before
    assert api.service.store.load_desk_state() == state


def test_the_same_body_as_json_is_accepted(api: Api) -> None:
    r = api.client.post("/api/capital/recommendation/position", content=REC.encode(),
                        headers=api.headers(**{"Content-Type": "application/json"}))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("body", ["[1, 2]", '"AAPL"', "null"])
def test_a_json_body_that_is_not_an_object_keeps_its_message(api: Api, body: str) -> None:
    r = api.client.post("/api/capital/recommendation/position", content=body.encode(),
                        headers=api.headers(**{"Content-Type": "application/json"}))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body"]
    assert error["type"] == "model_attributes_type"
