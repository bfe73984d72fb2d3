"""Seed 001's ``/api/capital`` endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.convertors import Convertor, register_url_convertor

from riskdesk.api._auth import Caller, ReadCaller, ServiceDep, TradeCaller
from riskdesk.api._errors import ERROR_RESPONSES
from riskdesk.api._json import json_bytes
from riskdesk.api._requests import KellyIn, RecommendationIn, RiskParityIn
from riskdesk.api._responses import (
    AnalysisOut,
    CapitalHistoryOut,
    CapitalStateOut,
    DrawdownStatusOut,
    KellyOut,
    LeverageOut,
    MarginStatusOut,
    MultiTierOut,
    RecommendationOut,
    RiskParityOut,
    ScalingStrategyOut,
)
from riskdesk.api._strict_json import StrictJSONRoute
from riskdesk.domain import BookLevel, Signal
from riskdesk.errors import ConflictError, InvalidInputError
from riskdesk.service import MarketInput, Service, body_hash

router = APIRouter(prefix="/api/capital", tags=["capital"], responses=ERROR_RESPONSES,
                   route_class=StrictJSONRoute)

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200,
    description="Makes the call safe to retry: the same key and body return the stored "
                "answer; the same key with another body is refused with 409.")]


RECOMMENDATION_PATH = "/api/capital/recommendation/position"

#: The window of a history, in hours (NaN and infinities are refused as such).
Hours = Annotated[float, Query(gt=0, le=24 * 366, allow_inf_nan=False)]


async def recommendation_answer(service: Service, body: RecommendationIn, caller: Caller,
                                idempotency_key: str | None, request_id: str | None
                                ) -> tuple[dict[str, Any], bool]:
    """Decide, journal and answer one recommendation request (the route and its fast lane).

    Returns the answer, built in :class:`RecommendationOut`'s shape, and whether it is a
    stored answer replayed for a retried ``Idempotency-Key``.
    """
    # Runs on the event loop: the service moves anything that blocks to a thread and awaits
    # its group commit. It builds the answer in RecommendationOut's shape (the schemathesis
    # run checks it), so the answer is sent as is, without validating it a second time.
    signal = Signal(symbol=body.symbol, side=body.side, score=body.signal_score,  # type: ignore[arg-type]
                    strength=body.strength, expected_return_pct=body.expected_return_pct,
                    regime=body.market_regime, win_rate=body.win_rate,
                    win_loss_ratio=body.win_loss_ratio, stop_price=body.stop_price,
                    strategy=body.strategy, reduce_only=body.reduce_only)
    market = None
    if body.market is not None:
        m = body.market
        market = MarketInput(
            price=m.price, bid=m.bid, ask=m.ask, atr=m.atr, volatility=m.volatility, vix=m.vix,
            bids=tuple(BookLevel(float(b.price), float(b.size)) for b in m.bids),
            asks=tuple(BookLevel(float(a.price), float(a.size)) for a in m.asks))
    key = None if idempotency_key is None else \
        f"{caller.key_id}:recommendation:{idempotency_key}"
    digest = None if key is None else body_hash(body.model_dump(mode="json"))
    try:
        return await service.recommend_async(
            signal, market, idempotency_key=key, digest=digest, request_id=request_id,
            api_key_id=caller.key_id, weights=body.weights)
    except ConflictError as exc:
        translated = unscoped(exc, key, idempotency_key)
        if translated is exc:
            raise
        raise translated from exc
    except InvalidInputError as exc:
        named = request_field(exc)
        if named is exc:
            raise
        raise named from exc


#: The request's name of each :class:`~riskdesk.domain.Signal` field that it names otherwise.
_SIGNAL_FIELDS = {"score": "signal_score", "regime": "market_regime"}


def request_field(exc: InvalidInputError) -> InvalidInputError:
    """``exc`` naming the request's field instead of the desk's ``signal.<name>``.

    The desk refuses a signal's value under the signal's own name (``signal.stop_price``); the
    request carries it at the top level (``stop_price``), which is where the 422 must point.
    Errors about other fields are returned as they are.
    """
    if type(exc) is not InvalidInputError or not exc.field.startswith("signal."):
        return exc
    name = exc.field.removeprefix("signal.")
    return InvalidInputError(_SIGNAL_FIELDS.get(name, name), exc.value, exc.expected)


def answer_head(router: APIRouter) -> None:
    """Answer ``HEAD`` on each ``GET`` route of ``router`` as ``GET`` answers it.

    RFC 9110 requires HEAD wherever GET is served, and load balancers and uptime probes send
    ``HEAD /healthz``; FastAPI routes answer it with 405 unless told. Each twin runs the same
    endpoint with the same dependencies (a key, its scope, the query parameters), so its
    status and headers are GET's; the server sends no body. The twins stay out of the OpenAPI
    document. Call it once, after the router's last route, before the app includes it.
    """
    for route in list(router.routes):
        if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
            router.add_api_route(
                route.path.removeprefix(router.prefix), route.endpoint, methods=["HEAD"],
                response_model=route.response_model, response_class=route.response_class,
                name=f"{route.name}_head", include_in_schema=False)


def unscoped(exc: ConflictError, scoped: str | None, sent: str | None) -> ConflictError:
    """``exc`` naming the Idempotency-Key as the client sent it, not as the API scoped it.

    The API scopes a client's key to its API key (``<key id>:<endpoint>:<key>``); a conflict
    raised about the scoped key would show the caller's key id. Other conflicts (a revoked
    key, a moved desk) are returned as they are.
    """
    if scoped is None or sent is None or type(exc) is not ConflictError \
            or repr(scoped) not in str(exc):
        return exc
    return ConflictError(str(exc).replace(repr(scoped), repr(sent)))


# The hot route is registered first: routes are matched in order. Its common requests are
# served by the fast lane in front of the app (riskdesk.api._fast), the others here.
@router.post("/recommendation/position", response_model=RecommendationOut)
async def recommend(body: RecommendationIn, request: Request, service: ServiceDep,
                    caller: TradeCaller, idempotency_key: IdempotencyKey = None) -> Response:
    """Call this before every order.

    ENTER / REJECT / CAUTION / HOLD / ENTER_AND_CLOSE_WORST with leverage, quantity, size, risk,
    execution method, the reason and every adjustment. The decision is journaled; an approved one
    reserves its notional.
    """
    answer, replayed = await recommendation_answer(
        service, body, caller, idempotency_key, request.scope["state"].get("request_id"))
    return Response(json_bytes(answer), media_type="application/json",
                    headers={"Idempotent-Replayed": "true"} if replayed else None)


@router.get("/state", response_model=CapitalStateOut)
def capital_state(service: ServiceDep, _: ReadCaller) -> dict[str, Any]:
    """Seed 001's capital state.

    Wallet balance, available balance, margin used, unrealized PnL, buying power and the
    capital status (HEALTHY / WARNING / CRITICAL / EMERGENCY).
    """
    return service.capital_state()


@router.get("/history", response_model=CapitalHistoryOut)
def capital_history(service: ServiceDep, _: ReadCaller, hours: Hours = 24.0) -> dict[str, Any]:
    """Capital snapshots of the last ``hours``, oldest first."""
    return service.capital_history(hours)


class _SymbolText(Convertor[str]):
    """The rest of the path as the symbol: slashes and line breaks included.

    A symbol may hold a slash, as ccxt spells its markets (``BTC/USDT:USDT``, sent as
    ``BTC%2FUSDT%3AUSDT`` or as is). Starlette's ``:path`` stops at a line break, which made
    ``BTC%0A...`` a 404; taking every character leaves the symbol's own validation to answer
    (422 on ``path.symbol``), as for a request body's symbol.
    """

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("symbol_text", _SymbolText())


@router.get("/leverage/optimal/{symbol:symbol_text}", response_model=LeverageOut)
def optimal_leverage(service: ServiceDep, _: ReadCaller,
                     symbol: Annotated[str, Path(min_length=1, max_length=32,
                                                 pattern=r"^[A-Za-z0-9._:/-]+$")]
                     ) -> dict[str, Any]:
    """Adaptive leverage for ``symbol``.

    From volatility, spread, depth, account size and regime, clamped to the configured range.
    """
    return service.optimal_leverage(symbol)


@router.get("/margin/status", response_model=MarginStatusOut)
def margin_status(service: ServiceDep, _: ReadCaller) -> dict[str, Any]:
    """The four-zone margin monitor.

    GREEN, YELLOW (pause entries), ORANGE (reduce), RED (close worst).
    """
    return service.margin_status()


@router.get("/strategy/scaling", response_model=ScalingStrategyOut)
def scaling_strategy(service: ServiceDep, _: ReadCaller) -> dict[str, Any]:
    """The account-size profile: risk range, position count and leverage range."""
    return service.scaling_strategy()


@router.get("/drawdown/status", response_model=DrawdownStatusOut)
def drawdown_status(service: ServiceDep, _: ReadCaller) -> dict[str, Any]:
    """Drawdown state (NORMAL / LIGHT / MODERATE / HEAVY), multipliers and the breaker."""
    return service.drawdown_status()


@router.get("/allocation/multi-tier", response_model=MultiTierOut)
def multi_tier(service: ServiceDep, _: ReadCaller) -> dict[str, Any]:
    """CORE / GROWTH / OPPORTUNITY / RESERVE budgets against deployed capital."""
    return service.multi_tier()


@router.get("/analysis/complete", response_model=AnalysisOut)
def analysis_complete(service: ServiceDep, _: ReadCaller, hours: Hours = 24.0) -> dict[str, Any]:
    """Every view in one call.

    Capital, margin, scaling, drawdown, tiers, exposure and the capital history.
    """
    return service.analysis_complete(hours)


@router.post("/position-size/kelly", response_model=KellyOut)
def kelly(body: KellyIn, service: ServiceDep, _: ReadCaller) -> dict[str, Any]:
    """Kelly fraction, half-Kelly, and the size after seed 001's adjustments.

    The adjustments are account size, regime and portfolio heat. Decides nothing and writes
    nothing.
    """
    return service.kelly(win_rate=body.win_rate, win_loss_ratio=body.win_loss_ratio,
                         regime=None if body.market_regime is None else body.market_regime.value,
                         portfolio_heat=body.portfolio_heat, capital=body.capital)


@router.post("/allocation/risk-parity", response_model=RiskParityOut)
def risk_parity(body: RiskParityIn, service: ServiceDep, _: ReadCaller) -> dict[str, Any]:
    """Inverse-volatility weights, or equal risk contributions.

    Send ``volatilities``, or ``symbols`` with a ``covariance`` matrix. Writes nothing.
    """
    return service.risk_parity(volatilities=body.volatilities, symbols=body.symbols,
                               covariance=body.covariance, budgets=body.budgets,
                               capital=body.capital)


answer_head(router)
