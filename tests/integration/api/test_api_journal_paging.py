"""GET /api/journal pages back through the whole journal with ``before``."""

from __future__ import annotations

from api_support import Api

URL = "/api/journal"
REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75, "expected_return_pct": 3.5}


def test_pages_cover_every_entry_once_newest_first(api: Api) -> None:
    for _ in range(7):
        r = api.client.post("/api/capital/recommendation/position", json=REC,
                            headers=api.headers())
        assert r.status_code == 200, r.text
    everything = [e["id"] for e in api.client.get(
        URL, params={"limit": 100}, headers=api.headers(api.keys.read)).json()["entries"]]
    assert len(everything) == 7
    seen: list[int] = []
    params: dict[str, int] = {"limit": 3}
    sizes = []
    while True:
        page = api.client.get(URL, params=params, headers=api.headers(api.keys.read)).json()
        ids = [e["id"] for e in page["entries"]]
        sizes.append(len(ids))
        seen += ids
        if page["next_before"] is None:
            break
        assert page["next_before"] == ids[-1]
        params = {"limit": 3, "before": page["next_before"]}
    assert sizes == [3, 3, 1]
    assert seen == everything == sorted(everything, reverse=True)


def test_a_bad_cursor_is_refused_naming_it(api: Api) -> None:
    for bad in ("0", "-1", "x", "1.5"):
        r = api.client.get(URL, params={"before": bad}, headers=api.headers(api.keys.read))
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["detail"][0]["field"] == "query.before"
