from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
from api_support import Api

URL = "/api/capital/recommendation/position"
REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75,
       "market": {"bid": "430.46", "ask": "430.48"}}


def test_reservation_confirm_and_release(api: Api) -> None:
    a = api.client.post(URL, json=REC, headers=api.headers()).json()
    b = api.client.post(URL, json=REC, headers=api.headers()).json()
    assert a["reservation_id"]
    assert b["reservation_id"]
    c = api.client.post(f"/api/reservations/{a['reservation_id']}/confirm",
                        headers=api.headers())
    assert c.status_code == 200, c.text
    assert c.json()["status"] == "CONFIRMED"
    r = api.client.post(f"/api/reservations/{b['reservation_id']}/release",
                        headers=api.headers())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "RELEASED"
    unknown = api.client.post("/api/reservations/nope/confirm", headers=api.headers())
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["field"].startswith("body.reservation_id") or \
        "reservation" in unknown.json()["detail"][0]["msg"]


def test_reservations_stop_concurrent_overspending(api: Api) -> None:
    # Each approved order holds its notional; once the held notional reaches the exposure
    # budget, further orders are refused by the reservation, not silently oversold.
    seen = set()
    for _ in range(100):
        body = api.client.post(URL, json=REC, headers=api.headers()).json()
        seen.add(body["recommendation"])
        if body["recommendation"] == "REJECT":
            break
    assert "REJECT" in seen
    held = sum(Decimal(r.notional) for r in api.service.store.reservations(limit=1000)
               if r.status == "ACTIVE")
    assert held <= Decimal(100000) * Decimal("0.8")


def test_plan_puts_reducers_first_and_journals_each_line(api: Api) -> None:
    r = api.client.post("/api/orders/plan", headers=api.headers(),
                        json={"targets": [{"symbol": "AAPL", "target_weight": 0.05},
                                          {"symbol": "MSFT", "target_weight": 0.02,
                                           "price": "27.95"}]})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert {d["symbol"] for d in plan["decisions"]} == {"AAPL", "MSFT"}
    assert api.journal_count() == len(plan["decisions"])
    dup = api.client.post("/api/orders/plan", headers=api.headers(),
                          json={"targets": [{"symbol": "AAPL", "target_weight": 0.05},
                                            {"symbol": "AAPL", "target_weight": 0.01}]})
    assert dup.status_code == 422


def test_journal_filters(api: Api) -> None:
    api.client.post(URL, json=REC, headers=api.headers())
    api.clock.advance(60)
    api.client.post(URL, json={**REC, "symbol": "MSFT", "market": {"bid": 27.94, "ask": 27.96}},
                    headers=api.headers())
    rd = api.headers(api.keys.read)
    all_ = api.client.get("/api/journal", headers=rd).json()["entries"]
    assert [e["symbol"] for e in all_] == ["MSFT", "AAPL"]
    only = api.client.get("/api/journal?symbol=AAPL", headers=rd).json()["entries"]
    assert [e["symbol"] for e in only] == ["AAPL"]
    since = api.client.get("/api/journal", params={"since": "2024-03-04T14:30:30+00:00"},
                           headers=rd).json()["entries"]
    assert [e["symbol"] for e in since] == ["MSFT"]
    assert api.client.get("/api/journal?limit=1", headers=rd).json()["entries"][0]["id"] == \
        all_[0]["id"]
    naive = api.client.get("/api/journal", params={"since": "2024-03-04T14:30:30"}, headers=rd)
    assert naive.status_code == 422


def test_reconcile_reports_unknown_positions_until_adopted(api: Api) -> None:
    api.service.broker.fill("AAPL", "BUY", 10, "430.47", fee_rate=0, fill_id="f1",
                            now=api.clock())
    r = api.client.post("/api/reconcile", json={}, headers=api.headers())
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["clean"] is False
    assert any(f["kind"] == "UNKNOWN_POSITION" for f in report["findings"])
    adopted = api.client.post("/api/reconcile", json={"policy": "adopt_remote"},
                              headers=api.headers()).json()
    assert adopted["halt"] is False
    again = api.client.post("/api/reconcile", json={}, headers=api.headers()).json()
    assert again["clean"] is True


def test_exposure_appears_after_a_fill(api: Api) -> None:
    api.service.broker.fill("AAPL", "BUY", 10, "430.47", fee_rate=0, fill_id="f1",
                            now=api.clock())
    a = api.client.get("/api/capital/analysis/complete",
                       headers=api.headers(api.keys.read)).json()
    rows = a["exposure"]["by_symbol"]
    assert [(r["symbol"], Decimal(r["notional"])) for r in rows] == \
        [("AAPL", Decimal("4304.70"))]
    assert abs(rows[0]["pct_of_equity"] - 4.3047) < 1e-9
    tiers = {t["tier"]: Decimal(t["notional"]) for t in a["exposure"]["by_tier"]}
    assert sum(tiers.values()) == Decimal("4304.70")


def test_admin_trading_state_validation(api: Api) -> None:
    adm = api.headers(api.keys.admin)
    before = api.service.store.load_desk_state()
    for body in ({"state": "PAUSED", "note": "x"}, {"state": "halt"},
                 {"state": "halt", "note": ""},
                 {"state": "halt", "note": "x", "reset_breaker": "yes"},
                 {"state": "halt", "note": "x", "reset_breaker": 1},
                 {"state": "halt", "note": "x", "reset_breaker": "false"}):
        r = api.client.post("/api/admin/trading-state", json=body, headers=adm)
        assert r.status_code == 422, body
        assert api.service.store.load_desk_state() == before, body
    r = api.client.post("/api/admin/trading-state", json={"state": "reduce-only", "note": "x"},
                        headers=adm)
    assert r.json()["trading_state"] == "REDUCING"
    assert api.service.store.load_desk_state()["trading_state"] == "REDUCING"
    rec = api.client.post(URL, json=REC, headers=api.headers()).json()
    assert rec["recommendation"] == "REJECT"


def test_healthz_and_metrics(api: Api) -> None:
    h = api.client.get("/healthz")
    assert h.status_code == 200
    assert h.json()["status"] == "ok"
    api.client.post(URL, json=REC, headers=api.headers())
    text = api.client.get("/metrics").text
    assert 'riskdesk_decisions_total{action="ENTER"} 1.0' in text
    assert 'route="/api/capital/recommendation/position"' in text


def test_request_ids_and_json_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    from api_support import TestClient

    from riskdesk.api import create_app
    from riskdesk.service import JsonFormatter

    client = TestClient(create_app(api.service, access_log=True))
    with caplog.at_level(logging.INFO, logger="riskdesk.http"):
        r = client.get("/api/capital/state", headers={**api.headers(api.keys.read),
                                                      "X-Request-ID": "req-42"})
    assert r.headers["x-request-id"] == "req-42"
    records = [rec for rec in caplog.records if getattr(rec, "request_id", None) == "req-42"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["status"] == 200
    assert line["route"] == "/api/capital/state"
    assert line["key_name"] == "reader"
    assert line["duration_ms"] >= 0
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
