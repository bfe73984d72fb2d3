"""Batches, reservations, the journal and reconciliation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from riskdesk.api._auth import ReadCaller, ServiceDep, TradeCaller
from riskdesk.api._capital import IdempotencyKey, answer_head, unscoped
from riskdesk.api._errors import (
    ERROR_RESPONSES,
    LocatedInvalidInputError,
    LocatedUnknownSymbolError,
)
from riskdesk.api._requests import PlanIn, ReconcileIn, Text
from riskdesk.api._responses import JournalOut, PlanOut, ReconcileOut, ReservationOut
from riskdesk.api._strict_json import StrictJSONRoute
from riskdesk.errors import ConflictError, InvalidInputError, UnknownSymbolError
from riskdesk.service import body_hash

router = APIRouter(tags=["orders"], responses=ERROR_RESPONSES,
                   route_class=StrictJSONRoute)

ReservationId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
#: The largest id a journal entry can have (a signed 64-bit integer, as the store keeps it).
MAX_ID = 2**63 - 1
#: How much of a refused body a message repeats.
_SHOWN_BYTES = 60


async def _no_body(request: Request) -> None:
    """Refuse a body on an endpoint that takes none (an empty JSON object is no body).

    A reservation is confirmed or released whole, for the notional and margin it reserved: a
    fill quantity or notional sent along (larger than reserved, say) would otherwise be
    answered 200 and ignored.
    """
    raw = await request.body()
    if not raw.strip():
        return
    try:
        if json.loads(raw) == {}:
            return
    except ValueError:
        pass
    text = raw.decode("utf-8", "replace").strip()
    shown = text if len(text) <= _SHOWN_BYTES else text[:_SHOWN_BYTES] + "..."
    raise LocatedInvalidInputError(InvalidInputError(
        "body", shown, "no body: a reservation is confirmed or released whole, for the "
        "notional it reserved (reserve again for another size)"), ["body"])


NoBody = Depends(_no_body)


@router.post("/api/orders/plan", response_model=PlanOut)
def plan(body: PlanIn, response: Response, service: ServiceDep, caller: TradeCaller,
         idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Plan a batch towards target positions in two phases.

    Every risk-reducing order first, then the openers sized against the capital the reducers free.
    Each order is decided and journaled.
    """
    symbols = [t.symbol for t in body.targets]
    if len(set(symbols)) != len(symbols):
        raise InvalidInputError("targets", symbols, "each symbol at most once")
    targets = {t.symbol: t.target_weight for t in body.targets}
    prices = {t.symbol: t.price for t in body.targets if t.price is not None}
    key = None if idempotency_key is None else f"{caller.key_id}:plan:{idempotency_key}"
    try:
        answer, replayed = service.plan(targets, prices, idempotency_key=key,
                                        digest=body_hash(body.model_dump(mode="json")),
                                        api_key_id=caller.key_id)
    except ConflictError as exc:
        translated = unscoped(exc, key, idempotency_key)
        if translated is exc:
            raise
        raise translated from exc
    except UnknownSymbolError as exc:
        # Name the target: brokers quote the symbol they do not know in their message.
        found = [i for i, s in enumerate(symbols) if repr(s) in str(exc)]
        loc: list[str | int] = ["body", "targets", found[0], "symbol"] if found \
            else ["body", "targets"]
        raise LocatedUnknownSymbolError(str(exc), loc) from exc
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer


@router.post("/api/reservations/{reservation_id}/confirm", response_model=ReservationOut,
             dependencies=[NoBody])
def confirm(reservation_id: ReservationId, service: ServiceDep,
            _: TradeCaller) -> dict[str, Any]:
    """The order was filled: the reservation's notional becomes a position."""
    return service.confirm_reservation(reservation_id)


@router.post("/api/reservations/{reservation_id}/release", response_model=ReservationOut,
             dependencies=[NoBody])
def release(reservation_id: ReservationId, service: ServiceDep,
            _: TradeCaller) -> dict[str, Any]:
    """The order was not sent or not filled: give the reserved notional back."""
    return service.release_reservation(reservation_id)


@router.get("/api/journal", response_model=JournalOut)
def journal(service: ServiceDep, _: ReadCaller,
            limit: Annotated[int, Query(ge=1, le=1000)] = 50,
            since: datetime | None = None,
            symbol: Annotated[str | None, Query(min_length=1, max_length=32),
                              Text] = None,
            before: Annotated[int | None, Query(ge=1, le=MAX_ID, description=(
                "Only entries with an id below this one: pass the previous page's "
                "``next_before`` to page back through the journal."))] = None,
            ) -> dict[str, Any]:
    """Journaled decisions, newest first, each with its full trail, and the next page's cursor."""
    if since is not None:
        if since.tzinfo is None:
            raise InvalidInputError("since", since.isoformat(), "a timestamp with a time zone")
        try:
            since = since.astimezone(UTC)
        except OverflowError:
            raise InvalidInputError("since", since.isoformat(),
                                    "a time within years 1 to 9999 in UTC") from None
    return service.journal(limit=limit, since=since, symbol=symbol, before=before)


@router.post("/api/reconcile", response_model=ReconcileOut)
def reconcile(service: ServiceDep, _: TradeCaller,
              body: Annotated[ReconcileIn, Body(default_factory=ReconcileIn)]
              ) -> dict[str, Any]:
    """Compare local and broker positions and orders; the report is stored.

    The body is optional: none (an empty one) reconciles with the ``report`` policy.
    """
    return service.reconcile(body.policy)


answer_head(router)
