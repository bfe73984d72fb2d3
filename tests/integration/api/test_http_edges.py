"""HTTP edges: an oversized body, 405's ``Allow``, ``HEAD /`` and reconcile without a body.

* A body over :data:`~riskdesk.api.app.MAX_BODY_BYTES` is a 413 in the API's JSON error shape
  (``loc`` ``["body"]``, ``type`` ``body_too_large``, the limit in ``msg``) with the request's
  ``X-Request-ID``, logged and counted as a 413 on the route it was sent to, whether the
  recommendation's fast lane or a FastAPI route would have served it, whether the body
  declares its length or arrives in chunks. Nothing is written for it, not even by a route
  that never reads its body.
* A 405's ``Allow`` lists every method the path answers, ``HEAD`` included where ``GET`` is.
* ``HEAD /`` answers as ``GET /`` (the dashboard) without the body.
* ``POST /api/reconcile`` without a body reconciles with the default policy; a body that is
  sent is validated as before.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from api_support import Api, Clock, TestClient, build_service

from riskdesk.api import create_app
from riskdesk.api.app import MAX_BODY_BYTES
from riskdesk.api.openapi import openapi_document
from riskdesk.service import JsonFormatter

REC_URL = "/api/capital/recommendation/position"
REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75,
       "market": {"bid": "430.46", "ask": "430.48"}}


@pytest.fixture(params=["fast lane", "routes only"])
def logged(api: Api, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """A client of an app on ``api``'s service that logs every request, with or without the
    recommendation's fast lane."""
    app = create_app(api.service, access_log=True, fast_lane=request.param == "fast lane")
    with TestClient(app) as client:
        yield client


def _oversized() -> bytes:
    return json.dumps({**REC, "strategy": "x" * MAX_BODY_BYTES}).encode()


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def _count(client: TestClient, method: str, route: str, status: int) -> float:
    text = client.get("/metrics").text
    pattern = (rf'^riskdesk_http_requests_total\{{method="{method}",'
               rf'route="{re.escape(route)}",status="{status}"\}} (\S+)$')
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _log_lines(caplog: pytest.LogCaptureFixture, request_id: str) -> list[dict[str, Any]]:
    return [json.loads(JsonFormatter().format(r)) for r in caplog.records
            if getattr(r, "request_id", None) == request_id]


def _state(api: Api) -> tuple[Any, ...]:
    store = api.service.store
    return (api.journal_count(), store.load_desk_state(),
            [(r.reservation_id, r.status) for r in store.reservations(limit=100)])


# --------------------------------------------------------------------------------- 413
# The route template each request is counted under, and what it would write if it ran.
OVERSIZED = [
    ("POST", REC_URL, REC_URL),
    ("POST", "/api/reconcile", "/api/reconcile"),
    ("POST", "/api/orders/plan", "/api/orders/plan"),
    ("POST", "/api/reservations/{id}/confirm", "/api/reservations/{reservation_id}/confirm"),
    ("POST", "/api/reservations/{id}/release", "/api/reservations/{reservation_id}/release"),
    ("GET", "/api/capital/state", "/api/capital/state"),
    ("POST", "/no/such/path", "<unmatched>"),
]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("method", "path", "route"), OVERSIZED)
def test_an_oversized_body_is_a_json_413_counted_on_its_route_and_writes_nothing(
        api: Api, logged: TestClient, caplog: pytest.LogCaptureFixture, method: str,
        path: str, route: str, chunked: bool) -> None:
    # The key verified once: a recommendation reaches the fast lane where there is one. The
    # approved entry holds a reservation that a confirm or release would change.
    entry = logged.post(REC_URL, json=REC, headers=api.headers())
    assert entry.status_code == 200, entry.text
    path = path.replace("{id}", entry.json()["reservation_id"])
    before = _state(api)
    counted = _count(logged, method, route, 413)
    body = _oversized()
    headers = api.headers(api.keys.admin, **{"Content-Type": "application/json",
                                             "X-Request-ID": "too-big-1"})
    with caplog.at_level(logging.INFO, logger="riskdesk.http"):
        r = logged.request(method, path, headers=headers,
                           content=_chunks(body) if chunked else body)
    assert _state(api) == before
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-request-id"] == "too-big-1"
    [error] = r.json()["detail"]
    assert error["loc"] == ["body"]
    assert error["field"] == "body"
    assert error["type"] == "body_too_large"
    assert str(MAX_BODY_BYTES) in error["msg"]
    assert _count(logged, method, route, 413) == counted + 1
    [line] = _log_lines(caplog, "too-big-1")
    assert (line["status"], line["route"], line["method"]) == (413, route, method)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_at_the_limit_is_read_as_usual(api: Api, logged: TestClient,
                                              chunked: bool) -> None:
    body = json.dumps({**REC, "strategy": ""}).encode()
    body = body.replace(b'"strategy": ""',
                        b'"strategy": "' + b"x" * (MAX_BODY_BYTES - len(body)) + b'"')
    assert len(body) == MAX_BODY_BYTES
    r = logged.post(REC_URL, content=_chunks(body) if chunked else body,
                    headers=api.headers(**{"Content-Type": "application/json"}))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["detail"]] == ["body.strategy"]


