"""An exit plan the configuration cannot place at the entry names the request's ``entry``.

The default preset's 2 % stop on an entry of one tick rounds onto the entry itself. The
error came located at ``body.exits.stop_pct``, a path that is not in the request; the
setting stays named in the message.
"""

from __future__ import annotations

import pytest
from api_support import Api

URL = "/api/exits/plan"


@pytest.mark.parametrize("side", ["LONG", "SHORT"])
def test_a_configured_stop_that_cannot_be_placed_names_the_entry(api: Api, side: str) -> None:
    r = api.client.post(URL, json={"symbol": "AAPL", "side": side, "quantity": 1,
                                   "entry": "0.01"}, headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "entry"]
    assert error["field"] == "body.entry"
    assert error["type"] == "invalid_input"
    assert "exits.stop_pct" in error["msg"]


def test_the_broker_s_entry_is_named_as_the_entry_too(api: Api) -> None:
    api.service.broker.set_price("MSFT", "0.01")
    r = api.client.post(URL, json={"symbol": "MSFT", "side": "LONG", "quantity": 1},
                        headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["detail"]] == ["body.entry"]


def test_a_request_field_keeps_its_own_location(api: Api) -> None:
    r = api.client.post(URL, json={"symbol": "AAPL", "side": "LONG", "quantity": 1,
                                   "entry": "100", "stop_price": "101"},
                        headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["detail"]] == ["body.stop_price"]


def test_the_same_entry_with_an_explicit_stop_is_planned(api: Api) -> None:
    r = api.client.post(URL, json={"symbol": "AAPL", "side": "LONG", "quantity": 1,
                                   "entry": "0.05", "stop_price": "0.01"},
                        headers=api.headers(api.keys.read))
    assert r.status_code == 200, r.text
    assert r.json()["stop"] == "0.01"
