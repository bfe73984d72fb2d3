from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from api_support import PRICES, Api
from lane_support import fast_lane_handovers

URL = "/api/capital/recommendation/position"
# The paper broker quotes a last price but no book: the bot sends the quote it trades on.
QUOTE = {"bid": "430.46", "ask": "430.48"}
REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75, "expected_return_pct": 3.5,
       "market_regime": "TRENDING", "win_rate": 0.58, "market": QUOTE}


def test_recommendation_has_the_seed_fields_and_is_journaled(api: Api) -> None:
    r = api.client.post(URL, json=REC, headers=api.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    for name in ("recommendation", "optimal_leverage", "quantity", "position_size_usd",
                 "risk_pct", "execution_method", "reason", "adjustments"):
        assert name in body
    assert body["recommendation"] in ("ENTER", "CAUTION")
    qty, price = Decimal(body["quantity"]), Decimal(body["price"])
    assert qty > 0
    assert price == PRICES["AAPL"]
    assert Decimal(body["position_size_usd"]) == qty * price
    # 1% of 100,000 per trade under the default preset: never above it.
    assert Decimal(body["position_size_usd"]) <= Decimal(1000) * 15
    assert body["adjustments"]
    assert all({"step", "code", "before", "after", "note"}
                                       <= set(a) for a in body["adjustments"])
    assert body["reservation_id"]
    entries = api.client.get("/api/journal", headers=api.headers(api.keys.read)).json()
    assert [e["id"] for e in entries["entries"]] == [body["decision_id"]]
    assert entries["entries"][0]["action"] == body["recommendation"]
    assert r.headers.get("idempotent-replayed") is None


def test_market_data_in_the_request_is_used(api: Api) -> None:
    body = {**REC, "market": {"price": "431.00", "bid": "430.99", "ask": "431.01",
                              "atr": "6.5", "bids": [{"price": 430.99, "size": 5000}],
                              "asks": [{"price": 431.01, "size": 5000}]}}
    r = api.client.post(URL, json=body, headers=api.headers())
    assert r.status_code == 200, r.text
    assert Decimal(r.json()["price"]) == Decimal("431.00")


def test_no_price_anywhere_is_409_and_nothing_is_written(api: Api) -> None:
    r = api.client.post(URL, json={**REC, "symbol": "NOPRICE"}, headers=api.headers())
    assert r.status_code == 409
    assert "price" in r.json()["detail"]
    assert api.journal_count() == 0
    ok = api.client.post(URL, json={**REC, "symbol": "NOPRICE",
                                    "market": {"price": 12.5, "bid": 12.49, "ask": 12.51}},
                         headers=api.headers())
    assert ok.status_code == 200, ok.text


def test_serial_retry_returns_the_stored_answer(api: Api) -> None:
    h = api.headers(**{"Idempotency-Key": "order-1"})
    first = api.client.post(URL, json=REC, headers=h)
    api.clock.advance(5)
    again = api.client.post(URL, json=REC, headers=h)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert api.journal_count() == 1
    other = api.client.post(URL, json={**REC, "signal_score": 80}, headers=h)
    assert other.status_code == 409
    assert "different request body" in other.json()["detail"]
    assert api.journal_count() == 1


def test_idempotency_keys_are_per_api_key(api: Api) -> None:
    _, other = api.service.store.create_api_key("bot-2", ["trade"])
    a = api.client.post(URL, json=REC, headers=api.headers(**{"Idempotency-Key": "k"}))
    b = api.client.post(URL, json={**REC, "signal_score": 70},
                        headers=api.headers(other, **{"Idempotency-Key": "k"}))
    assert a.status_code == b.status_code == 200
    assert a.json()["decision_id"] != b.json()["decision_id"]


def test_concurrent_retries_make_exactly_one_decision(api: Api) -> None:
    assert api.client.post(URL, json=REC, headers=api.headers()).status_code == 200  # cached
    handed_over = fast_lane_handovers(api.client.app)
    h = api.headers(**{"Idempotency-Key": "burst"})

    def post(_: int) -> tuple[int, int, str | None]:
        r = api.client.post(URL, json=REC, headers=h)
        return r.status_code, r.json()["decision_id"], r.headers.get("idempotent-replayed")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(16)))
    assert {status for status, _, _ in results} == {200}
    assert len({decision for _, decision, _ in results}) == 1
    assert sorted(str(replayed) for _, _, replayed in results) == ["None"] + ["true"] * 15
    assert api.journal_count() == 2
    assert len(api.service.store.reservations()) == 2
    assert handed_over == []  # every retry was served by the fast lane


