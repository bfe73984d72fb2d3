"""``riskdesk journal tail``: the latest journaled decisions."""

from __future__ import annotations

import typer
from rich.table import Table

from riskdesk.cli._app import app
from riskdesk.cli._common import (
    DbOption,
    JsonOption,
    exits,
    flag_names,
    open_service,
    out,
    parse_time,
    plain_number,
    print_json,
)
from riskdesk.store._base import check_text

#: The longest symbol the journal holds.
SYMBOL_MAX = 64

journal_app = typer.Typer(help="Read the decision journal.", no_args_is_help=False)
app.add_typer(journal_app, name="journal")


@journal_app.command("tail")
@exits
def tail(limit: int = typer.Option(20, "-n", "--limit", min=1, max=10000),
         symbol: str | None = typer.Option(None, help="Only this symbol."),
         since: str | None = typer.Option(None, help="ISO 8601 time with a zone."),
         trail: bool = typer.Option(False, "--trail", help="Show each decision's trail."),
         before: int | None = typer.Option(None, "--before", min=1,
                                           help="Only decisions with an id below this one "
                                                "(page back)."),
         db: str = DbOption, as_json: bool = JsonOption) -> None:
    """Print the latest decisions, newest first."""
    start = None if since is None else parse_time(since, "--since")
    if symbol is not None:  # bad input before the database is opened
        check_text(symbol, "--symbol", SYMBOL_MAX)
    with open_service(db) as service, flag_names({"symbol": "--symbol", "limit": "--limit",
                                                  "before": "--before"}):
        entries = service.journal(limit=limit, since=start, symbol=symbol,
                                  before=before)["entries"]
    if as_json:
        print_json(entries)
        return
    table = Table("id", "decided (UTC)", "symbol", "side", "action", "quantity", "notional",
                  "leverage", "binding cap", "reasons")
    for e in entries:
        table.add_row(str(e["id"]), str(e["decided_at"])[:19], e["symbol"], e["side"],
                      e["action"], e["quantity"], e["notional"], e["leverage"],
                      e["binding_cap"] or "", ", ".join(e["reasons"]))
    out.print(table)
    if trail:
        for e in entries:
            t = Table("step", "code", "before", "after", "note", title=f"decision {e['id']}")
            for a in e["trail"]:
                t.add_row(a["step"], a["code"], plain_number(a["before"]),
                          plain_number(a["after"]), a["note"])
            out.print(t)
