"""ASGI middleware: request ids, JSON log lines, Prometheus counters, the body size limit."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riskdesk._ids import new_id
from riskdesk.api._errors import body_too_large
from riskdesk.service import Metrics

log = logging.getLogger("riskdesk.http")

#: Methods counted under their own name; any other is counted as ``OTHER`` (a client may
#: send any token as a method: one series per token would grow without bound).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
                     "CONNECT"})


class RequestLogMiddleware:
    """Request ids, timing, counters and one JSON log line per request.

    The id comes from ``X-Request-ID`` or is generated, and is echoed in the response.
    Requests are counted by route template and status.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _series(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        """The request counter and latency histogram of one label set (looked up once)."""
        key = (method, route, status)
        series = self._children.get(key)
        if series is None:
            series = (self.metrics.requests.labels(method=method, route=route,
                                                   status=str(status)),
                      self.metrics.latency.labels(method=method, route=route))
            if len(self._children) < 4096:  # routes are templates: the set stays small
                self._children[key] = series
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or new_id()
        if len(request_id) > 128 or not request_id.isprintable():
            request_id = new_id()
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("ascii", "replace")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "<unmatched>"
            method = str(scope.get("method", ""))
            counter, latency = self._series(method if method in METHODS else "OTHER", route,
                                            status)
            counter.inc()
            latency.observe(elapsed)
            if self.access_log:
                extra: dict[str, Any] = {
                    "request_id": request_id, "method": method, "path": scope.get("path"),
                    "route": route, "status": status, "duration_ms": round(elapsed * 1e3, 3)}
                caller = scope["state"].get("caller")
                if caller is not None:
                    extra["key_name"] = caller.name
                log.info("%s %s %d", method, scope.get("path"), status, extra=extra)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class BodyLimitMiddleware:
    """Refuse a request body over ``limit`` bytes with 413 before any route sees the request.

    A ``Content-Length`` over the limit is refused unread. A body without one (chunked) is
    read here up to the limit, then handed on as read; one that grows past the limit is
    refused there. A declared length at or under the limit is passed on unread: the server
    delivers no more than it declares. The refusal is the API's JSON error
    (:func:`~riskdesk.api._errors.body_too_large`), and the request is labelled with the
    route its path and method lead to (``scope["route"]``, as the router sets it), so the
    request log counts it there. No route runs, not even one that never reads its body:
    nothing is written.

    Parameters
    ----------
    app
        The rest of the application.
    limit
        The largest body accepted, in bytes.
    routes
        Every route of the application, the included routers' own routes among them (a
        refused request is labelled with the first that matches it, as the router would
        pick it).
    """

    def __init__(self, app: ASGIApp, *, limit: int, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.limit = limit
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.limit:
                await self._refuse(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        pending: list[Message]
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: the app sees it
                pending = [{"type": "http.request", "body": b"".join(chunks),
                            "more_body": True}, message]
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                pending = [{"type": "http.request", "body": b"".join(chunks),
                            "more_body": False}]
                break

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _route_of(self.routes, scope)
        if route is not None:
            scope["route"] = route
        await body_too_large(self.limit)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``; ``None`` when it sends none (or one not a number)."""
    value = _header(scope, b"content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _route_of(routes: Sequence[BaseRoute], scope: Scope) -> BaseRoute | None:
    """The route the router would hand ``scope`` to.

    The first route matching the path and method, else the first matching the path only
    (which answers 405); ``None`` when no route matches (404).
    """
    partial: BaseRoute | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            found: BaseRoute = child.get("route", route)
            return found
        if match is Match.PARTIAL and partial is None:
            partial = child.get("route", route)
    return partial
