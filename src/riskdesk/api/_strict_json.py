"""JSON request bodies read strictly: an object that names a key twice is refused.

Python's ``json`` keeps the last value of a repeated key without a word; for a risk service
``{"side": "LONG", "side": "SHORT"}`` is an ambiguity to refuse, not to settle. Every route
that takes a JSON body is a :class:`StrictJSONRoute`, whose request parses the body with
:func:`loads`; the recommendation's fast lane parses with :func:`parse` and hands a body it
refuses to the route. The route answers 422 on the repeated key's location
(``["body", "market", "bid"]``), type ``json_duplicate_key`` (see :mod:`riskdesk.api._errors`).

The check costs one hook call per JSON object on every body (:func:`unique_keys`, through a
decoder built once); finding where the repeated key is takes a second parse, only for a body
already refused. A body that is not valid JSON besides (a syntax error, nesting too deep) is
refused for that, as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

Loc = tuple[str | int, ...]


class DuplicateKeyError(ValueError):
    """A JSON object names ``key`` twice; ``loc`` is the key's path from the body's root."""

    def __init__(self, key: str, loc: Loc = ()) -> None:
        super().__init__(f"duplicate key {json.dumps(key, ensure_ascii=False)}: "
                         "a JSON object may name each key once")
        self.key = key
        self.loc = loc or (key,)


def _repeated(pairs: list[tuple[str, Any]]) -> str:
    """The first key of ``pairs`` that appears a second time."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    raise LookupError("no key repeats")


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for :func:`json.loads`: the object, unless a key repeats.

    Raises
    ------
    DuplicateKeyError
        A key appears twice (its ``loc`` is only the key: :func:`loads` locates it).
    """
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise DuplicateKeyError(_repeated(pairs))
    return obj


#: ``json.loads(..., object_pairs_hook=unique_keys)`` builds a decoder per call; this one is
#: built once.
_DECODER = json.JSONDecoder(object_pairs_hook=unique_keys)


def parse(body: bytes) -> Any:
    """``body`` parsed as ``json.loads(body, object_pairs_hook=unique_keys)`` parses it.

    The bytes are decoded as :func:`json.loads` decodes them (UTF-8, -16 or -32, a UTF-8 BOM
    dropped), then parsed by a decoder built once.

    Raises
    ------
    DuplicateKeyError
        A key appears twice in an object (``loc`` is only the key; :func:`loads` locates it).
    json.JSONDecodeError, RecursionError, ValueError
        As :func:`json.loads` raises them.
    """
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


def loads(body: bytes) -> Any:
    """:func:`parse`, with the repeated key's full path in a :class:`DuplicateKeyError`.

    Raises
    ------
    DuplicateKeyError
        With the repeated key's path from the body's root in ``loc``.
    json.JSONDecodeError, RecursionError, ValueError
        As :func:`json.loads` raises them; a body that repeats a key and is not valid JSON
        besides raises these.
    """
    try:
        return parse(body)
    except DuplicateKeyError:
        pass
    raise _located(body)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its pairs, every value kept (a repeated key's first value too)."""


def _located(body: bytes) -> DuplicateKeyError:
    """The error for the first object of ``body`` that repeats a key, with its path.

    The objects are completed innermost first, as :func:`unique_keys` saw them: the first one
    to repeat a key is the one it refused. A second parse keeps every object as its pairs
    (so that an object given as a repeated key's first value stays in the document), then a
    walk from the root finds that one.
    """
    found: list[tuple[_Pairs, str]] = []

    def keep(pairs: list[tuple[str, Any]]) -> _Pairs:
        obj = _Pairs(pairs)
        if not found and len({key for key, _ in pairs}) != len(pairs):
            found.append((obj, _repeated(pairs)))
        return obj

    root = json.JSONDecoder(object_pairs_hook=keep).decode(
        body.decode(json.detect_encoding(body), "surrogatepass"))
    target, key = found[0]
    return DuplicateKeyError(key, (*_path(root, target), key))


def _path(root: Any, target: object) -> Loc:
    """The path from ``root`` to the value that is ``target`` (object keys, list indexes)."""
    parents: list[tuple[int, str | int]] = []  # per value visited: its parent's index, its key
    stack: list[tuple[Any, int, str | int]] = [(root, -1, "")]
    while stack:
        value, parent, step = stack.pop()
        here = len(parents)
        parents.append((parent, step))
        if value is target:
            path: list[str | int] = []
            while here > 0:
                here, step = parents[here]
                path.append(step)
            return tuple(reversed(path))
        if isinstance(value, _Pairs):
            stack.extend((item, here, key) for key, item in value)
        elif isinstance(value, list):
            stack.extend((item, here, index) for index, item in enumerate(value))
    raise LookupError("the object is not in the document")


class StrictJSONRequest(Request):
    """A request whose :meth:`json` refuses an object that repeats a key (:func:`loads`)."""

    async def json(self) -> Any:
        """The body parsed by :func:`loads` (once; later calls return the same value)."""
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route takes, its dependencies' included."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)


class StrictJSONRoute(APIRoute):
    """A route whose handler reads the request as a :class:`StrictJSONRequest`.

    FastAPI reads a JSON body with ``await request.json()``: a syntax error stays its 422
    ``json_invalid`` and an unreadable body its 400 (made a 422 by the app's handler), and a
    repeated key raises :class:`DuplicateKeyError`, which FastAPI wraps in its 400 and the
    app's handler answers as a 422 on the key.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, given the request as a :class:`StrictJSONRequest`.

        A query parameter the route does not take is refused (422 ``extra_forbidden`` on
        ``query.<name>``) before anything runs: ``?symbl=AAPL`` must not answer as if no
        filter had been asked for. So is one given twice (422 ``query_duplicate_parameter``):
        every parameter a route takes is one value, and which of two a client meant is not
        for the service to pick (as a repeated key in a JSON body).
        """
        handler = super().get_route_handler()
        known = _query_names(self.dependant)

        async def strict(request: Request) -> Response:
            if request.scope.get("query_string"):
                items = request.query_params.multi_items()
                unknown = [(k, v) for k, v in items if k not in known]
                if unknown:
                    raise RequestValidationError([
                        {"loc": ("query", k), "msg": "Extra inputs are not permitted",
                         "type": "extra_forbidden", "input": v} for k, v in unknown])
                seen: set[str] = set()
                repeated: dict[str, list[str]] = {}
                for k, v in items:
                    if k in seen:
                        repeated.setdefault(k, []).append(v)
                    seen.add(k)
                if repeated:
                    raise RequestValidationError([
                        {"loc": ("query", k), "msg": "given more than once",
                         "type": "query_duplicate_parameter", "input": vs}
                        for k, vs in repeated.items()])
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict
