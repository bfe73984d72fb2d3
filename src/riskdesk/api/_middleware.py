"""ASGI middleware: request ids, one JSON log line per request, Prometheus counters."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riskdesk._ids import new_id
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
