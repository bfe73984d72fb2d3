"""The recommendation route's fast lane answers exactly as the FastAPI route does.

Two apps on two identical services (same database kind, clock, keys and request sequence), one
with the fast lane and one without, get the same requests; their answers must match in status,
headers that matter and body (ids drawn at random aside). The fast lane must also really serve
the common request itself, and hand the others to the route.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_support import Clock, TestClient, build_service
from lane_support import fast_lane_handovers

from riskdesk.api import create_app
from riskdesk.service import Service
from riskdesk.store import Store

URL = "/api/capital/recommendation/position"
REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75, "market_regime": "TRENDING",
       "win_rate": 0.58, "market": {"bid": "430.46", "ask": "430.48"}}


@dataclass
class Side:
    client: TestClient
    service: Service
    keys: dict[str, str]
    downstream: list[str]


def _side(url: str, fast: bool, stack: ExitStack) -> Side:
    clock = Clock()
    service = build_service(url, clock)
    stack.callback(service.close)
    keys = {}
    for name, scope in (("read", "read"), ("trade", "trade"), ("admin", "admin"),
                        ("revoked", "trade")):
        key_id, keys[name] = service.store.create_api_key(name, [scope])
        if name == "revoked":
            revoked_id = key_id
    service.store.revoke_api_key(revoked_id)
    app = create_app(service, access_log=False, fast_lane=fast)
    client = stack.enter_context(TestClient(app))
    downstream: list[str] = fast_lane_handovers(app) if fast else []
    return Side(client, service, keys, downstream)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Side, Side]]:
    """A fast-lane app and a route-only app, each on its own SQLite database."""
    with ExitStack() as stack:
        yield (_side(f"sqlite:///{tmp_path / 'fast.db'}", True, stack),
               _side(f"sqlite:///{tmp_path / 'route.db'}", False, stack))


@pytest.fixture
def fast(db_url: str) -> Iterator[Side]:
    """A fast-lane app on each database."""
    with ExitStack() as stack:
        yield _side(db_url, True, stack)


def _comparable(response: Any) -> tuple[int, Any, str | None, str | None]:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict) and body.get("reservation_id") is not None:
        body["reservation_id"] = "(random)"
    return (response.status_code, body, response.headers.get("content-type"),
            response.headers.get("www-authenticate"))


#: (case, key name or None, extra headers, raw body)
CASES: list[tuple[str, str | None, dict[str, str], str]] = [
    ("plain", "trade", {}, json.dumps(REC)),
    ("admin key", "admin", {}, json.dumps(REC)),
    ("bearer", "bearer:trade", {}, json.dumps(REC)),
    ("short", "trade", {}, json.dumps({**REC, "side": "SHORT"})),
    ("no market data", "trade", {}, json.dumps({"symbol": "MSFT"})),
    ("weights", "trade", {}, json.dumps({**REC, "weights": {"AAPL": 0.5, "MSFT": 0.5}})),
    ("reducer", "trade", {}, json.dumps({**REC, "side": "SELL", "reduce_only": True})),
    ("charset", "trade", {"Content-Type": "application/json; charset=utf-8"},
     json.dumps(REC)),
    ("vendor json", "trade", {"Content-Type": "application/vnd.bot+json"}, json.dumps(REC)),
    ("text body", "trade", {"Content-Type": "text/plain"}, json.dumps(REC)),
    ("no key", None, {}, json.dumps(REC)),
    ("unknown key", "nope", {}, json.dumps(REC)),
    ("read key", "read", {}, json.dumps(REC)),
    ("revoked key", "revoked", {}, json.dumps(REC)),
    ("bad json", "trade", {}, '{"symbol": '),
    ("empty body", "trade", {}, ""),
    ("nan", "trade", {}, '{"symbol": "AAPL", "market": {"price": NaN}}'),
    ("unknown key in body", "trade", {}, '{"symbol": "AAPL", "leverage": 3}'),
    ("score as text", "trade", {}, '{"symbol": "AAPL", "signal_score": "75"}'),
    ("unknown symbol", "trade", {}, '{"symbol": "DOGE"}'),
    ("no price", "trade", {}, '{"symbol": "NOPRICE"}'),
    ("bid above ask", "trade", {}, '{"symbol": "AAPL", "market": {"bid": 10, "ask": 9}}'),
    ("price with an underscore", "trade", {}, '{"symbol": "AAPL", "market": {"price": "4_30"}}'),
    ("crossed book levels", "trade", {},
     '{"symbol": "AAPL", "market": {"bids": [{"price": "431", "size": "5"}], '
     '"asks": [{"price": "430.5", "size": "5"}]}}'),
    ("not an object", "trade", {}, "[1, 2]"),
    ("nested too deep", "trade", {}, "[" * 100_000 + "]" * 100_000),
    ("two content types", "trade", {"Content-Type": "text/plain",
                                    "content-type": "application/json"}, json.dumps(REC)),
    ("idempotent", "trade", {"Idempotency-Key": "k-1"}, json.dumps(REC)),
    ("idempotent replay", "trade", {"Idempotency-Key": "k-1"}, json.dumps(REC)),
    ("idempotent, other body", "trade", {"Idempotency-Key": "k-1"},
     json.dumps({**REC, "side": "SHORT"})),
    ("idempotent, other key", "trade", {"Idempotency-Key": "k-2"},
     json.dumps({**REC, "side": "SHORT"})),
    ("idempotent, other key replayed", "trade", {"Idempotency-Key": "k-2"},
     json.dumps({**REC, "side": "SHORT"})),
    ("idempotent, refused body", "trade", {"Idempotency-Key": "k-3"}, '{"symbol": "DOGE"}'),
    ("idempotent, refused body again", "trade", {"Idempotency-Key": "k-3"},
     '{"symbol": "NOPRICE"}'),
    ("idempotent, longest key", "trade", {"Idempotency-Key": "k" * 150}, json.dumps(REC)),
    ("idempotent, empty key", "trade", {"Idempotency-Key": ""}, json.dumps(REC)),
    ("idempotent, key too long", "trade", {"Idempotency-Key": "k" * 201}, json.dumps(REC)),
    ("idempotent, read key", "read", {"Idempotency-Key": "k-4"}, json.dumps(REC)),
    ("side given twice", "trade", {}, '{"symbol": "AAPL", "side": "LONG", "side": "SHORT"}'),
    ("bid given twice", "trade", {},
     '{"symbol": "AAPL", "market": {"bid": "430.46", "ask": "430.48", "bid": "430.40"}}'),
    ("book size given twice", "trade", {},
     '{"symbol": "AAPL", "market": {"bids": [{"price": 430.46, "size": 5, "size": 9}]}}'),
    ("weight given twice", "trade", {},
     '{"symbol": "AAPL", "weights": {"AAPL": 0.5, "AAPL": 1.0}}'),
    ("a key twice, then bad json", "trade", {},
     '{"symbol": "AAPL", "market": {"bid": 1, "bid": 2}, '),
    ("a key twice, nested too deep", "trade", {},
     '{"a": 1, "a": 2, "b": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("a key twice, unknown key", "trade", {}, '{"symbol": "AAPL", "leverage": 3, "leverage": 3}'),
    ("reduce_only as text", "trade", {},
     '{"symbol": "AAPL", "side": "SELL", "reduce_only": "yes"}'),
    ("reduce_only as a number", "trade", {},
     '{"symbol": "AAPL", "side": "SELL", "reduce_only": 1}'),
    ("reduce_only as quoted false", "trade", {}, '{"symbol": "AAPL", "reduce_only": "false"}'),
]


def _send(side: Side, key: str | None, extra: dict[str, str], raw: str) -> Any:
    headers = {"Content-Type": "application/json", **extra}
    if key is not None and key.startswith("bearer:"):
        headers["Authorization"] = f"Bearer {side.keys[key.split(':')[1]]}"
    elif key is not None:
        headers["X-API-Key"] = side.keys.get(key, key)
    return side.client.post(URL, content=raw.encode(), headers=headers)


def test_the_fast_lane_answers_every_case_as_the_route_does(
        pair: tuple[Side, Side]) -> None:
    fast, route = pair
    for side in (fast, route):  # keys verified once: later requests find them cached
        for name in ("trade", "admin", "read"):
            _send(side, name, {}, json.dumps({"symbol": "NOPRICE"}))
    for case, key, extra, raw in CASES:
        a, b = _send(fast, key, extra, raw), _send(route, key, extra, raw)
        assert _comparable(a) == _comparable(b), case
        assert a.headers.get("idempotent-replayed") == b.headers.get("idempotent-replayed")
    assert fast.service.store.journal(limit=1000) != []
    fast_rows = [(r["symbol"], r["action"], str(r["quantity"]))
                 for r in fast.service.store.journal(limit=1000)]
    route_rows = [(r["symbol"], r["action"], str(r["quantity"]))
                  for r in route.service.store.journal(limit=1000)]
    assert fast_rows == route_rows


def test_the_common_request_never_reaches_the_route(fast: Side) -> None:
    # A key not verified recently is verified by the lane itself (then cached).
    assert _send(fast, "trade", {}, json.dumps(REC)).status_code == 200
    assert fast.downstream == []
    for body in (REC, {**REC, "side": "SHORT"}, {"symbol": "MSFT"}):
        r = _send(fast, "trade", {}, json.dumps(body))
        assert r.status_code == 200, r.text
    assert _send(fast, "bearer:trade", {}, json.dumps(REC)).status_code == 200
    assert fast.downstream == []
    # Idempotent calls too: the first, its replay, and the key reused with another body.
    first = _send(fast, "trade", {"Idempotency-Key": "x"}, json.dumps(REC))
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    again = _send(fast, "trade", {"Idempotency-Key": "x"}, json.dumps(REC))
    assert (again.status_code, again.json()) == (200, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    other = _send(fast, "trade", {"Idempotency-Key": "x"}, json.dumps({**REC, "side": "SHORT"}))
    assert other.status_code == 409
    assert "'x'" in other.json()["detail"]
    assert fast.downstream == []
    # Errors raised while deciding are answered by the app's handlers, in the lane.
    r = _send(fast, "trade", {}, '{"symbol": "NOPRICE"}')
    assert r.status_code == 409
    assert "no price" in r.json()["detail"]
    assert fast.downstream == []
    # Everything else is handed over.
    for extra, raw in (({"Idempotency-Key": ""}, json.dumps(REC)),
                       ({"Idempotency-Key": "k" * 201}, json.dumps(REC)),
                       ({"Content-Type": "text/plain"}, json.dumps(REC)),
                       ({}, '{"symbol": "AAPL", "leverage": 3}'),
                       ({}, "{")):
        _send(fast, "trade", extra, raw)
    assert _send(fast, "read", {}, json.dumps(REC)).status_code == 403
    assert len(fast.downstream) == 6
    assert fast.client.get("/healthz").status_code == 200
    assert fast.downstream[-1] == "GET /healthz"


@pytest.mark.timeout(60)
def test_concurrent_retries_in_the_lane_make_one_decision_per_key(fast: Side) -> None:
    assert _send(fast, "trade", {}, json.dumps(REC)).status_code == 200  # the key is cached
    written = len(fast.service.store.journal(limit=1000))
    keys = [f"burst-{i}" for i in range(4)]

    def post(i: int) -> tuple[str, int, Any, str | None]:
        key = keys[i % len(keys)]
        r = _send(fast, "trade", {"Idempotency-Key": key}, json.dumps(REC))
        return key, r.status_code, r.json(), r.headers.get("idempotent-replayed")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(8 * len(keys))))
    assert {status for _, status, _, _ in results} == {200}
    for key in keys:
        answers = [(body, replayed) for k, _, body, replayed in results if k == key]
        assert len({json.dumps(body, sort_keys=True) for body, _ in answers}) == 1
        assert sorted(str(replayed) for _, replayed in answers) == ["None"] + ["true"] * 7
    assert len(fast.service.store.journal(limit=1000)) == written + len(keys)
    assert fast.downstream == []


def test_a_key_given_twice_or_a_boolean_in_other_words_goes_to_the_route(fast: Side) -> None:
    assert _send(fast, "trade", {}, json.dumps(REC)).status_code == 200
    written = len(fast.service.store.journal(limit=1000))
    bodies = ['{"symbol": "AAPL", "side": "LONG", "side": "SHORT"}',
              '{"symbol": "AAPL", "market": {"bid": "430.46", "ask": "430.48", "bid": "1"}}',
              '{"symbol": "AAPL", "side": "SELL", "reduce_only": "yes"}',
              '{"symbol": "AAPL", "side": "SELL", "reduce_only": 1}']
    for raw in bodies:
        r = _send(fast, "trade", {}, raw)
        assert r.status_code == 422, (raw, r.text)
    assert fast.downstream == [f"POST {URL}"] * len(bodies)
    assert len(fast.service.store.journal(limit=1000)) == written


def test_requests_the_lane_serves_are_counted_under_the_route_template(fast: Side) -> None:
    for _ in range(3):
        assert _send(fast, "trade", {}, json.dumps(REC)).status_code == 200
    assert fast.downstream == []
    text = fast.client.get("/metrics").text
    served = [line for line in text.splitlines()
              if line.startswith("riskdesk_http_requests_total{") and 'status="200"' in line
              and 'method="POST"' in line]
    assert served == [f'riskdesk_http_requests_total{{method="POST",route="{URL}",'
                      'status="200"} 3.0'], served


def test_a_key_revoked_elsewhere_is_refused_once_not_cached(db_url: str) -> None:
    with ExitStack() as stack:
        side = _side(db_url, True, stack)
        side.service.key_cache_seconds = 0  # every request verifies its key
        assert _send(side, "trade", {}, json.dumps(REC)).status_code == 200
        assert side.downstream == []
        other = Store.open(db_url)  # another process: the service's store knows nothing of it
        stack.callback(other.close)
        key_id = next(k.key_id for k in other.list_api_keys() if k.name == "trade")
        other.revoke_api_key(key_id)
        r = _send(side, "trade", {}, json.dumps(REC))
        assert r.status_code == 401, r.text
        assert side.downstream == [f"POST {URL}"]


def test_a_body_in_several_chunks_and_a_disconnect(sqlite_url: str) -> None:
    with ExitStack() as stack:
        side = _side(sqlite_url, True, stack)
        key = side.keys["trade"]
        assert _send(side, "trade", {}, json.dumps(REC)).status_code == 200  # cache the key
        app = side.client.app
        raw = json.dumps(REC).encode()

        def call(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
            sent: list[dict[str, Any]] = []
            queue = list(messages)

            async def receive() -> dict[str, Any]:
                if queue:
                    return queue.pop(0)
                await asyncio.sleep(3600)
                raise AssertionError("unreachable")

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                     "method": "POST", "scheme": "http", "path": URL, "raw_path": URL.encode(),
                     "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
                     "server": ("testserver", 80),
                     "headers": [(b"host", b"testserver"),
                                 (b"content-type", b"application/json"),
                                 (b"x-api-key", key.encode())]}
            asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
            return sent

        before = len(side.service.store.journal(limit=1000))
        sent = call([{"type": "http.request", "body": raw[:10], "more_body": True},
                     {"type": "http.request", "body": raw[10:], "more_body": False}])
        start = next(m for m in sent if m["type"] == "http.response.start")
        assert start["status"] == 200
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        assert json.loads(body)["recommendation"] in ("ENTER", "CAUTION", "REJECT")
        assert len(side.service.store.journal(limit=1000)) == before + 1
        # A client that goes away mid-body: nothing is decided or written.
        call([{"type": "http.request", "body": raw[:10], "more_body": True},
              {"type": "http.disconnect"}])
        assert len(side.service.store.journal(limit=1000)) == before + 1