def test_a_chunked_body_under_the_limit_reaches_the_route(api: Api, logged: TestClient) -> None:
    body = json.dumps(REC).encode()
    r = logged.post(REC_URL, content=_chunks(body, 7),
                    headers=api.headers(**{"Content-Type": "application/json"}))
    assert r.status_code == 200, r.text
    assert r.json()["recommendation"] == "ENTER"
    assert api.journal_count() == 1


@pytest.fixture
def live(sqlite_url: str) -> Iterator[tuple[str, str]]:
    """The app served by uvicorn on a free loopback port: its base URL and a trade key."""
    service = build_service(sqlite_url, Clock())
    _, trade = service.store.create_api_key("bot", ["trade"])
    service.record_capital()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(service, access_log=False),
                                           host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield base, trade
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        service.close()


def test_a_server_answers_an_oversized_body_with_the_json_413_and_keeps_serving(
        live: tuple[str, str]) -> None:
    base, key = live
    body = _oversized()
    headers = {"X-API-Key": key, "Content-Type": "application/json", "X-Request-ID": "wire-1"}
    with httpx.Client(base_url=base, timeout=10) as client:
        for content in (body, _chunks(body), body * 4):
            r = client.post(REC_URL, content=content, headers=headers)
            assert r.status_code == 413, r.text
            assert r.headers["x-request-id"] == "wire-1"
            assert r.json()["detail"][0]["type"] == "body_too_large"
            # The same client goes on being served (a kept or a fresh connection).
            assert client.get("/healthz").status_code == 200
        ok = client.post(REC_URL, content=_chunks(json.dumps(REC).encode(), 100),
                         headers=headers)
        assert ok.status_code == 200, ok.text


# --------------------------------------------------------------------------------- 405
def _allow(response: Any) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",")}


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/api/capital/state", {"GET", "HEAD"}),
    ("POST", "/api/capital/history", {"GET", "HEAD"}),
    ("PUT", "/api/capital/leverage/optimal/BTC/USDT:USDT", {"GET", "HEAD"}),
    ("PATCH", "/api/journal", {"GET", "HEAD"}),
    ("POST", "/healthz", {"GET", "HEAD"}),
    ("DELETE", "/metrics", {"GET", "HEAD"}),
    ("POST", "/", {"GET", "HEAD"}),
    ("GET", REC_URL, {"POST"}),
    ("HEAD", REC_URL, {"POST"}),
    ("GET", "/api/reconcile", {"POST"}),
    ("PUT", "/api/reservations/r1/confirm", {"POST"}),
    ("DELETE", "/api/admin/trading-state", {"GET", "HEAD", "POST"}),
    ("PUT", "/api/admin/trading-state", {"GET", "HEAD", "POST"}),
    ("POST", "/static/app.js", {"GET", "HEAD"}),
])
def test_a_405_allows_exactly_the_methods_the_path_answers(
        api: Api, method: str, path: str, allowed: set[str]) -> None:
    r = api.client.request(method, path, headers=api.headers(api.keys.admin))
    assert r.status_code == 405, r.text
    assert _allow(r) == allowed


