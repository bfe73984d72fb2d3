"""The budget held by pending orders, as ``GET /api/capital/state`` and the dashboard's feed
show it."""

from __future__ import annotations

from decimal import Decimal

from api_support import Api

URL = "/api/capital/recommendation/position"
QUOTE = {"bid": "430.46", "ask": "430.48"}
REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75, "market_regime": "TRENDING",
       "win_rate": 0.58, "market": QUOTE}
MSFT = {**REC, "symbol": "MSFT", "market": {"bid": "27.94", "ask": "27.96"}}


def _enter(api: Api, body: dict) -> dict:
    r = api.client.post(URL, json=body, headers=api.headers())
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["recommendation"] in ("ENTER", "CAUTION"), answer
    assert answer["reservation_id"]
    return answer


def _reserved(api: Api) -> dict:
    state = api.client.get("/api/capital/state", headers=api.headers(api.keys.read))
    assert state.status_code == 200, state.text
    analysis = api.client.get("/api/capital/analysis/complete",
                              headers=api.headers(api.keys.read))
    assert analysis.status_code == 200, analysis.text
    reserved = state.json()["reserved"]
    assert analysis.json()["capital_state"]["reserved"] == reserved
    return reserved


def _nothing(reserved: dict) -> bool:
    return reserved["count"] == 0 and Decimal(reserved["notional"]) == 0 \
        and Decimal(reserved["margin"]) == 0 and reserved["by_symbol"] == []


def test_nothing_is_reserved_before_any_decision(api: Api) -> None:
    assert _nothing(_reserved(api))


def test_approved_openers_show_their_notional_and_margin_as_reserved(api: Api) -> None:
    a = _enter(api, REC)
    b = _enter(api, REC)
    m = _enter(api, MSFT)
    reserved = _reserved(api)
    notional = [Decimal(d["position_size_usd"]) for d in (a, b, m)]
    margin = [Decimal(d["margin_required"]) for d in (a, b, m)]
    assert reserved["count"] == 3
    assert Decimal(reserved["notional"]) == sum(notional)
    assert Decimal(reserved["margin"]) == sum(margin)
    rows = {r["symbol"]: r for r in reserved["by_symbol"]}
    assert rows.keys() == {"AAPL", "MSFT"}
    assert rows["AAPL"]["count"] == 2
    assert Decimal(rows["AAPL"]["notional"]) == notional[0] + notional[1]
    assert rows["MSFT"]["count"] == 1
    assert Decimal(rows["MSFT"]["notional"]) == notional[2]
    # Largest first.
    assert [r["symbol"] for r in reserved["by_symbol"]] == \
        sorted(rows, key=lambda s: -Decimal(rows[s]["notional"]))
    # Money is sent as the API sends money: decimal strings.
    assert isinstance(reserved["notional"], str)
    assert isinstance(rows["AAPL"]["notional"], str)


def test_confirm_and_release_give_the_reserved_budget_back(api: Api) -> None:
    a = _enter(api, REC)
    b = _enter(api, MSFT)
    api.clock.advance(10)
    r = api.client.post(f"/api/reservations/{a['reservation_id']}/release",
                        headers=api.headers())
    assert r.status_code == 200, r.text
    reserved = _reserved(api)
    assert reserved["count"] == 1
    assert Decimal(reserved["notional"]) == Decimal(b["position_size_usd"])
    assert [row["symbol"] for row in reserved["by_symbol"]] == ["MSFT"]
    c = api.client.post(f"/api/reservations/{b['reservation_id']}/confirm",
                        headers=api.headers())
    assert c.status_code == 200, c.text
    # Filled: the account state read now includes the fill, so it is no longer pending.
    assert _nothing(_reserved(api))


def test_an_expired_reservation_is_not_counted(api: Api) -> None:
    ttl = api.service.reservation_ttl_seconds
    a = _enter(api, REC)
    api.clock.advance(ttl - 1)
    reserved = _reserved(api)
    assert reserved["count"] == 1
    assert Decimal(reserved["notional"]) == Decimal(a["position_size_usd"])
    api.clock.advance(1)  # expires_at is not in the future any more
    assert _nothing(_reserved(api))
    # Reading marked nothing: the reservation is still stored as active.
    assert [r.status for r in api.service.store.reservations()] == ["ACTIVE"]
