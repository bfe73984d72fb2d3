"""Refusals name what the caller can fix: where to send a price, which field is wrong."""

from __future__ import annotations

from api_support import Api


def _detail(r: object) -> str:
    assert r.status_code in (409, 422), r.text  # type: ignore[attr-defined]
    return str(r.json())  # type: ignore[attr-defined]


def test_a_recommendation_is_told_to_send_market_price(api: Api) -> None:
    r = api.client.post("/api/capital/recommendation/position",
                        json={"symbol": "NOPRICE", "side": "LONG"},
                        headers=api.headers())
    assert "market.price" in _detail(r)


def test_a_plan_is_told_to_send_the_targets_price(api: Api) -> None:
    r = api.client.post("/api/orders/plan",
                        json={"targets": [{"symbol": "NOPRICE", "target_weight": 0.1}]},
                        headers=api.headers())
    detail = _detail(r)
    assert "target's price" in detail
    assert "market.price" not in detail


def test_the_leverage_view_says_it_takes_no_price(api: Api) -> None:
    r = api.client.get("/api/capital/leverage/optimal/NOPRICE",
                       headers=api.headers(api.keys.read))
    detail = _detail(r)
    assert "takes no price" in detail
    assert "market.price" not in detail


def test_a_crossed_book_is_blamed_on_the_levels_sent(api: Api) -> None:
    market = {"price": "430", "bids": [{"price": "431", "size": "5"}],
              "asks": [{"price": "430.5", "size": "5"}]}
    r = api.client.post("/api/capital/recommendation/position",
                        json={"symbol": "AAPL", "side": "LONG", "market": market},
                        headers=api.headers())
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["field"] == "body.market.bids.0.price", error
    assert "market.asks[0].price" in error["msg"]
    assert api.journal_count() == 0


def test_a_covariance_without_symbols_is_blamed_on_symbols(api: Api) -> None:
    r = api.client.post("/api/capital/allocation/risk-parity", json={"covariance": [[1]]},
                        headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["field"] == "body.symbols", error
    assert "covariance's rows" in error["msg"]


def test_decimal_text_outside_the_plain_grammar_is_refused(api: Api) -> None:
    for price in ("4_30", "\u0664\u0663\u0660", "430.47.1"):
        body = {"symbol": "AAPL", "side": "LONG", "market": {"price": price}}
        r = api.client.post("/api/capital/recommendation/position", json=body,
                            headers=api.headers())
        assert r.status_code == 422, (price, r.text)
        assert r.json()["detail"][0]["field"] == "body.market.price"
    assert api.journal_count() == 0
    ok = api.client.post("/api/capital/recommendation/position",
                         json={"symbol": "AAPL", "side": "LONG", "market": {"price": "430.47"}},
                         headers=api.headers())
    assert ok.status_code == 200, ok.text