def test_every_method_a_405_allows_is_answered(api: Api) -> None:
    """On every path of the app, each method in ``Allow`` gets something other than 405."""
    documented = [re.sub(r"\{[^}]*\}", "r1", path) for path in openapi_document()["paths"]]
    # The app's own pages, and the exits router, which the document leaves out.
    paths = [*documented, "/", "/docs", "/openapi.json", "/api/exits/plan"]
    assert "/api/capital/state" in paths
    headers = api.headers(api.keys.admin, **{"Content-Type": "application/json"})
    for path in paths:
        refused = api.client.request("DELETE", path, headers=headers)
        assert refused.status_code == 405, path
        allowed = _allow(refused)
        assert ("GET" in allowed) == ("HEAD" in allowed), (path, allowed)
        for method in allowed:
            r = api.client.request(method, path, headers=headers,
                                   content=b"{}" if method == "POST" else None)
            assert r.status_code != 405, (path, method)


# --------------------------------------------------------------------------------- HEAD /
def test_head_on_the_dashboard_answers_as_get_without_a_body(api: Api) -> None:
    get = api.client.get("/")
    head = api.client.head("/")
    assert get.status_code == 200
    assert head.status_code == 200, head.text
    assert head.content == b""
    for name in ("content-type", "content-length", "cache-control", "etag", "last-modified"):
        assert head.headers.get(name) == get.headers.get(name), name
    assert get.headers["content-type"].startswith("text/html")


# --------------------------------------------------------------------------------- reconcile
def test_reconcile_without_a_body_uses_the_report_policy(api: Api) -> None:
    api.service.broker.fill("AAPL", "BUY", 10, "430.47", fee_rate=0, fill_id="f1",
                            now=api.clock())
    bare = api.client.post("/api/reconcile", headers=api.headers())
    assert bare.status_code == 200, bare.text
    explicit = api.client.post("/api/reconcile", json={"policy": "report"},
                               headers=api.headers())
    assert explicit.status_code == 200, explicit.text
    # ``report`` leaves the book as it is: the unknown position is still unknown.
    assert bare.json()["clean"] is False
    assert explicit.json()["clean"] is False
    assert [f["kind"] for f in bare.json()["findings"]] == \
        [f["kind"] for f in explicit.json()["findings"]]


def test_reconcile_with_an_empty_json_body_uses_the_report_policy(api: Api) -> None:
    r = api.client.post("/api/reconcile", content=b"",
                        headers=api.headers(**{"Content-Type": "application/json"}))
    assert r.status_code == 200, r.text
    assert r.json()["clean"] is True


@pytest.mark.parametrize(("content", "content_type", "field", "kind"), [
    (b"null", "application/json", "body", "model_attributes_type"),
    (b"[]", "application/json", "body", "model_attributes_type"),
    (b'"report"', "application/json", "body", "model_attributes_type"),
    (b"{", "application/json", "body.1", "json_invalid"),
    (b'{"policy": "adopt_all"}', "application/json", "body.policy", "literal_error"),
    (b'{"policy": null}', "application/json", "body.policy", "literal_error"),
    (b'{"polcy": "report"}', "application/json", "body.polcy", "extra_forbidden"),
    (b"{}", "text/plain", "body", "content_type"),
    (b'{"policy": "report"}', None, "body", "content_type"),
])
def test_a_reconcile_body_that_is_sent_is_still_validated(
        api: Api, content: bytes, content_type: str | None, field: str, kind: str) -> None:
    api.service.broker.fill("AAPL", "BUY", 10, "430.47", fee_rate=0, fill_id="f1",
                            now=api.clock())
    headers = api.headers()
    if content_type is not None:
        headers["Content-Type"] = content_type
    r = api.client.post("/api/reconcile", content=content, headers=headers)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert (error["field"], error["type"]) == (field, kind)
