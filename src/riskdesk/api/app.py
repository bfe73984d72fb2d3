"""The FastAPI application factory.

``create_app(service_or_settings)`` builds the app around a :class:`~riskdesk.service.Service`
(or opens one from :class:`~riskdesk.service.Settings`). ``create_app_from_env`` is the
import string uvicorn's workers use: ``uvicorn --factory riskdesk.api.app:create_app_from_env``
with the settings in ``RISKDESK_*`` environment variables.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Mount, Route

from riskdesk import __version__
from riskdesk.api import _admin, _capital, _exits, _orders
from riskdesk.api._errors import install_error_handlers
from riskdesk.api._fast import FastRecommendation
from riskdesk.api._middleware import BodyLimitMiddleware, RequestLogMiddleware
from riskdesk.service import Service, Settings, configure_logging
from riskdesk.web import static_dir

DESCRIPTION = """\
The risk desk a trading bot calls before every order.

Authenticate with an API key in `X-API-Key` (or `Authorization: Bearer KEY`). Scopes rank
read < trade < admin. Deciding POSTs accept an `Idempotency-Key` header. Money, prices and
quantities are decimal strings in responses; `*_pct` fields are percents.
"""


#: Largest request body accepted (413 beyond it, before any route runs: see
#: :class:`~riskdesk.api._middleware.BodyLimitMiddleware`). The largest legitimate body, a
#: recommendation with 10,000 weights and two 500-level books, is ~0.5 MB.
MAX_BODY_BYTES = 1024 * 1024


def create_app(service_or_settings: Service | Settings | None = None, *,
               access_log: bool | None = None,
               snapshot_seconds: float | None = None, fast_lane: bool = True) -> FastAPI:
    """Build the HTTP application.

    Parameters
    ----------
    service_or_settings
        A ready :class:`Service` (tests, embedding), or :class:`Settings` to open one; the
        environment's settings when ``None``.
    access_log
        Log one JSON line per request; from the settings when ``None`` (on by default).
    snapshot_seconds
        Record a capital snapshot this often while the app runs (the equity curve); from the
        settings when ``None``, off for a given service.
    fast_lane
        Serve the common recommendation request in front of FastAPI's routing
        (:mod:`riskdesk.api._fast`); off, every request takes its route (the answers are
        the same, the tests compare them).

    Returns
    -------
    FastAPI
        The app: the API under ``/api``, ``/healthz``, ``/metrics`` and the dashboard at
        ``/``. A service the app opened itself is closed on shutdown.
    """
    owned = not isinstance(service_or_settings, Service)
    if isinstance(service_or_settings, Service):
        service = service_or_settings
        log_access = True if access_log is None else access_log
        every = 0.0 if snapshot_seconds is None else snapshot_seconds
    else:
        settings = service_or_settings or Settings.from_env()
        configure_logging(settings.log_level)
        service = Service.open(settings)
        log_access = settings.access_log if access_log is None else access_log
        every = settings.capital_snapshot_seconds if snapshot_seconds is None \
            else snapshot_seconds

    async def sample() -> None:
        while True:
            await run_in_threadpool(service.sample_capital)
            await asyncio.sleep(every)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(sample()) if every > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            if owned:
                service.close()

    # The body limit is BodyLimitMiddleware's, not FastAPI's ``max_body_size``: Starlette's
    # limit answers a plain-text 413 outside the request log (no X-Request-ID, counted as
    # the route's own answer or a 500) and lets a route that never reads its body run.
    app = FastAPI(title="riskdesk", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.service = service
    install_error_handlers(app)
    routers = (_capital.router, _orders.router, _exits.router, _admin.router, _admin.ops)
    for router in routers:
        app.include_router(router)
    static = static_dir()
    app.mount("/static", StaticFiles(directory=static), name="static")

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(static / "index.html", headers={"Cache-Control": "no-store"})

    # Every route, those of the included routers too: a 405's Allow and a refused body's
    # route label are found among them.
    app.state.routes = _served_routes(app, routers)
    if fast_lane:
        app.add_middleware(FastRecommendation, fastapi=app)
    app.add_middleware(BodyLimitMiddleware, limit=MAX_BODY_BYTES, routes=app.state.routes)
    app.add_middleware(RequestLogMiddleware, metrics=service.metrics, access_log=log_access)
    return app


def _served_routes(app: FastAPI, routers: tuple[APIRouter, ...]) -> list[BaseRoute]:
    """The routes of ``routers`` (each as it declares it), then the app's own routes.

    ``app.routes`` holds an included router as one entry that matches a path without naming
    the route; the routers' own routes are the ones FastAPI hands requests to.
    """
    own = [route for route in app.routes if isinstance(route, Route | Mount)]
    return [*(route for router in routers for route in router.routes), *own]


def create_app_from_env() -> FastAPI:
    """The app with settings from ``RISKDESK_*`` environment variables (uvicorn workers)."""
    return create_app(Settings.from_env())
