"""A recommendation the desk refuses for a signal's value names the request's own field.

A stop on the winning side of the price is refused by the desk as ``signal.stop_price``;
the request has no ``signal`` object, so the 422 was located at ``body.signal.stop_price``.
It is ``body.stop_price``, with the fast lane and without it, and nothing is journaled.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import Api, Clock, Keys, TestClient, build_service

from riskdesk.api import create_app
from riskdesk.errors import InvalidInputError

URL = "/api/capital/recommendation/position"
MARKET = {"bid": "430.46", "ask": "430.48"}


@pytest.fixture(params=[True, False], ids=["fast-lane", "route-only"])
def lane_api(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Api]:
    clock = Clock()
    service = build_service(sqlite_url, clock)
    _, trade = service.store.create_api_key("bot", ["trade"])
    app = create_app(service, access_log=False, fast_lane=request.param)
    with TestClient(app) as client:
        yield Api(client, service, clock, Keys(trade, trade, trade, trade, ""))
    service.close()


@pytest.mark.parametrize(("side", "stop"), [("LONG", "500"), ("SHORT", "400")])
def test_a_stop_on_the_wrong_side_is_named_at_the_top_level(
        lane_api: Api, side: str, stop: str) -> None:
    before = lane_api.journal_count()
    r = lane_api.client.post(URL, json={"symbol": "AAPL", "side": side, "signal_score": 75,
                                        "stop_price": stop, "market": MARKET},
                             headers=lane_api.headers())
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "stop_price"]
    assert error["field"] == "body.stop_price"
    assert error["type"] == "invalid_input"
    assert error["msg"].startswith(f"stop_price: got {stop}, expected a stop on the losing side")
    assert lane_api.journal_count() == before


def test_the_same_request_with_a_stop_below_is_decided(lane_api: Api) -> None:
    r = lane_api.client.post(URL, json={"symbol": "AAPL", "signal_score": 75,
                                        "stop_price": "420", "market": MARKET},
                             headers=lane_api.headers())
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("desk", "request_name"),
                         [("signal.score", "signal_score"), ("signal.regime", "market_regime"),
                          ("signal.win_rate", "win_rate"), ("signal.stop_price", "stop_price")])
def test_each_signal_field_maps_to_the_request_s_name(desk: str, request_name: str) -> None:
    from riskdesk.api._capital import request_field

    named = request_field(InvalidInputError(desk, 1, "something"))
    assert named.field == request_name
    assert str(named) == f"{request_name}: got 1, expected something"


def test_other_fields_are_left_as_they_are() -> None:
    from riskdesk.api._capital import request_field

    exc = InvalidInputError("market.bid", 1, "<= market.ask (0.5)")
    assert request_field(exc) is exc
