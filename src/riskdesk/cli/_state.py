"""``riskdesk state`` and ``riskdesk reconcile``: the account as the service sees it."""

from __future__ import annotations

import typer
from rich.table import Table

from riskdesk.cli._app import EXIT_DENIED, app
from riskdesk.cli._common import (
    ConfigOption,
    DbOption,
    JsonOption,
    exits,
    flag_names,
    open_service,
    out,
    print_json,
)
from riskdesk.errors import InvalidInputError

#: The policies of ``reconcile --policy``.
POLICIES = ("report", "adopt_remote")


@app.command("state")
@exits
def state(db: str = DbOption, config: str = ConfigOption, as_json: bool = JsonOption) -> None:
    """Capital, margin zone, drawdown, trading state and exposure, all at once."""
    with open_service(db, config) as service:
        a = service.analysis_complete()
        operator = service.operator_state(changes=1)
    if as_json:
        print_json({**a, "operator": operator})
        return
    c, m, d = a["capital_state"], a["margin_status"], a["drawdown_status"]
    r = c["reserved"]
    t = Table(title=f"riskdesk · {a['config_name']} · trading {a['trading_state']}",
              show_header=False)
    t.add_column("", style="dim")
    t.add_column("", justify="right")
    for label, value in (
            ("wallet balance", c["total_wallet_balance"]), ("equity", c["equity"]),
            ("available", c["available_balance"]),
            ("margin used", f"{c['margin_used']} ({c['margin_used_pct']:.2f}%)"),
            ("unrealized PnL", c["unrealized_pnl"]), ("buying power", c["buying_power"]),
            ("reserved (pending orders)",
             f"{r['notional']} ({r['count']} order{'' if r['count'] == 1 else 's'})"),
            ("capital status", c["capital_status"]), ("margin zone", m["zone"]),
            ("drawdown", f"{d['state']} {d['drawdown_pct']:.2f}%"),
            ("breaker", "TRIPPED" if d["breaker_tripped"] else "armed"),
            ("operator", _operator_line(operator))):
        t.add_row(label, str(value))
    out.print(t)
    if a["exposure"]["by_symbol"]:
        e = Table("symbol", "side", "quantity", "notional", "% equity", title="exposure")
        for x in a["exposure"]["by_symbol"]:
            e.add_row(x["symbol"], x["side"], x["quantity"], x["notional"],
                      f"{x['pct_of_equity']:.2f}")
        out.print(e)
    if r["by_symbol"]:
        h = Table("symbol", "orders", "notional", title="reserved by pending orders")
        for row in r["by_symbol"]:
            h.add_row(row["symbol"], str(row["count"]), row["notional"])
        out.print(h)


def _operator_line(operator: dict[str, object]) -> str:
    """The state an operator set, and by whom, when and why when it is not ACTIVE."""
    changes = operator["changes"]
    assert isinstance(changes, list)
    if operator["operator_state"] == "ACTIVE" or not changes:
        return str(operator["operator_state"])
    last = changes[0]
    note = f": {last['note']}" if last.get("note") else ""
    return f"{operator['operator_state']} by {last['operator']} at {last['at']}{note}"


@app.command("reconcile")
@exits
def reconcile(db: str = DbOption, config: str = ConfigOption,
              policy: str = typer.Option("report", help="report or adopt_remote."),
              as_json: bool = JsonOption) -> None:
    """Compare local and broker positions and orders; exit 1 when they differ."""
    if policy not in POLICIES:  # bad input before the database is opened
        raise InvalidInputError("--policy", policy, " or ".join(POLICIES))
    with open_service(db, config) as service, flag_names({"policy": "--policy"}):
        report = service.reconcile(policy)
    if as_json:
        print_json(report)
    else:
        out.print_json(data=report)
    # Fails closed: a report that does not say it is clean counts as a difference.
    if report.get("clean") is not True or report.get("findings"):
        raise typer.Exit(EXIT_DENIED)
