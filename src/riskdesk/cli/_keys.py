"""``riskdesk keys create|list|revoke``: API keys of the HTTP service."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from riskdesk.cli._app import app
from riskdesk.cli._common import DbOption, JsonOption, exits, open_service, out, print_json
from riskdesk.errors import InvalidInputError
from riskdesk.store._base import check_text
from riskdesk.store._keys import SCOPES

keys_app = typer.Typer(help="Create, list and revoke API keys (stored hashed).",
                       no_args_is_help=False)
app.add_typer(keys_app, name="keys")


_SCOPE = typer.Option(["read"], "--scope", help="read, trade or admin (repeatable); admin "
                                             "implies trade, trade implies read.")


@keys_app.command("create")
@exits
def create(name: str = typer.Argument(..., help="Who or what the key is for."),
           scope: list[str] = _SCOPE,
           db: str = DbOption, as_json: bool = JsonOption) -> None:
    """Create a key and print its secret once."""
    # Checked before the database is opened: a refused request creates no database.
    check_text(name, "name")
    if not name.isprintable():
        raise InvalidInputError("name", name, "printable characters on one line")
    if not scope or any(s not in SCOPES for s in scope):
        raise InvalidInputError("--scope", scope, f"a non-empty subset of {', '.join(SCOPES)}")
    with open_service(db, create=True) as service:
        key_id, plaintext = service.store.create_api_key(name, scope)
        # The scopes as stored (each once), the same as `keys list` shows.
        scopes = next(sorted(k.scopes) for k in service.store.list_api_keys()
                      if k.key_id == key_id)
    if as_json:
        print_json({"key_id": key_id, "name": name, "scopes": scopes, "key": plaintext})
    else:
        out.print(f"key id  {key_id}\nscopes  {', '.join(scopes)}\nkey     {plaintext}")
        out.print("The key is shown once; store it now.", style="yellow")


@keys_app.command("list")
@exits
def list_keys(db: str = DbOption, as_json: bool = JsonOption,
              all_keys: bool = typer.Option(False, "--all", help="Include revoked keys.")
              ) -> None:
    """List keys (never their secrets)."""
    with open_service(db) as service:
        keys = service.store.list_api_keys(include_revoked=all_keys)
    rows = [{"key_id": k.key_id, "name": k.name, "scopes": sorted(k.scopes),
             "created_at": k.created_at, "revoked_at": k.revoked_at} for k in keys]
    if as_json:
        print_json(rows)
        return
    table = Table()
    # The id is what `keys revoke` takes: shown whole, never cut short for a narrow terminal.
    table.add_column("key id", no_wrap=True,
                     min_width=max((len(r["key_id"]) for r in rows), default=0))
    for header in ("name", "scopes", "created (UTC)", "revoked (UTC)"):
        table.add_column(header)
    for r in rows:
        table.add_row(r["key_id"], r["name"], ", ".join(r["scopes"]), _utc(r["created_at"]),
                      _utc(r["revoked_at"]))
    out.print(table)


def _utc(when: datetime | None) -> str:
    """``when`` in UTC to the second, date and time apart (a narrow column wraps between)."""
    return "" if when is None else when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@keys_app.command("revoke")
@exits
def revoke(key_id: str = typer.Argument(..., help="The key id (from keys list)."),
           db: str = DbOption, as_json: bool = JsonOption) -> None:
    """Revoke a key; requests with it are refused from now on."""
    check_text(key_id, "key_id")  # bad input before the database is opened
    with open_service(db) as service:
        key = service.store.revoke_api_key(key_id)
    if as_json:
        print_json({"key_id": key.key_id, "revoked_at": key.revoked_at})
    else:
        out.print(f"revoked {key.key_id} ({key.name})")
