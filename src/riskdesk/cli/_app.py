"""The root Typer application every command module registers on."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

EXIT_OK = 0
EXIT_DENIED = 1
EXIT_BAD_INPUT = 2
EXIT_STATE = 3
EXIT_INTERNAL = 4
#: stdout's reader went away (``riskdesk ... | head -1``): 128 + SIGPIPE, the status a shell
#: reports for the tools SIGPIPE stops.
EXIT_BROKEN_PIPE = 141


def _stdout_file() -> tuple[int, int] | None:
    """The device and inode stdout writes to, or ``None`` where it is not a file."""
    try:
        st = os.fstat(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


class _Riskdesk(typer.Typer):
    """The ``riskdesk`` application: output whose reader went away ends with exit 141.

    The commands end so themselves (see ``riskdesk.cli._common.reader_gone``). The help
    pages are written by Typer and rich, whose answer to a broken pipe is exit 1 ("the desk
    said no"): rich first points stdout's file descriptor at ``/dev/null``, Click first
    replaces ``sys.stdout`` with a wrapper that ignores the broken pipe. Either sign, seen at
    the exit, makes it :data:`EXIT_BROKEN_PIPE`; nothing is printed.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        stream, before = sys.stdout, _stdout_file()
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as exc:
            if exc.code != EXIT_BROKEN_PIPE and (
                    sys.stdout is not stream
                    or (before is not None and _stdout_file() != before)):
                raise SystemExit(EXIT_BROKEN_PIPE) from None
            raise


app = _Riskdesk(
    name="riskdesk",
    help="The risk desk a trading bot calls before every order.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
