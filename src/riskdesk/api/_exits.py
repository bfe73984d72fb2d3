"""``/api/exits``: the bracket (stop and targets) to place with an approved entry."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from riskdesk.api._auth import ReadCaller, ServiceDep
from riskdesk.api._errors import ERROR_RESPONSES, LocatedInvalidInputError
from riskdesk.api._requests import MIN_MAGNITUDE, Price, SideWord, Symbol, not_tiny
from riskdesk.api._strict_json import StrictJSONRoute
from riskdesk.domain import MAX_MAGNITUDE
from riskdesk.errors import InvalidInputError

router = APIRouter(prefix="/api/exits", tags=["exits"], responses=ERROR_RESPONSES,
                   route_class=StrictJSONRoute)

Quantity = Annotated[Decimal, Field(gt=0, le=MAX_MAGNITUDE,
                                    description="A quantity in contracts or units, > 0."),
                     not_tiny(f"at least {MIN_MAGNITUDE}")]


class ExitPlanIn(BaseModel):
    """``POST /api/exits/plan``: the position to build the bracket for."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    symbol: Symbol
    side: SideWord = Field(description="LONG or SHORT (BUY and SELL accepted).")
    quantity: Quantity = Field(description="The position's quantity, e.g. the ENTER "
                                           "decision's quantity.")
    entry: Price | None = Field(None, description="Entry price; the broker's last price when "
                                                  "omitted.")
    stop_price: Price | None = Field(None, description="An explicit stop; wins over the "
                                                       "configured one.")
    atr: Annotated[Decimal, Field(gt=0, le=MAX_MAGNITUDE),
                   not_tiny(f"at least {MIN_MAGNITUDE}")] | None = Field(
        None, description="Average true range in price units; needed by ATR stops and ATR or "
                          "chandelier trailing.")
    opened_at: AwareDatetime | None = Field(
        None, description="When the position opens (with a zone); now when omitted. The time "
                          "stop counts from it.")


class ExitTargetOut(BaseModel):
    """One take-profit level, nearest first."""

    model_config = ConfigDict(extra="forbid")

    price: str = Field(description="The level on the tick grid.")
    quantity: str = Field(description="What the level takes off (a final level: the rest).")
    fraction: str | None = Field(description="Share of the quantity held a ladder rung takes "
                                             "off; null for a final level.")
    final: bool = Field(description="The level closes whatever remains.")
    r_multiple: str | None = Field(description="Distance from the entry in R; null for a "
                                               "percent target.")


class ExitPlanOut(BaseModel):
    """``POST /api/exits/plan``: the bracket and the settings that manage it afterwards."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    side: str = Field(description="LONG or SHORT.")
    entry: str
    entry_source: Literal["request", "broker"] = Field(
        description="Whether the entry came from the request or the broker's last price.")
    quantity: str
    stop: str | None = Field(description="Protective stop on the tick grid; null when the "
                                         "configuration has none and none was sent.")
    risk_per_unit: str | None = Field(description="R: the distance from the entry to the stop.")
    risk_budget: str | None = Field(description="quantity x R x contract size: the initial "
                                                "open risk.")
    take_profit: str | None = Field(description="The final target's price, if any.")
    targets: list[ExitTargetOut]
    atr: str | None
    opened_at: str | None
    time_stop_at: str | None = Field(description="When the time stop closes the position, if "
                                                 "exits.time_stop_hours is set.")
    tick: str
    step: str
    contract_size: str
    config_name: str
    exits: dict[str, Any] = Field(description="The configuration's exits section the plan "
                                              "was built with (trailing, break-even, ...).")


@router.post("/plan", response_model=ExitPlanOut)
def exit_plan(body: ExitPlanIn, service: ServiceDep, _: ReadCaller) -> dict[str, Any]:
    """The bracket to place with an entry: protective stop and take-profit levels.

    Built from the configuration's ``exits`` settings on the market's tick grid (stops and
    targets rounded toward the position's profit side). Decides nothing and writes nothing.
    """
    try:
        return service.exit_plan(symbol=body.symbol, side=body.side, quantity=body.quantity,
                                 entry=body.entry, stop_price=body.stop_price, atr=body.atr,
                                 opened_at=body.opened_at)
    except InvalidInputError as exc:
        # A configured level (exits.stop_pct, exits.take_profit_pct, ...) that cannot be
        # placed at this entry: the request's entry (the broker's, when none was sent) is
        # what the caller can change; ``body.exits`` is no field of the request.
        if not exc.field.startswith("exits."):
            raise
        raise LocatedInvalidInputError(exc, ["body", "entry"]) from exc
