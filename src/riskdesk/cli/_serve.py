"""``riskdesk serve``: the HTTP service and the dashboard under uvicorn."""

from __future__ import annotations

import os
import tempfile

import typer
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from riskdesk.cli._app import app
from riskdesk.cli._common import ConfigOption, DbOption, check_config, exits
from riskdesk.errors import InvalidInputError
from riskdesk.service import Settings, configure_logging
from riskdesk.service._settings import MAX_RESERVATION_TTL_SECONDS
from riskdesk.store._engine import is_memory_sqlite

FACTORY = "riskdesk.api.app:create_app_from_env"
#: The accepted ``--log-level`` names (any case).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _in_memory(db: str) -> bool:
    """Whether ``db`` names an in-memory SQLite database (``sqlite://``, ``:memory:``)."""
    try:
        url = make_url(db)
    except ArgumentError:
        return False  # not a URL: the store refuses it with its own message
    return is_memory_sqlite(url) or ":memory:" in (url.database or "")


def run_server(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000,
               workers: int = 1) -> None:
    """Serve ``settings`` with uvicorn until interrupted.

    Workers are separate processes, so the settings travel through ``RISKDESK_*``
    environment variables and each worker builds the app with :data:`FACTORY`. With several
    workers, Prometheus metrics are aggregated through ``PROMETHEUS_MULTIPROC_DIR``.

    Parameters
    ----------
    settings
        Database, configuration and broker.
    host, port
        Where to listen.
    workers
        Number of worker processes, >= 1.
    """
    configure_logging(settings.log_level)
    os.environ.update(settings.to_env())
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="riskdesk-metrics-")
    # The database is migrated once here, not by racing workers.
    from riskdesk.service import Service

    Service.open(settings).close()
    uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers,
                log_config=None, access_log=False, proxy_headers=False)


@app.command("serve")
@exits
def serve(db: str = DbOption, config: str = ConfigOption,
          host: str = typer.Option("127.0.0.1", help="Address to listen on."),
          port: int = typer.Option(8000, min=1, max=65535, help="Port."),
          workers: int = typer.Option(1, min=1, max=64, help="Worker processes."),
          log_level: str = typer.Option("INFO", help="Log level of the JSON logs."),
          reservation_ttl: float = typer.Option(300.0, help="Seconds an ENTER holds its "
                                                            "notional.")) -> None:
    """Run the HTTP API and the dashboard (JSON logs on stderr)."""
    if log_level.strip().upper() not in LOG_LEVELS:
        raise InvalidInputError("--log-level", log_level, f"one of {', '.join(LOG_LEVELS)}")
    if not host.strip():
        raise InvalidInputError("--host", host, "an address to listen on (127.0.0.1, 0.0.0.0, ::)")
    if not 0 < reservation_ttl <= MAX_RESERVATION_TTL_SECONDS:  # NaN fails this too
        raise InvalidInputError("--reservation-ttl", reservation_ttl,
                                f"seconds in (0, {MAX_RESERVATION_TTL_SECONDS:g}]")
    if workers > 1 and _in_memory(db):
        raise InvalidInputError("--workers", workers, "1 with an in-memory database (workers "
                                "cannot share it; use a database file or PostgreSQL)")
    check_config(config)  # before the logs, the environment or the database are set up
    run_server(Settings(db_url=db, config=config, log_level=log_level,
                        reservation_ttl_seconds=reservation_ttl),
               host=host, port=port, workers=workers)
