"""``riskdesk serve``: the HTTP service and the dashboard under uvicorn."""

from __future__ import annotations

import os
import tempfile

import typer
import uvicorn

from riskdesk.cli._app import app
from riskdesk.cli._common import ConfigOption, DbOption, err, exits
from riskdesk.service import Settings, configure_logging

FACTORY = "riskdesk.api.app:create_app_from_env"


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
    if workers > 1 and db.startswith("sqlite") and ":memory:" in db:
        err.print("[red]error:[/red] an in-memory database cannot be shared by workers")
        raise typer.Exit(2)
    run_server(Settings(db_url=db, config=config, log_level=log_level,
                        reservation_ttl_seconds=reservation_ttl),
               host=host, port=port, workers=workers)
