"""The fast lane of ``POST /api/capital/recommendation/position``, the call made before every order.

A bot calls the recommendation endpoint before each order, so its cost per request is the
service's capacity. FastAPI's generic machinery (dependency solving, parameter extraction,
response validation) costs several times what deciding does. This ASGI middleware serves the
common request of that one route itself and hands every other request, unchanged, to the
FastAPI route, which stays the definition of the endpoint (its OpenAPI entry, its errors).

It takes a request only when it is sure to answer it exactly as the route would:

* ``POST`` to the path, a JSON content type, and an ``Idempotency-Key``, when one is sent,
  that the route accepts (1 to 200 characters): an idempotent call is decided and written as
  the others are, its key claimed in the same group-committed write, and a replayed answer
  carries ``Idempotent-Replayed: true``;
* an ``X-API-Key`` (or ``Authorization: Bearer``) of an active key whose scopes include
  ``trade`` (taken from the service's key cache, or verified in a worker thread as the route's
  dependency does);
* a body that parses (:func:`~riskdesk.api._strict_json.parse`, as the route's strict
  request does: no object names a key twice) and validates as
  :class:`~riskdesk.api._requests.RecommendationIn` (``model_validate`` on the parsed value,
  as FastAPI does).

Anything else (a missing, unknown or revoked key, a missing scope, a store that fails, a
body that does not parse or validate, another content type, an empty or too long
``Idempotency-Key``) goes to the route, which answers
401, 403, 503 or 422 with its usual body. The request body, already read, is replayed to
it. Errors raised while deciding (an unknown symbol, a missing price, a revoked key) are
answered by the app's own exception handlers, the same ones the route's errors reach (a key
reused with another body: 409).

A body over the size limit never reaches the lane: the body limit in front of it
(:class:`~riskdesk.api._middleware.BodyLimitMiddleware`) answers 413 for it, and reads a
chunked body whole (up to the limit) before handing it on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riskdesk.api import _capital
from riskdesk.api._auth import Caller
from riskdesk.api._capital import RECOMMENDATION_PATH, recommendation_answer
from riskdesk.api._json import json_bytes
from riskdesk.api._requests import RecommendationIn
from riskdesk.api._strict_json import parse

Handler = Callable[[Request, Exception], Awaitable[Any]]

_JSON_TYPES = (b"application/json",)
#: The lengths of an ``Idempotency-Key`` the route accepts (see ``_capital.IdempotencyKey``).
_KEY_LENGTHS = range(1, 201)


class FastRecommendation:
    """ASGI middleware serving the common recommendation request (see the module notes).

    Parameters
    ----------
    app
        The rest of the application (the FastAPI stack the route lives in).
    fastapi
        The FastAPI application: its service, its route (for metrics labels) and its
        exception handlers.
    """

    def __init__(self, app: ASGIApp, *, fastapi: FastAPI) -> None:
        self.app = app
        self.fastapi = fastapi
        self.route = _route(fastapi)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, or pass it on (see the module notes)."""
        if scope["type"] != "http" or scope["path"] != RECOMMENDATION_PATH \
                or scope["method"] != "POST" or scope.get("query_string"):
            # (a query string, which the route refuses, goes there too)
            await self.app(scope, receive, send)
            return
        # The first of each, as the route reads them.
        api_key = bearer = content_type = retry_key = None
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                api_key = value if api_key is None else api_key
            elif name == b"authorization":
                bearer = value if bearer is None else bearer
            elif name == b"content-type":
                content_type = value if content_type is None else content_type
            elif name == b"idempotency-key":
                retry_key = value if retry_key is None else retry_key
        key = api_key or _bearer_token(bearer)
        if key is None or content_type is None or not _is_json(content_type) or (
                retry_key is not None and len(retry_key) not in _KEY_LENGTHS):
            await self.app(scope, receive, send)
            return
        service = self.fastapi.state.service
        plaintext = key.decode("latin-1")
        stored = service.cached_api_key(plaintext)
        if stored is None:  # not verified recently: verified off the loop, as the route does
            try:
                stored = await run_in_threadpool(service.verify_api_key, plaintext)
            except Exception:  # noqa: BLE001 - the store failed: the route answers (503)
                stored = None
        if stored is None or not stored.allows("trade"):
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        if more is not None:  # disconnected, or an unexpected message: the route decides
            await self.app(scope, _replay(body, receive, more), send)
            return
        try:
            request = RecommendationIn.model_validate(parse(body))
        except Exception:  # noqa: BLE001 - not JSON, invalid, nested too deep: the route answers
            await self.app(scope, _replay(body, receive, None), send)
            return
        caller = Caller(key_id=stored.key_id, name=stored.name, scopes=stored.scopes)
        state = scope.setdefault("state", {})
        state["caller"] = caller
        scope["route"] = self.route
        try:
            answer, replayed = await recommendation_answer(
                service, request, caller,
                None if retry_key is None else retry_key.decode("latin-1"),
                state.get("request_id"))
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)
            return
        payload = json_bytes(answer)
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(payload)).encode("ascii"))]
        if replayed:
            headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _handler(self, exc: Exception) -> Handler | None:
        handlers: dict[Any, Any] = self.fastapi.exception_handlers
        for kind in type(exc).__mro__:
            if kind in handlers:
                handler: Handler = handlers[kind]
                return handler
        return None


def _route(app: FastAPI) -> Any:
    """The route object FastAPI's router puts in the scope for the recommendation path.

    It is the route as the capital router declares it (FastAPI's router puts that original
    route in the scope, whatever it builds around included routers); the request log and the
    metrics label requests with its path template.
    """
    for route in _capital.router.routes:
        if isinstance(route, APIRoute) and route.path == RECOMMENDATION_PATH \
                and "POST" in (route.methods or ()):
            return route
    raise LookupError(f"no route for POST {RECOMMENDATION_PATH} in {app.title}")


def _bearer_token(value: bytes | None) -> bytes | None:
    """The credentials of ``Authorization: Bearer ...``, read as the route reads them."""
    if value is None:
        return None
    scheme, _, token = value.partition(b" ")
    token = token.strip()
    return token if scheme.lower() == b"bearer" and token else None


def _is_json(value: bytes) -> bool:
    kind = value.split(b";", 1)[0].strip().lower()
    return kind in _JSON_TYPES or (kind.startswith(b"application/") and kind.endswith(b"+json"))


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, or what was read and the message that stopped the reading."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, receive: Receive, last: Message | None) -> Receive:
    """A ``receive`` that yields the body read already, then whatever the client sends."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    if last is not None:
        pending = [{"type": "http.request", "body": body, "more_body": True}, last]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
