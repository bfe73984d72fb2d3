"""Odd but plausible requests: every answer is JSON naming the field, nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from api_support import CASH, PRICES, Api, Clock, TestClient, markets

from riskdesk.api import create_app
from riskdesk.demo import paper_service
from riskdesk.domain import MarketRules

URL = "/api/capital/recommendation/position"
REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75,
       "market": {"bid": "430.46", "ask": "430.48"}}


def _fields(response: httpx.Response) -> list[str]:
    return [d["field"] for d in response.json()["detail"]]


@pytest.mark.parametrize("action", ["confirm", "release"])
def test_an_unknown_reservation_is_named_by_its_path_parameter(api: Api, action: str) -> None:
    r = api.client.post(f"/api/reservations/0123456789abcdef/{action}", headers=api.headers())
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["path", "reservation_id"]
    assert _fields(r) == ["path.reservation_id"]


def test_a_naive_since_is_named_as_a_query_parameter(api: Api) -> None:
    r = api.client.get("/api/journal", params={"since": "2024-03-04T14:30:30"},
                       headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", "since"]


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_since_that_leaves_the_calendar_in_utc_is_refused(api: Api, since: str) -> None:
    r = api.client.get("/api/journal", params={"since": since},
                       headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert _fields(r) == ["query.since"]


def test_a_nul_character_in_the_operator_note_is_refused_and_nothing_changes(api: Api) -> None:
    admin = api.headers(api.keys.admin)
    r = api.client.post("/api/admin/trading-state", headers=admin,
                        json={"state": "halt", "note": "maintenance\x00window"})
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body.note"]
    state = api.client.get("/api/capital/drawdown/status", headers=admin).json()
    assert state["trading_state"] == "ACTIVE"


@pytest.mark.parametrize("value", ['"yes"', "1", '"true"', '"on"', "0", '"false"'])
def test_reset_breaker_takes_only_a_json_boolean_and_nothing_changes(
        api: Api, value: str) -> None:
    before = api.service.store.load_desk_state()
    raw = '{"state": "halt", "note": "maintenance", "reset_breaker": ' + value + "}"
    r = api.client.post("/api/admin/trading-state", content=raw,
                        headers=api.headers(api.keys.admin, **{"Content-Type": "application/json"}))
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body.reset_breaker"]
    assert r.json()["detail"][0]["type"] == "bool_type"
    assert api.service.store.load_desk_state() == before


@pytest.mark.parametrize("value", ['"yes"', "1", '"true"', '"on"', "0", '"false"'])
def test_reduce_only_takes_only_a_json_boolean_and_nothing_is_journaled(
        api: Api, value: str) -> None:
    raw = '{"symbol": "AAPL", "side": "SELL", "reduce_only": ' + value + "}"
    r = api.client.post(URL, content=raw,
                        headers=api.headers(**{"Content-Type": "application/json"}))
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body.reduce_only"]
    assert r.json()["detail"][0]["type"] == "bool_type"
    assert api.journal_count() == 0
    assert not api.service.store.reservations(limit=10)


def test_a_nul_character_in_the_strategy_is_refused_and_nothing_is_journaled(api: Api) -> None:
    before = api.journal_count()
    r = api.client.post(URL, json={**REC, "strategy": "breakout\x00"}, headers=api.headers())
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body.strategy"]
    assert api.journal_count() == before
    assert not api.service.store.reservations(limit=10)


def test_a_nul_character_in_the_journal_symbol_filter_is_refused(api: Api) -> None:
    r = api.client.get("/api/journal", params={"symbol": "AAPL\x00"},
                       headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    assert _fields(r) == ["query.symbol"]


def test_a_plan_names_the_target_whose_symbol_is_unknown(api: Api) -> None:
    r = api.client.post("/api/orders/plan", headers=api.headers(),
                        json={"targets": [{"symbol": "AAPL", "target_weight": 0.05},
                                          {"symbol": "NOSUCH", "target_weight": 0.02}]})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "targets", 1, "symbol"]]
    assert detail[0]["type"] == "unknown_symbol"
    assert api.journal_count() == 0


def test_an_invalid_trading_state_is_named_by_the_state_field(api: Api) -> None:
    r = api.client.post("/api/admin/trading-state", headers=api.headers(api.keys.admin),
                        json={"state": "paused", "note": "x"})
    assert r.status_code == 422, r.text
    assert _fields(r) == ["body.state"]
    assert "halt" in r.json()["detail"][0]["msg"]
    assert "HALTED" in r.json()["detail"][0]["msg"]


def test_unknown_methods_do_not_add_metric_series(api: Api) -> None:
    for n in range(3):
        r = api.client.request(f"BREW{n}", "/api/capital/state")
        assert r.status_code == 405
        assert r.json() == {"detail": "Method Not Allowed"}
    text = api.client.get("/metrics").text
    assert "BREW" not in text
    assert 'method="OTHER",route="/api/capital/state",status="405"} 3.0' in text


SLASHED = "BTC/USDT:USDT"


@pytest.fixture
def exchange(sqlite_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A paper account that also lists a market named the way ccxt names them."""
    rules = {**markets(), SLASHED: MarketRules(symbol=SLASHED, step=Decimal("0.001"),
                                               tick=Decimal("0.1"), min_notional=Decimal(5))}
    service = paper_service(sqlite_url, {**PRICES, SLASHED: Decimal(60000)}, markets=rules,
                            starting_cash=CASH, clock=Clock())
    _, read = service.store.create_api_key("reader", ["read"])
    with TestClient(create_app(service, access_log=False)) as client:
        yield client, {"X-API-Key": read}
    service.close()


def test_leverage_of_a_symbol_with_a_slash(
        exchange: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = exchange
    base = "/api/capital/leverage/optimal/"
    r = client.get(base + "BTC%2FUSDT%3AUSDT", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["symbol"] == SLASHED
    unknown = client.get(base + "ETH%2FUSDT", headers=headers)
    assert unknown.status_code == 422, unknown.text
    assert _fields(unknown) == ["path.symbol"]
    assert unknown.json()["detail"][0]["type"] == "unknown_symbol"
    bad = client.get(base + "BTC%2F%20USDT", headers=headers)
    assert bad.status_code == 422, bad.text
    assert _fields(bad) == ["path.symbol"]


@pytest.mark.parametrize("sent", ["%0ABTC", "BTC%0A", "BTC%0D%0AUSDT", "%0A%F3%BF%B1%81%C2%B11"])
def test_a_symbol_with_a_line_break_is_refused_as_a_symbol(
        exchange: tuple[TestClient, dict[str, str]], sent: str) -> None:
    client, headers = exchange
    r = client.get("/api/capital/leverage/optimal/" + sent, headers=headers)
    assert r.status_code == 422, r.text  # a bad symbol, not a route that does not exist
    assert _fields(r) == ["path.symbol"]


@pytest.mark.parametrize("path", ["/api/capital/history", "/api/capital/analysis/complete"])
@pytest.mark.parametrize("hours", ["nan", "inf", "-inf"])
def test_hours_that_are_not_finite_are_refused_as_such(api: Api, path: str, hours: str) -> None:
    r = api.client.get(path, params={"hours": hours}, headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert [d["field"] for d in detail] == ["query.hours"]
    assert detail[0]["type"] == "finite_number"
