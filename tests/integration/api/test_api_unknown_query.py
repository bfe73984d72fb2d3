"""A query parameter a route does not take is refused, not ignored."""

from __future__ import annotations

from api_support import Api

REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75}


def test_a_mistyped_filter_is_refused_naming_it(api: Api) -> None:
    r = api.client.get("/api/journal", params={"symbl": "AAPL"},
                       headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["detail"]] == ["query.symbl"]
    ok = api.client.get("/api/journal", params={"symbol": "AAPL", "limit": 5},
                        headers=api.headers(api.keys.read))
    assert ok.status_code == 200, ok.text


def test_every_unknown_parameter_is_named_and_head_agrees(api: Api) -> None:
    url = "/api/capital/history?hours=1&hour=2&x=3"
    r = api.client.get(url, headers=api.headers(api.keys.read))
    assert r.status_code == 422, r.text
    assert sorted(e["field"] for e in r.json()["detail"]) == ["query.hour", "query.x"]
    assert api.client.head(url, headers=api.headers(api.keys.read)).status_code == 422


def test_a_decision_with_a_query_string_is_refused_and_nothing_is_written(api: Api) -> None:
    r = api.client.post("/api/capital/recommendation/position?dry_run=1", json=REC,
                        headers=api.headers())
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "query.dry_run"
    assert api.journal_count() == 0
    assert api.client.post("/api/capital/recommendation/position", json=REC,
                           headers=api.headers()).status_code == 200


def test_a_repeated_parameter_is_refused_not_read_as_its_last_value(api: Api) -> None:
    # ?limit=1&limit=500 answered 500 entries: which one a client meant is not for us to pick
    for url, name in (("/api/journal?limit=1&limit=500", "limit"),
                      ("/api/capital/history?hours=1&hours=2", "hours"),
                      ("/api/journal?symbol=AAPL&limit=5&symbol=MSFT", "symbol")):
        r = api.client.get(url, headers=api.headers(api.keys.read))
        assert r.status_code == 422, (url, r.text)
        detail = r.json()["detail"]
        assert [e["field"] for e in detail] == [f"query.{name}"], detail
        assert detail[0]["type"] == "query_duplicate_parameter"
