"""What a refused request is told: the field as the request spells it, the value as it was sent.

Nothing in these messages is an internal representation (a numpy array, a ``Decimal(...)``,
a scoped idempotency key), and nothing is written for a refused request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from api_support import Api, TestClient

from riskdesk.api import create_app
from riskdesk.errors import InvalidInputError
from riskdesk.store import Store

URL = "/api/capital/recommendation/position"
BOOK = {"bids": [{"price": 430.46, "size": 900}], "asks": [{"price": 430.48, "size": 700}]}
REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75,
       "market": {"bid": "430.46", "ask": "430.48"}}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """These answers do not depend on the database: SQLite only."""
    return sqlite_url


@pytest.fixture
def route_only(api: Api) -> Iterator[TestClient]:
    """A second app on the same service, without the recommendation's fast lane."""
    with TestClient(create_app(api.service, access_log=False, fast_lane=False)) as client:
        yield client


def _detail(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    return detail


def _nothing_written(api: Api) -> None:
    assert api.journal_count() == 0
    assert not api.service.store.reservations(limit=10)


#: (case, path, raw body, the field refused, the value as sent)
TINY: list[tuple[str, str, str, str, str]] = [
    ("price with a book", URL,
     json.dumps({**REC, "market": {"price": "1E-999999", **BOOK}}),
     "body.market.price", "1E-999999"),
    ("price with bid and ask", URL,
     json.dumps({**REC, "market": {"price": "0.0000000000001", "bid": "430.46",
                                   "ask": "430.48"}}),
     "body.market.price", "0.0000000000001"),
    ("price as a number", URL,
     '{"symbol": "AAPL", "market": {"price": 1e-300, "bid": "430.46", "ask": "430.48"}}',
     "body.market.price", "1e-300"),
    ("bid", URL, json.dumps({**REC, "market": {"bid": "1E-20", "ask": "430.48"}}),
     "body.market.bid", "1E-20"),
    ("atr", URL, json.dumps({**REC, "market": {**REC["market"], "atr": "1E-13"}}),
     "body.market.atr", "1E-13"),
    ("stop", URL, json.dumps({**REC, "stop_price": "1E-999999"}),
     "body.stop_price", "1E-999999"),
    ("book level price", URL,
     json.dumps({**REC, "market": {**REC["market"],
                                   "bids": [{"price": "1E-999999", "size": 5}]}}),
     "body.market.bids.0.price", "1E-999999"),
    ("book level size", URL,
     json.dumps({**REC, "market": {**REC["market"],
                                   "asks": [{"price": "430.48", "size": 5},
                                            {"price": "430.49", "size": "1E-30"}]}}),
     "body.market.asks.1.size", "1E-30"),
    ("plan price", "/api/orders/plan",
     json.dumps({"targets": [{"symbol": "AAPL", "target_weight": 0.01,
                              "price": "1E-999999"}]}),
     "body.targets.0.price", "1E-999999"),
    ("kelly capital", "/api/capital/position-size/kelly",
     json.dumps({"win_rate": 0.6, "win_loss_ratio": 2.0, "capital": "1E-999999"}),
     "body.capital", "1E-999999"),
    ("risk-parity capital", "/api/capital/allocation/risk-parity",
     json.dumps({"volatilities": {"AAPL": 0.2}, "capital": "1E-999999"}),
     "body.capital", "1E-999999"),
    ("exit entry", "/api/exits/plan",
     json.dumps({"symbol": "AAPL", "side": "LONG", "quantity": "2", "entry": "1E-999999"}),
     "body.entry", "1E-999999"),
    ("exit quantity", "/api/exits/plan",
     json.dumps({"symbol": "AAPL", "side": "LONG", "quantity": "1E-999999",
                 "entry": "430.47"}),
     "body.quantity", "1E-999999"),
    ("exit atr", "/api/exits/plan",
     json.dumps({"symbol": "AAPL", "side": "LONG", "quantity": "2", "entry": "430.47",
                 "atr": "1E-13"}),
     "body.atr", "1E-13"),
]


@pytest.mark.parametrize(("case", "path", "raw", "field", "sent"), TINY,
                         ids=[t[0] for t in TINY])
def test_a_magnitude_below_a_trillionth_is_refused_on_its_own_field(
        api: Api, case: str, path: str, raw: str, field: str, sent: str) -> None:
    r = api.client.post(path, content=raw, headers=api.headers(**JSON))
    detail = _detail(r)
    assert [d["field"] for d in detail] == [field]
    assert sent in detail[0]["msg"]
    _nothing_written(api)


def test_the_fast_lane_and_the_route_refuse_a_tiny_price_alike(
        api: Api, route_only: TestClient) -> None:
    raw = json.dumps({**REC, "market": {"price": "1E-999999", **BOOK}})
    lane = api.client.post(URL, content=raw, headers=api.headers(**JSON))
    route = route_only.post(URL, content=raw, headers=api.headers(**JSON))
    assert [d["field"] for d in _detail(lane)] == ["body.market.price"]
    assert (route.status_code, route.json()) == (lane.status_code, lane.json())
    _nothing_written(api)


def test_zero_stays_an_amount_and_a_trillionth_a_price(api: Api) -> None:
    body = {**REC, "market": {**REC["market"], "atr": "0", "bids": [
        {"price": "430.46", "size": 0}, {"price": "0.000000000001", "size": "1E-12"}]}}
    r = api.client.post(URL, json=body, headers=api.headers())
    assert r.status_code == 200, r.text
    kelly = api.client.post("/api/capital/position-size/kelly", headers=api.headers(),
                            json={"win_rate": 0.6, "win_loss_ratio": 2.0, "capital": "0"})
    assert kelly.status_code == 200, kelly.text


@pytest.fixture
def raising(api: Api) -> Iterator[TestClient]:
    """The app with one more route, raising the library's error for a field it names."""
    app = create_app(api.service, access_log=False)

    @app.post("/raise/{field}")
    def raise_for(field: str) -> None:
        raise InvalidInputError(field, Decimal("-1.50"), "a number > 0")

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(("field", "loc"), [
    ("market.bids[0].price", ["body", "market", "bids", 0, "price"]),
    ("market.asks[12]", ["body", "market", "asks", 12]),
    ("positions[3].quantity", ["body", "positions", 3, "quantity"]),
    ("leverage[AAPL]", ["body", "leverage", "AAPL"]),
    ("market.price", ["body", "market", "price"]),
])
def test_a_library_error_on_a_list_item_is_located_as_pydantic_locates_one(
        api: Api, raising: TestClient, field: str, loc: list[str | int]) -> None:
    r = raising.post(f"/raise/{field}", headers=api.headers())
    detail = _detail(r)
    assert [d["loc"] for d in detail] == [loc]
    assert [d["field"] for d in detail] == [".".join(str(p) for p in loc)]


def test_a_library_error_shows_a_decimal_as_a_number(api: Api) -> None:
    r = api.client.post(URL, headers=api.headers(),
                        json={**REC, "market": {"bid": "440.5", "ask": "430.25"}})
    detail = _detail(r)
    assert [d["field"] for d in detail] == ["body.market.bid"]
    assert "Decimal" not in detail[0]["msg"]
    assert "440.5" in detail[0]["msg"]
    _nothing_written(api)


def test_risk_budgets_that_do_not_sum_to_one_are_shown_as_numbers(api: Api) -> None:
    r = api.client.post("/api/capital/allocation/risk-parity", headers=api.headers(),
                        json={"symbols": ["AAPL", "MSFT"], "covariance": [[0.04, 0.0],
                                                                         [0.0, 0.09]],
                              "budgets": [0.5, 0.625]})
    detail = _detail(r)
    assert [d["field"] for d in detail] == ["body.budgets"]
    assert "array" not in detail[0]["msg"]
    assert "[0.5, 0.625]" in detail[0]["msg"]


@pytest.mark.parametrize(("path", "first", "second"), [
    (URL, REC, {**REC, "signal_score": 70}),
    ("/api/orders/plan", {"targets": [{"symbol": "AAPL", "target_weight": 0.01}]},
     {"targets": [{"symbol": "AAPL", "target_weight": 0.02}]}),
], ids=["recommendation", "plan"])
def test_a_reused_idempotency_key_is_named_as_the_client_sent_it(
        api: Api, path: str, first: dict[str, Any], second: dict[str, Any]) -> None:
    headers = api.headers(**{"Idempotency-Key": "retry:7"})
    assert api.client.post(path, json=first, headers=headers).status_code == 200
    written = api.journal_count()
    r = api.client.post(path, json=second, headers=headers)
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert "'retry:7'" in detail
    key_id = api.service.verify_api_key(api.keys.trade).key_id
    assert key_id not in detail
    assert detail.count("retry:7") == 1
    assert api.journal_count() == written


#: Bodies that are JSON in form but that the parser cannot read.
UNREADABLE = [
    ("nested too deep", b"[" * 100_000 + b"]" * 100_000),
    ("an integer of 5000 digits", b'{"symbol": "AAPL", "signal_score": ' + b"9" * 5000 + b"}"),
    ("not UTF-8", b'{"symbol": "AAPL", "strategy": "\xff\xfe"}'),
]


@pytest.mark.parametrize(("case", "raw"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
@pytest.mark.parametrize("path", [URL, "/api/capital/position-size/kelly"])
def test_a_body_the_parser_cannot_read_is_a_422_on_the_body(
        api: Api, route_only: TestClient, case: str, raw: bytes, path: str) -> None:
    r = api.client.post(path, content=raw, headers=api.headers(**JSON))
    detail = _detail(r)
    assert [(d["loc"], d["type"]) for d in detail] == [(["body"], "json_invalid")]
    route = route_only.post(path, content=raw, headers=api.headers(**JSON))
    assert (route.status_code, route.json()) == (r.status_code, r.json())
    _nothing_written(api)


#: (case, path, raw body naming a key twice, where the key is)
DUPLICATES: list[tuple[str, str, str, list[str | int]]] = [
    ("side", URL, '{"symbol": "AAPL", "side": "LONG", "side": "SHORT"}', ["body", "side"]),
    ("the same value twice", URL, '{"symbol": "AAPL", "symbol": "AAPL"}', ["body", "symbol"]),
    ("an escaped spelling", URL, '{"symbol": "AAPL", "sym\\u0062ol": "MSFT"}',
     ["body", "symbol"]),
    ("market bid", URL,
     '{"symbol": "AAPL", "market": {"bid": "430.46", "ask": "430.48", "bid": "430.40"}}',
     ["body", "market", "bid"]),
    ("book level size", URL,
     '{"symbol": "AAPL", "market": {"bids": [{"price": 430.46, "size": 900}, '
     '{"price": 430.45, "size": 5, "size": 9}]}}', ["body", "market", "bids", 1, "size"]),
    ("weight", URL, '{"symbol": "AAPL", "weights": {"AAPL": 0.5, "MSFT": 0.5, "AAPL": 1.0}}',
     ["body", "weights", "AAPL"]),
    ("an object given twice", URL,
     '{"symbol": "AAPL", "market": {"bid": 1, "bid": 2}, "market": {}}',
     ["body", "market", "bid"]),
    ("the first of two", URL,
     '{"symbol": "AAPL", "market": {"bid": 1, "bid": 2}, "side": "LONG", "side": "SHORT"}',
     ["body", "market", "bid"]),
    ("kelly", "/api/capital/position-size/kelly",
     '{"win_rate": 0.6, "win_loss_ratio": 2.0, "win_rate": 0.9}', ["body", "win_rate"]),
    ("risk parity", "/api/capital/allocation/risk-parity",
     '{"volatilities": {"AAPL": 0.2, "MSFT": 0.3, "AAPL": 0.1}}',
     ["body", "volatilities", "AAPL"]),
    ("plan target", "/api/orders/plan",
     '{"targets": [{"symbol": "AAPL", "target_weight": 0.01, "target_weight": 0.5}]}',
     ["body", "targets", 0, "target_weight"]),
    ("exit plan", "/api/exits/plan",
     '{"symbol": "AAPL", "side": "LONG", "quantity": 1, "side": "SHORT"}', ["body", "side"]),
    ("reconcile", "/api/reconcile", '{"policy": "report", "policy": "adopt_remote"}',
     ["body", "policy"]),
    ("trading state", "/api/admin/trading-state",
     '{"state": "halt", "note": "x", "state": "resume"}', ["body", "state"]),
]


@pytest.mark.parametrize(("case", "path", "raw", "loc"), DUPLICATES,
                         ids=[d[0] for d in DUPLICATES])
def test_a_key_given_twice_is_refused_where_it_is_and_nothing_is_written(
        api: Api, route_only: TestClient, case: str, path: str, raw: str,
        loc: list[str | int]) -> None:
    state = api.service.store.load_desk_state()
    headers = api.headers(api.keys.admin, **JSON)
    r = api.client.post(path, content=raw, headers=headers)
    detail = _detail(r)
    assert [(d["loc"], d["field"], d["type"]) for d in detail] == [
        (loc, ".".join(str(p) for p in loc), "json_duplicate_key")]
    assert detail[0]["msg"].startswith(f'duplicate key "{loc[-1]}"'), detail
    route = route_only.post(path, content=raw, headers=headers)
    assert (route.status_code, route.json()) == (r.status_code, r.json())
    _nothing_written(api)
    assert api.service.store.load_desk_state() == state
    assert api.service.store.reconciliations() == []


def test_other_http_errors_keep_their_status_and_headers(api: Api) -> None:
    r = api.client.post(URL, json=REC, headers={"X-API-Key": "rdk_nope"})
    assert r.status_code == 401
    assert "WWW-Authenticate" in r.headers
    assert api.client.get("/api/no-such-thing").status_code == 404


def test_a_key_revoked_elsewhere_before_an_idempotent_decision_commits_is_a_401(
        api: Api, db_url: str) -> None:
    assert api.client.post(URL, json=REC, headers=api.headers()).status_code == 200  # cached
    written = api.journal_count()
    other = Store.open(db_url)  # another process's store: this one's key cache keeps the key
    try:
        other.revoke_api_key(api.service.verify_api_key(api.keys.trade).key_id)
    finally:
        other.close()
    r = api.client.post(URL, json=REC, headers=api.headers(**{"Idempotency-Key": "after"}))
    assert r.status_code == 401, r.text
    assert api.journal_count() == written
