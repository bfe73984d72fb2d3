"""Operator endpoints (admin scope) and the operational ones (health, metrics)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from riskdesk import __version__
from riskdesk.api._auth import AdminCaller, ReadCaller, ServiceDep
from riskdesk.api._capital import answer_head
from riskdesk.api._errors import ERROR_RESPONSES
from riskdesk.api._requests import TradingStateIn
from riskdesk.api._responses import HealthOut, OperatorStateOut, TradingStateOut
from riskdesk.api._strict_json import StrictJSONRoute
from riskdesk.errors import StateError
from riskdesk.service import CONTENT_TYPE

router = APIRouter(tags=["admin"], responses=ERROR_RESPONSES,
                   route_class=StrictJSONRoute)
ops = APIRouter(tags=["ops"])


@router.post("/api/admin/trading-state", response_model=TradingStateOut)
def set_trading_state(body: TradingStateIn, service: ServiceDep,
                      caller: AdminCaller) -> dict[str, Any]:
    """Halt (no new exposure), reduce-only, or resume.

    Risk-reducing orders always pass. ``reset_breaker`` also re-arms a tripped drawdown circuit
    breaker.
    """
    return service.set_trading_state(body.trading_state, operator=caller.name,
                                     note=body.note, reset_breaker=body.reset_breaker)


@router.get("/api/admin/trading-state", response_model=OperatorStateOut)
def operator_state(service: ServiceDep, _: ReadCaller,
                   changes: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
    """The trading state an operator set, with who, when and why, and the effective state.

    Read scope: whoever watches the desk may see why it is halted. The operator's part
    answers while the broker is down (the effective state is then null, with the reason).
    """
    return service.operator_state(changes=changes)


answer_head(router)


@ops.get("/healthz", response_model=HealthOut,
         responses={503: {"model": ERROR_RESPONSES[503]["model"],
                          "description": "The database is unreachable."}})
def healthz(service: ServiceDep) -> Any:
    """Liveness: the database answers. Needs no key."""
    try:
        return {**service.health(), "version": __version__}
    except StateError as exc:
        return JSONResponse({"detail": f"unhealthy: {exc}"}, status_code=503)


@ops.get("/metrics", response_class=Response,
         responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
                          "description": "Prometheus text exposition."}})
def metrics(service: ServiceDep) -> Response:
    """Prometheus metrics: requests, latency, decisions by action, replays, refusals.

    Also the account's risk state (equity, margin, drawdown, breaker, reserved budget, states),
    read at each scrape; left out, with ``riskdesk_account_up 0``, when it cannot be read.
    """
    return Response(service.metrics.render(), media_type=CONTENT_TYPE)


answer_head(ops)