# A bad input, sent as raw JSON text so that NaN and Infinity reach the server as such.
BAD = [
    ("nan price", '{"symbol": "AAPL", "market": {"price": NaN}}', "body.market.price"),
    ("infinite score", '{"symbol": "AAPL", "signal_score": Infinity}', "body.signal_score"),
    ("negative price", '{"symbol": "AAPL", "market": {"price": -5}}', "body.market.price"),
    ("zero price", '{"symbol": "AAPL", "market": {"price": "0"}}', "body.market.price"),
    ("absurd price", '{"symbol": "AAPL", "market": {"price": 1e300}}', "body.market.price"),
    ("absurd atr", '{"symbol": "AAPL", "market": {"atr": "1e16"}}', "body.market.atr"),
    ("win rate above 1", '{"symbol": "AAPL", "win_rate": 1.5}', "body.win_rate"),
    ("score as text", '{"symbol": "AAPL", "signal_score": "75"}', "body.signal_score"),
    ("boolean score", '{"symbol": "AAPL", "signal_score": true}', "body.signal_score"),
    ("price as list", '{"symbol": "AAPL", "market": {"price": [1]}}', "body.market.price"),
    ("unknown regime", '{"symbol": "AAPL", "market_regime": "MOON"}', "body.market_regime"),
    ("unknown side", '{"symbol": "AAPL", "side": "UP"}', "body.side"),
    ("unknown key", '{"symbol": "AAPL", "leverage": 100}', "body.leverage"),
    ("missing symbol", '{"side": "LONG"}', "body.symbol"),
    ("unknown symbol", '{"symbol": "DOGE"}', "body.symbol"),
    ("bad symbol text", '{"symbol": "AA PL"}', "body.symbol"),
    ("bid above ask", '{"symbol": "AAPL", "market": {"bid": 10, "ask": 9}}', "body.market.bid"),
    ("negative book size",
     '{"symbol": "AAPL", "market": {"bids": [{"price": 1, "size": -1}]}}',
     "body.market.bids.0.size"),
    ("not an object", '[1, 2]', "body"),
    ("reduce_only as text", '{"symbol": "AAPL", "side": "SELL", "reduce_only": "yes"}',
     "body.reduce_only"),
    ("reduce_only as a number", '{"symbol": "AAPL", "side": "SELL", "reduce_only": 1}',
     "body.reduce_only"),
    ("reduce_only as quoted true", '{"symbol": "AAPL", "side": "SELL", "reduce_only": "true"}',
     "body.reduce_only"),
    ("reduce_only as zero", '{"symbol": "AAPL", "reduce_only": 0}', "body.reduce_only"),
    ("side given twice", '{"symbol": "AAPL", "side": "LONG", "side": "SHORT"}', "body.side"),
    ("market bid given twice",
     '{"symbol": "AAPL", "market": {"bid": "430.46", "ask": "430.48", "bid": "430.40"}}',
     "body.market.bid"),
]


def test_bad_input_is_422_with_the_field_and_writes_nothing(api: Api) -> None:
    state_before = api.service.store.load_desk_state()
    for case, raw, field in BAD:
        h = api.headers(**{"Content-Type": "application/json", "Idempotency-Key": f"bad-{case}"})
        r = api.client.post(URL, content=raw, headers=h)
        assert r.status_code == 422, (case, r.text)
        detail = r.json()["detail"]
        assert isinstance(detail, list), case
        assert any(d["field"] == field or d["field"].startswith(field + ".")
                   for d in detail), (case, detail)
        assert api.journal_count() == 0, case
        assert api.service.store.reservations() == [], case
        assert api.service.store.load_desk_state() == state_before, case
    # A refused request does not consume its idempotency key.
    ok = api.client.post(URL, json=REC, headers=api.headers(**{"Idempotency-Key":
                                                                 f"bad-{BAD[0][0]}"}))
    assert ok.status_code == 200, ok.text
    assert api.journal_count() == 1


def test_halt_rejects_openers_but_not_reducers(api: Api) -> None:
    r = api.client.post("/api/admin/trading-state", json={"state": "halt", "note": "test"},
                        headers=api.headers(api.keys.admin))
    assert r.status_code == 200, r.text
    assert r.json()["trading_state"] == "HALTED"
    assert r.json()["operator"] == "operator"
    rec = api.client.post(URL, json=REC, headers=api.headers()).json()
    assert rec["recommendation"] == "REJECT"
    assert "TRADING_HALTED" in rec["reasons"]
    assert Decimal(rec["quantity"]) == 0
    assert rec["reservation_id"] is None
    analysis = api.client.get("/api/capital/analysis/complete",
                              headers=api.headers(api.keys.read)).json()
    assert analysis["trading_state"] == "HALTED"
    resume = api.client.post("/api/admin/trading-state",
                             json={"state": "ACTIVE", "note": "back"},
                             headers=api.headers(api.keys.admin))
    assert resume.json()["trading_state"] == "ACTIVE"
    again = api.client.post(URL, json=REC, headers=api.headers()).json()
    assert again["recommendation"] in ("ENTER", "CAUTION")


def test_raw_json_body_round_trip_is_exact(api: Api) -> None:
    r = api.client.post(URL, content=json.dumps({**REC, "market": {"price": "430.47"}}),
                        headers=api.headers(**{"Content-Type": "application/json"}))
    assert r.status_code == 200
    assert r.json()["price"] == "430.47"


def test_allocation_weights_scale_the_size_and_a_missing_symbol_is_rejected(api: Api) -> None:
    plain = api.client.post(URL, json=REC, headers=api.headers())
    assert plain.status_code == 200, plain.text
    full = Decimal(plain.json()["quantity"])
    # four symbols, AAPL at a quarter of equal weight: x0.25 (RISK_PARITY)
    weights = {"AAPL": 0.0625, "MSFT": 0.3125, "IBM": 0.3125, "GOOG": 0.3125}
    r = api.client.post(URL, json={**REC, "weights": weights}, headers=api.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert "RISK_PARITY" in [a["code"] for a in body["adjustments"]]
    assert Decimal(body["quantity"]) <= full * Decimal("0.25")
    missing = api.client.post(URL, json={**REC, "weights": {"MSFT": 1.0}},
                              headers=api.headers())
    assert missing.status_code == 200, missing.text
    assert missing.json()["recommendation"] == "REJECT"
    assert "RISK_PARITY" in missing.json()["reasons"]
    bad = api.client.post(URL, json={**REC, "weights": {"AAPL": -0.5}}, headers=api.headers())
    assert bad.status_code == 422
    assert "weights" in bad.text
