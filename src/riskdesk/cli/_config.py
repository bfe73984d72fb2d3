"""``riskdesk config show|check|schema|presets``."""

from __future__ import annotations

import json

import typer

from riskdesk.cli._app import EXIT_BAD_INPUT, app
from riskdesk.cli._common import exit_with, exits
from riskdesk.config import RiskConfig
from riskdesk.errors import ConfigError

config_app = typer.Typer(help="Show, check and describe risk configurations.",
                         no_args_is_help=False)
app.add_typer(config_app, name="config")


def _load(ref: str) -> RiskConfig:
    try:
        return RiskConfig.load(ref)
    except ConfigError as exc:
        raise exit_with("config error", str(exc), EXIT_BAD_INPUT) from None


@config_app.command("show")
@exits
def show(ref: str = typer.Argument(..., help="A preset name or a YAML file."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON instead of YAML.")
         ) -> None:
    """Print the full configuration, every default spelled out."""
    cfg = _load(ref)
    if as_json:
        typer.echo(cfg.model_dump_json(indent=2))
    else:
        typer.echo(cfg.to_yaml(), nl=False)


@config_app.command("check")
@exits
def check(path: str = typer.Argument(..., help="A YAML file (or preset name) to validate.")
          ) -> None:
    """Validate a configuration; exit 2 with the key path and value when it is wrong."""
    cfg = _load(path)
    typer.echo(f"ok: {path} is a valid riskdesk configuration ({cfg.name})")


@config_app.command("schema")
@exits
def schema() -> None:
    """Print the JSON schema of the configuration tree."""
    typer.echo(json.dumps(RiskConfig.json_schema(), indent=2))


@config_app.command("presets")
@exits
def presets() -> None:
    """List the presets shipped with riskdesk."""
    for name in RiskConfig.presets():
        typer.echo(f"{name}\t{RiskConfig.preset(name).description.strip()}")
