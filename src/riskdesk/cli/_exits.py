"""``riskdesk exits plan``: the bracket (stop and targets) of one position, offline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from riskdesk.cli._app import app
from riskdesk.cli._common import (
    ConfigFileOption,
    JsonOption,
    MinNotionalOption,
    MinQtyOption,
    PresetOption,
    StepOption,
    TickOption,
    config_ref,
    exits,
    flag_names,
    out,
    parse_time,
    print_json,
)
from riskdesk.config import RiskConfig
from riskdesk.domain import MarketRules, Side, to_decimal
from riskdesk.exits import build_plan
from riskdesk.service._exits import exit_plan_view

exits_app = typer.Typer(help="Exit plans: protective stops and take-profit targets.",
                        no_args_is_help=False)
app.add_typer(exits_app, name="exits")


#: The fields the flags of ``exits plan`` fill, named in refusals by their flags.
FLAGS = {
    "rules.symbol": "--symbol", "rules.step": "--step", "rules.tick": "--tick",
    "rules.min_qty": "--min-qty", "rules.min_notional": "--min-notional",
    "rules.contract_size": "--contract-size", "atr": "--atr", "opened_at": "--opened-at",
    "stop_price": "--stop-price",
}


def _opened_at(text: str | None) -> datetime:
    return datetime.now(UTC) if text is None else parse_time(text, "--opened-at")


def _dash(value: Any) -> str:
    return "–" if value is None else str(value)


def render_exit_plan(view: dict[str, Any]) -> None:
    """Print an exit plan (see :func:`riskdesk.service._exits.exit_plan_view`) as tables."""
    head = Table(show_header=False, title=f"exit plan {view['side']} {view['symbol']}")
    head.add_column("", style="dim")
    head.add_column("", justify="right")
    for key in ("entry", "quantity", "stop", "risk_per_unit", "risk_budget", "take_profit",
                "atr", "opened_at", "time_stop_at", "config_name"):
        head.add_row(key.replace("_", " "), _dash(view[key]))
    rules = view["exits"]
    managed = [name for name, on in (("trailing", rules["trailing_enabled"]),
                                     ("break-even", rules["break_even_enabled"]),
                                     ("pyramiding", rules["pyramiding_enabled"])) if on]
    head.add_row("managed by", ", ".join(managed) or "the bracket alone")
    out.print(head)
    targets = Table("#", "price", "quantity", "fraction", "R", "final", title="targets")
    for i, t in enumerate(view["targets"]):
        targets.add_row(str(i), t["price"], t["quantity"], _dash(t["fraction"]),
                        _dash(t["r_multiple"]), "yes" if t["final"] else "")
    out.print(targets)


#: The help of ``exits plan``: each paragraph on one line, as the help reflows none of them.
_PLAN_HELP = ("Build the bracket of one position from the exits settings; writes nothing."
              "\n\n"
              "Exit 0 with the plan; 2 when an input or the configuration is invalid (or the "
              "plan cannot be built from them, e.g. an ATR stop without --atr).")


@exits_app.command("plan", help=_PLAN_HELP)
@exits
def plan(
    symbol: str = typer.Option(..., help="Instrument."),
    side: str = typer.Option(..., help="LONG/SHORT (BUY/SELL accepted)."),
    entry: str = typer.Option(..., help="Entry price (the fill, or the order's price)."),
    quantity: str = typer.Option(..., help="Position quantity, > 0."),
    stop_price: str | None = typer.Option(None, "--stop-price", "--stop",
                                          help="Explicit stop; wins over the configured one."),
    atr: str | None = typer.Option(None, help="Average true range, price units (ATR stops "
                                              "and ATR or chandelier trailing need it)."),
    opened_at: str | None = typer.Option(None, help="ISO 8601 opening time with a zone "
                                                    "(default: now); the time stop counts "
                                                    "from it."),
    step: str = StepOption, tick: str = TickOption,
    min_qty: str = MinQtyOption, min_notional: str = MinNotionalOption,
    contract_size: str = typer.Option("1", help="Units per contract."),
    preset: str | None = PresetOption, config: str | None = ConfigFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Build the bracket of one position from the exits settings; see ``_PLAN_HELP``."""
    ref = config_ref(preset, config)
    cfg = RiskConfig.load(ref)
    with flag_names(FLAGS):
        rules = MarketRules(symbol=symbol, step=to_decimal(step, "--step", allow_zero=False),
                            tick=to_decimal(tick, "--tick", allow_zero=False),
                            min_qty=to_decimal(min_qty, "--min-qty"),
                            min_notional=to_decimal(min_notional, "--min-notional"),
                            contract_size=to_decimal(contract_size, "--contract-size",
                                                     allow_zero=False))
        built = build_plan(
            cfg.exits, symbol=symbol, side=Side.parse(side, "--side"),
            entry=to_decimal(entry, "--entry", allow_zero=False),
            quantity=to_decimal(quantity, "--quantity", allow_zero=False), rules=rules,
            stop_price=None if stop_price is None
            else to_decimal(stop_price, "--stop-price", allow_zero=False),
            atr=None if atr is None else to_decimal(atr, "--atr", allow_zero=False),
            opened_at=_opened_at(opened_at))
    view = exit_plan_view(built, entry_source="request", config_name=ref)
    if as_json:
        print_json(view)
    else:
        render_exit_plan(view)
