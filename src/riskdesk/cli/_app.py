"""The root Typer application every command module registers on."""

from __future__ import annotations

import typer

EXIT_OK = 0
EXIT_DENIED = 1
EXIT_BAD_INPUT = 2
EXIT_STATE = 3
EXIT_INTERNAL = 4
#: stdout's reader went away (``riskdesk ... | head -1``): 128 + SIGPIPE, the status a shell
#: reports for the tools SIGPIPE stops.
EXIT_BROKEN_PIPE = 141

app = typer.Typer(
    name="riskdesk",
    help="The risk desk a trading bot calls before every order.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
