"""A request body over the limit is refused with 413 before anything is parsed or written."""

from __future__ import annotations

import json

import pytest
from api_support import Api

from riskdesk.api.app import MAX_BODY_BYTES

URL = "/api/capital/recommendation/position"


@pytest.mark.parametrize("cached", [False, True])
def test_an_oversized_body_is_413_and_writes_nothing(api: Api, cached: bool) -> None:
    if cached:  # the key verified once: the request reaches the fast lane
        assert api.client.post(URL, json={"symbol": "AAPL"},
                               headers=api.headers()).status_code == 200
    before = len(api.service.store.journal(limit=1000))
    padding = "x" * (MAX_BODY_BYTES + 1)
    body = json.dumps({"symbol": "AAPL", "strategy": padding})
    r = api.client.post(URL, content=body.encode(),
                        headers=api.headers(**{"Content-Type": "application/json"}))
    assert r.status_code == 413, r.text
    assert len(api.service.store.journal(limit=1000)) == before
    # Just under the limit is read and validated (and refused for its 64-character strategy).
    near = json.dumps({"symbol": "AAPL", "strategy": "x" * (MAX_BODY_BYTES - 100)})
    r = api.client.post(URL, content=near.encode(),
                        headers=api.headers(**{"Content-Type": "application/json"}))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "body.strategy"
