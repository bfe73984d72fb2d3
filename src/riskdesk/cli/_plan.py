"""``riskdesk plan FILE``: a two-phase batch towards target weights, through the service."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.table import Table

from riskdesk.cli._app import app
from riskdesk.cli._common import (
    ConfigOption,
    DbOption,
    JsonOption,
    exits,
    open_service,
    out,
)
from riskdesk.config._yaml import load_yaml
from riskdesk.domain import to_decimal
from riskdesk.errors import InvalidInputError

#: The keys of one target; any other key is refused rather than ignored.
_ROW_KEYS = ("symbol", "target_weight", "price")


def _where(exc: yaml.YAMLError) -> str:
    """What the YAML parser objected to and where, on one line."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(exc).split())


def read_targets(path: Path) -> tuple[dict[str, float], dict[str, Decimal]]:
    """Targets and optional prices from a YAML or JSON file.

    The file holds ``targets: [{symbol, target_weight, price?}, ...]``.

    Raises
    ------
    InvalidInputError
        Naming the entry and field that is wrong.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError("FILE", str(path), f"a readable file ({exc.strerror})"
                                ) from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError("FILE", str(path), f"a UTF-8 text file (byte "
                                f"0x{exc.object[exc.start]:02x} at offset {exc.start})"
                                ) from None
    try:
        data: Any = load_yaml(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError("FILE", str(path), f"valid YAML or JSON ({_where(exc)})"
                                ) from None
    if not isinstance(data, dict):
        top = "the file is empty" if data is None else f"its top level is a {type(data).__name__}"
        raise InvalidInputError("FILE", str(path), f"a mapping with a targets list ({top})")
    for key in data:
        if key != "targets":
            raise InvalidInputError(str(key), data[key], "no such key (known: targets)")
    rows = data.get("targets")
    if not isinstance(rows, list) or not rows:
        raise InvalidInputError("targets", rows, "a non-empty list of {symbol, target_weight}")
    targets: dict[str, float] = {}
    prices: dict[str, Decimal] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("symbol"), str):
            raise InvalidInputError(f"targets[{i}]", row, "a mapping with a symbol")
        if not row["symbol"].strip():
            raise InvalidInputError(f"targets[{i}].symbol", row["symbol"], "a non-empty symbol")
        for key in row:
            if key not in _ROW_KEYS:
                raise InvalidInputError(f"targets[{i}].{key}", row[key],
                                        f"no such key (known: {', '.join(_ROW_KEYS)})")
        symbol = row["symbol"]
        if symbol in targets:
            raise InvalidInputError(f"targets[{i}].symbol", symbol, "each symbol at most once")
        weight = to_decimal(row.get("target_weight"), f"targets[{i}].target_weight",
                            allow_negative=True)
        if abs(weight) > 10:
            raise InvalidInputError(f"targets[{i}].target_weight", row["target_weight"],
                                    "within [-10, 10]")
        targets[symbol] = float(weight)
        if row.get("price") is not None:
            prices[symbol] = to_decimal(row["price"], f"targets[{i}].price", allow_zero=False)
    return targets, prices


_FILE = typer.Argument(..., help="YAML or JSON with targets.")


@app.command("plan")
@exits
def plan(file: Path = _FILE,
         db: str = DbOption, config: str = ConfigOption, as_json: bool = JsonOption) -> None:
    """Plan orders towards target weights: reducers first, then openers; each journaled."""
    targets, prices = read_targets(file)
    with open_service(db, config) as service:
        result, _ = service.plan(targets, prices)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    table = Table("#", "symbol", "side", "intent", "action", "quantity", "notional",
                  "binding cap", "reasons", title="plan (execution order)")
    for i, d in enumerate(result["decisions"], 1):
        table.add_row(str(i), d["symbol"], d["side"], d["intent"], d["recommendation"],
                      d["quantity"], d["position_size_usd"], d["binding_cap"] or "",
                      ", ".join(d["reasons"]))
    out.print(table)


__all__ = ["plan", "read_targets"]
