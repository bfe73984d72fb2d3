"""API-key authentication: ``X-API-Key`` or ``Authorization: Bearer``, scopes read < trade < admin.

Keys are stored hashed; the store compares digests in constant time. A key with a higher
scope may do what a lower one may: ``trade`` reads, ``admin`` trades and reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from riskdesk.service import Service

SCOPES = ("read", "trade", "admin")

_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="An API key (``riskdesk keys create``).")
_bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the key's id, its name and its scopes."""

    key_id: str
    name: str
    scopes: frozenset[str]


async def get_service(request: Request) -> Service:
    """The service the app was built with."""
    service: Service = request.app.state.service
    return service


def _unauthorized(service: Service, reason: str, detail: str) -> HTTPException:
    service.metrics.auth_failures.labels(reason=reason).inc()
    return HTTPException(status_code=401, detail=detail,
                         headers={"WWW-Authenticate": 'Bearer realm="riskdesk"'})


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency that admits a caller whose key carries ``scope`` (or a higher one).

    Parameters
    ----------
    scope
        ``"read"``, ``"trade"`` or ``"admin"``.

    Returns
    -------
    Callable
        The FastAPI dependency; it answers 401 for a missing, unknown or revoked key and 403
        for a key without the scope. It runs on the event loop: a key verified recently is
        taken from the service's cache, any other is checked in a worker thread.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def dependency(
        request: Request,
        service: Annotated[Service, Depends(get_service)],
        header_key: Annotated[str | None, Security(_header)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Caller:
        plaintext = header_key or (bearer.credentials if bearer is not None else None)
        if not plaintext:
            raise _unauthorized(service, "missing",
                                "an API key is required (X-API-Key or Authorization: Bearer)")
        key = service.cached_api_key(plaintext)
        if key is None:
            key = await run_in_threadpool(service.verify_api_key, plaintext)
        if key is None:
            raise _unauthorized(service, "unknown", "the API key is unknown or revoked")
        caller = Caller(key_id=key.key_id, name=key.name, scopes=key.scopes)
        if not key.allows(scope):
            service.metrics.auth_failures.labels(reason="scope").inc()
            raise HTTPException(status_code=403,
                                detail=f"the API key lacks the {scope!r} scope")
        request.state.caller = caller
        return caller

    return dependency


ReadCaller = Annotated[Caller, Depends(require("read"))]
TradeCaller = Annotated[Caller, Depends(require("trade"))]
AdminCaller = Annotated[Caller, Depends(require("admin"))]
ServiceDep = Annotated[Service, Depends(get_service)]
