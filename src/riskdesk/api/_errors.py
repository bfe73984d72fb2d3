"""How errors become HTTP answers.

422: the request is invalid (a field path says which part; a JSON object that names a key
twice is invalid too, located on that key); 409: the request conflicts with stored state, or
the state to decide on is missing or stale; 503: the broker or the database is unavailable
(the database's 503 carries ``Retry-After: 1``); 413: the body is over the size limit
(:func:`body_too_large`, answered before the request reaches a route). A 405's ``Allow``
names every method the path answers (:func:`allowed_methods`). Nothing is written for a
refused request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from riskdesk.api._responses import ErrorOut
from riskdesk.api._strict_json import DuplicateKeyError
from riskdesk.errors import (
    BrokerError,
    ComputationError,
    ConflictError,
    InvalidInputError,
    StateError,
    StoreUnavailableError,
    UnknownSymbolError,
)
from riskdesk.store import RevokedKeyError

log = logging.getLogger("riskdesk.http")

#: Seconds a client should wait before retrying a request refused for an unavailable database.
STORE_RETRY_AFTER_S = 1

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The HTTP request could not be read (for example "
                                            "the client went away in the middle of the body)."},
    401: {"model": ErrorOut, "description": "Missing, unknown or revoked API key."},
    403: {"model": ErrorOut, "description": "The key lacks the scope."},
    409: {"model": ErrorOut, "description": "Conflicts with stored state, or the state to "
                                            "decide on is missing or stale."},
    413: {"model": ErrorOut, "description": "The request body is over the size limit "
                                            "(``detail`` on ``body``, type "
                                            "``body_too_large``)."},
    422: {"model": ErrorOut, "description": "Invalid request; ``detail`` lists the fields."},
    503: {"model": ErrorOut, "description": "Broker or database unavailable.",
          "headers": {"Retry-After": {
              "description": "Seconds to wait before retrying; sent when the database is "
                             "unavailable.",
              "schema": {"type": "integer"}}}},
}


def _field_error(loc: list[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": loc, "field": ".".join(str(p) for p in loc), "msg": msg, "type": kind}


def body_too_large(limit: int) -> JSONResponse:
    """The 413 answer to a request whose body is over ``limit`` bytes."""
    return JSONResponse({"detail": [_field_error(
        ["body"], f"the request body is over the limit of {limit} bytes", "body_too_large")]},
        status_code=413)


#: The order of the methods in an ``Allow`` header (any other after them, by name).
_METHOD_ORDER = {name: rank for rank, name in enumerate(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))}


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """Every method that one of ``routes`` answers at the path of ``scope``.

    Starlette's 405 names the methods of the first route matching the path only: a ``GET``
    route's ``HEAD`` twin (:func:`riskdesk.api._capital.answer_head`) is a route of its own,
    so ``Allow`` left ``HEAD`` out.
    """
    methods: set[str] = set()
    for route in routes:
        served = getattr(route, "methods", None)
        if served and route.matches(scope)[0] is not Match.NONE:
            methods.update(served)
    return sorted(methods, key=lambda m: (_METHOD_ORDER.get(m, len(_METHOD_ORDER)), m))


def _count_bad_input(request: Request) -> None:
    request.app.state.service.metrics.bad_input.inc()


def _is_json_type(content_type: str) -> bool:
    """Whether FastAPI reads a body of ``content_type`` as JSON (``application/json``, +json)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/")
                                          and kind.endswith("+json"))


def _not_json(request: Request, errors: Sequence[Any]) -> dict[str, Any] | None:
    """The error for a body FastAPI did not read as JSON for its content type, if that is all.

    FastAPI parses a body as JSON only under a JSON content type; under another one, or
    none, it validates the raw bytes, and pydantic's answer ("Input should be a valid
    dictionary or object") is about a body that may well be a valid JSON object.
    """
    if len(errors) != 1:
        return None
    error = errors[0]
    if tuple(error.get("loc", ())) != ("body",) \
            or not isinstance(error.get("input"), bytes | bytearray):
        return None
    content_type = request.headers.get("content-type")
    if content_type and _is_json_type(content_type):
        return None
    sent = f"Content-Type {content_type}" if content_type else "no Content-Type"
    return _field_error(["body"], "the body must be JSON sent with Content-Type: "
                                  f"application/json; got {sent}", "content_type")


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    _count_bad_input(request)
    errors = exc.errors()
    content_type = _not_json(request, errors)
    if content_type is not None:
        return JSONResponse({"detail": [content_type]}, status_code=422)
    # The offending input is left out: it may be NaN, which JSON cannot carry.
    detail = [_field_error([p if isinstance(p, int) else str(p) for p in e["loc"]],
                           str(e["msg"]), str(e["type"])) for e in errors]
    return JSONResponse({"detail": detail}, status_code=422)


def _source(request: Request, name: str) -> str:
    """Where the request carries the field ``name``: ``path``, ``query`` or ``body``."""
    if name in request.path_params:
        return "path"
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is not None and any(name in (p.name, p.alias)
                                     for p in dependant.query_params):
        return "query"
    return "body"


#: One segment of an error's dotted field: a name, then any ``[index]`` or ``[key]`` after it.
_SEGMENT = re.compile(r"([^\[\]]*)((?:\[[^\[\]]*\])*)")


def _field_loc(field: str) -> list[str | int]:
    """``market.bids[0].price`` as ``["market", "bids", 0, "price"]``, as pydantic locates."""
    loc: list[str | int] = []
    for part in field.split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            loc.append(part)
            continue
        name, subscripts = match.groups()
        if name:
            loc.append(name)
        for key in re.findall(r"\[([^\[\]]*)\]", subscripts):
            loc.append(int(key) if key.isdigit() else key)
    return loc


def _shown(value: object) -> str:
    """A rejected value as the client wrote it: decimals as numbers, not ``Decimal('...')``."""
    return str(value) if isinstance(value, Decimal) else repr(value)


class LocatedInvalidInputError(InvalidInputError):
    """An invalid value reported about ``field`` whose place in the request is ``loc``.

    A setting of the configuration (``exits.stop_pct``) that cannot be applied to the
    request's values is not a field of the request: ``loc`` names the request's field to
    change, the message still names the setting.
    """

    def __init__(self, exc: InvalidInputError, loc: list[str | int]) -> None:
        super().__init__(exc.field, exc.value, exc.expected)
        self.loc = loc


async def _invalid_input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInputError)
    _count_bad_input(request)
    parts = _field_loc(exc.field)
    head = str(parts[0]) if parts else exc.field
    loc: list[str | int] = [_source(request, head), *parts]
    if isinstance(exc, LocatedInvalidInputError):
        loc = exc.loc
    msg = f"{exc.field}: got {_shown(exc.value)}, expected {exc.expected}"
    return JSONResponse({"detail": [_field_error(loc, msg, "invalid_input")]},
                        status_code=422)


#: What FastAPI answers (400) when reading a JSON body raised something other than a syntax
#: error: nesting deeper than the parser's recursion limit, an integer over Python's digit
#: limit, bytes that are not UTF-8.
_UNPARSEABLE = "There was an error parsing the body"


def _unparseable_reason(cause: BaseException) -> str:
    if isinstance(cause, RecursionError):
        return "JSON nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return "the body is not valid UTF-8"
    if "digits" in str(cause):
        return "a JSON integer with too many digits"
    return "the body could not be parsed as JSON"


async def _http(request: Request, exc: Exception) -> Any:
    """HTTP errors as FastAPI answers them, except an unreadable body and a 405's ``Allow``.

    A body that could not be parsed is a 422 on ``body``, as a JSON syntax error is, instead
    of FastAPI's bare 400; a JSON object that repeats a key is a 422 on the key. A 405 from a
    route allows every method the path answers (:func:`allowed_methods`), not only the
    route's own.
    """
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405 and getattr(request.scope.get("route"), "methods", None):
        routes = getattr(request.app.state, "routes", None) or request.app.routes
        allowed = allowed_methods(routes, request.scope)
        if allowed:
            exc = StarletteHTTPException(405, exc.detail,
                                         {**(exc.headers or {}), "Allow": ", ".join(allowed)})
    cause = exc.__cause__
    if exc.status_code == 400 and exc.detail == _UNPARSEABLE \
            and isinstance(cause, DuplicateKeyError):
        _count_bad_input(request)
        return JSONResponse({"detail": [_field_error(["body", *cause.loc], str(cause),
                                                     "json_duplicate_key")]},
                            status_code=422)
    if exc.status_code == 400 and exc.detail == _UNPARSEABLE \
            and isinstance(cause, RecursionError | ValueError):
        _count_bad_input(request)
        return JSONResponse({"detail": [_field_error(["body"], _unparseable_reason(cause),
                                                     "json_invalid")]}, status_code=422)
    return await http_exception_handler(request, exc)


class LocatedUnknownSymbolError(UnknownSymbolError):
    """An unknown symbol at a known place of the request (``loc``)."""

    def __init__(self, message: str, loc: list[str | int]) -> None:
        super().__init__(message)
        self.loc = loc


async def _unknown_symbol(request: Request, exc: Exception) -> JSONResponse:
    _count_bad_input(request)
    where: list[str | int] = ["path", "symbol"] if "symbol" in request.path_params \
        else ["body", "symbol"]
    if isinstance(exc, LocatedUnknownSymbolError):
        where = exc.loc
    return JSONResponse({"detail": [_field_error(where, f"unknown symbol: {exc}",
                                                 "unknown_symbol")]}, status_code=422)


async def _computation(request: Request, exc: Exception) -> JSONResponse:
    _count_bad_input(request)
    return JSONResponse({"detail": [_field_error(["body"], f"computation failed: {exc}",
                                                 "computation_failed")]}, status_code=422)


async def _revoked(request: Request, exc: Exception) -> JSONResponse:
    request.app.state.service.metrics.auth_failures.labels(reason="revoked").inc()
    return JSONResponse({"detail": "the API key is unknown or revoked"}, status_code=401,
                        headers={"WWW-Authenticate": 'Bearer realm="riskdesk"'})


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


async def _state(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": f"state unavailable: {exc}"}, status_code=409)


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StoreUnavailableError)
    request.app.state.service.metrics.store_unavailable.inc()
    log.warning("%s", exc, extra={"path": request.url.path})
    return JSONResponse({"detail": str(exc)}, status_code=503,
                        headers={"Retry-After": str(STORE_RETRY_AFTER_S)})


async def _broker(request: Request, exc: Exception) -> JSONResponse:
    log.warning("broker error: %s", exc, extra={"path": request.url.path})
    return JSONResponse({"detail": f"broker unavailable: {exc}"}, status_code=503)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app`` (most specific class first).

    A raised exception is answered by the handler of the first class of its MRO that has
    one: :class:`StoreUnavailableError` (503) by its own, not by :class:`StateError`'s (409).
    """
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(UnknownSymbolError, _unknown_symbol)
    app.add_exception_handler(InvalidInputError, _invalid_input)
    app.add_exception_handler(ComputationError, _computation)
    app.add_exception_handler(RevokedKeyError, _revoked)
    app.add_exception_handler(ConflictError, _conflict)
    app.add_exception_handler(StoreUnavailableError, _store_unavailable)
    app.add_exception_handler(StateError, _state)
    app.add_exception_handler(BrokerError, _broker)
