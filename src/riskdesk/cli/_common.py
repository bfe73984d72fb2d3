"""Shared pieces of the command modules: options, output and exit codes."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.protocol import is_renderable
from rich.text import Text

from riskdesk.cli._app import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_DENIED,
    EXIT_INTERNAL,
    EXIT_STATE,
)
from riskdesk.config import RiskConfig
from riskdesk.errors import (
    BrokerError,
    ComputationError,
    ConfigError,
    ConflictError,
    InvalidInputError,
    StateError,
    StoreUnavailableError,
    UnknownSymbolError,
)
from riskdesk.service import Service, Settings
from riskdesk.service._json import jsonable
from riskdesk.service._settings import DEFAULT_DB, ENV_CONFIG, ENV_DB
from riskdesk.store._engine import checked_url, is_memory_sqlite

P = ParamSpec("P")
R = TypeVar("R")


def reader_gone() -> typer.Exit:
    """Stop quietly: the reader of stdout went away (``riskdesk ... | head -1``); the exit.

    Python's recipe for SIGPIPE: stdout is pointed at ``/dev/null`` so that the interpreter's
    final flush of what is still buffered does not fail again. The exit code is
    :data:`EXIT_BROKEN_PIPE`, as for a tool stopped by SIGPIPE; nothing is printed.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return typer.Exit(EXIT_BROKEN_PIPE)  # not a file (a test runner's capture)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
    return typer.Exit(EXIT_BROKEN_PIPE)


#: The widest line measured for output that is not going to a terminal.
_NO_TERMINAL_MAX_WIDTH = 1 << 16


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # Rich's default exits 1, which is "the desk said no" here.
        self.quiet = True
        raise reader_gone()

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """Print as rich does; where no terminal reads it, as wide as the output needs.

        A pipe or a file has no width to keep to, and rich's fallback of 80 columns would
        cut table cells short (``…``) or wrap them: ids and amounts a person copies. There
        the console is as wide as the widest line of ``objects``, every cell in full, each
        row on one line. On a terminal, rich keeps to the terminal's width.
        """
        if self.is_terminal:
            super().print(*objects, **kwargs)
            return
        unbounded = self.options.update_width(_NO_TERMINAL_MAX_WIDTH)
        needed = max((Measurement.get(self, unbounded, o).maximum
                      for o in objects if is_renderable(o)), default=0)
        if needed <= self.width:
            super().print(*objects, **kwargs)
            return
        given = self._width
        self._width = needed
        try:
            super().print(*objects, **kwargs)
        finally:
            self._width = given


# User text (symbols, key names, file names, values in messages) is printed as given: no
# console markup, no emoji codes.
out = _Console(highlight=False, markup=False, emoji=False)
err = _Console(stderr=True, highlight=False, markup=False, emoji=False)


def _set_variable(variable: str) -> Callable[[typer.Context, typer.CallbackParam, str], str]:
    """A flag's check that ``variable``, read in the flag's place, is not set to nothing.

    Click reads an empty variable as unset, so ``RISKDESK_DB_URL=$PROD`` with ``PROD`` unset
    would read, or revoke keys in, the local default database; like an empty ``--config``,
    it is refused (exit 2).
    """

    def check(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
        source = None if param.name is None else ctx.get_parameter_source(param.name)
        raw = os.environ.get(variable)
        if (source is not None and source.name in ("DEFAULT", "ENVIRONMENT")
                and raw is not None and not raw.strip()):
            refusal = InvalidInputError(variable, raw, "a value, or the variable unset for "
                                                       "the default")
            raise exit_with("error", str(refusal), EXIT_BAD_INPUT)
        return value

    return check


DbOption = typer.Option(DEFAULT_DB, "--db", envvar=ENV_DB, callback=_set_variable(ENV_DB),
                        help="Database URL (sqlite:///file.db or postgresql://...).")
ConfigOption = typer.Option("default", "--config", envvar=ENV_CONFIG,
                            callback=_set_variable(ENV_CONFIG),
                            help="Preset name or YAML file of the risk configuration.")
JsonOption = typer.Option(False, "--json", help="Print JSON for scripts.")
# The market's rules and the configuration of the offline commands (recommend, exits plan).
StepOption = typer.Option("1", help="Quantity step of the market.")
TickOption = typer.Option("0.01", help="Price tick of the market.")
MinQtyOption = typer.Option("0", help="Smallest order quantity of the market.")
MinNotionalOption = typer.Option("0", help="Smallest order notional of the market.")
PresetOption = typer.Option(None, help="A preset name.")
ConfigFileOption = typer.Option(None, "--config", help="A YAML configuration file.")

__all__ = ["EXIT_DENIED", "check_config", "config_ref", "exit_with", "exits", "flag_names",
           "one_line", "open_service", "plain_number", "print_json"]


def one_line(text: str) -> str:
    """``text`` on a single line: every run of whitespace, line breaks included, is one space."""
    return " ".join(text.split())


def plain_number(value: float) -> str:
    """``value`` to 10 significant digits in plain notation: ``5000000``, never ``5e+06``."""
    number = Decimal(f"{value:.10g}")
    return "0" if number == 0 else format(number, "f")


@contextmanager
def flag_names(names: Mapping[str, str]) -> Iterator[None]:
    """Refusals of the fields in ``names`` (``{"rules.step": "--step"}``) name the flag.

    The objects a command builds from its flags check their fields under their own names
    (``rules.step``); the person at the command line knows the flag.
    """
    try:
        yield
    except InvalidInputError as exc:
        flag = names.get(exc.field)
        if flag is None:
            raise
        value = str(exc.value) if isinstance(exc.value, Decimal | float) else exc.value
        expected = exc.expected
        for field in sorted((f for f in names if "." in f), key=len, reverse=True):
            expected = expected.replace(field, names[field])  # "<= market.ask (...)"
        raise InvalidInputError(flag, value, expected) from None


def exit_with(label: str, message: str, code: int) -> typer.Exit:
    """Print ``label: message`` as one unwrapped line on stderr; the exit to raise."""
    err.print(Text.assemble((f"{label}:", "red"), " ", one_line(message)), soft_wrap=True)
    return typer.Exit(code)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON (Decimals as strings)."""
    typer.echo(json.dumps(jsonable(value), indent=2))


def exits(fn: Callable[P, R]) -> Callable[P, R]:
    """Map riskdesk errors to the documented exit codes with a one-line message.

    A symbol the broker does not list (:class:`UnknownSymbolError`, a :class:`StateError`
    by class) is bad input, exit 2 as the HTTP API's 422: asking again cannot succeed.
    A reader of stdout that went away ends the command quietly (see :func:`reader_gone`).
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (InvalidInputError, ConfigError, ComputationError) as exc:
            raise exit_with("error", str(exc), EXIT_BAD_INPUT) from None
        except UnknownSymbolError as exc:
            raise exit_with("error", f"unknown symbol: {exc}", EXIT_BAD_INPUT) from None
        except BrokenPipeError:
            raise reader_gone() from None
        except StoreUnavailableError as exc:
            # One line, the driver's words as they are: retry later.
            raise exit_with("store unavailable", exc.reason, EXIT_STATE) from None
        except (StateError, BrokerError, ConflictError) as exc:
            raise exit_with("state unavailable", str(exc), EXIT_STATE) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise exit_with("internal error", f"{type(exc).__name__}: {exc}", EXIT_INTERNAL
                            ) from exc

    return wrapper


@contextmanager
def open_service(db: str, config: str = "default", *, create: bool = False
                 ) -> Iterator[Service]:
    """A service on ``db``.

    The configuration is checked before the database is touched (a bad ``--config`` is
    exit 2, never 3). A database that cannot be opened raises
    :class:`StoreUnavailableError`, which :func:`exits` turns into exit code 3. So does a
    SQLite file that does not exist, unless ``create``: a mistyped path must not be answered
    from a new, empty database.
    """
    check_config(config)
    if not create:
        _require_sqlite_file(db)
    service = Service.open(Settings(db_url=db, config=config))
    try:
        yield service
    finally:
        service.close()


def check_config(config: str) -> None:
    """Refuse a configuration that cannot be used, before any database is touched (exit 2)."""
    _require_ref(config, "--config")
    RiskConfig.load(config)


def _require_sqlite_file(db: str) -> None:
    url = checked_url(db)  # a URL that cannot be used is refused as such first
    if url.get_backend_name() != "sqlite" or is_memory_sqlite(url) or not url.database:
        return
    path = Path(url.database).expanduser()
    if not path.exists():
        raise StoreUnavailableError(
            f"no database at {path} (riskdesk serve or python -m riskdesk.demo creates one)")


def config_ref(preset: str | None, config: str | None) -> str:
    """The configuration ``--preset`` or ``--config`` names (default: the ``default`` preset).

    An empty value is refused rather than read as "not given": ``--config "$UNSET"`` must not
    decide under the default preset.
    """
    if preset is not None and config is not None:
        raise InvalidInputError("--preset", preset, "either --preset or --config, not both")
    _require_ref(preset, "--preset")
    _require_ref(config, "--config")
    return config if config is not None else preset if preset is not None else "default"


def _require_ref(ref: str | None, flag: str) -> None:
    if ref is not None and not ref.strip():
        raise InvalidInputError(flag, ref, "a preset name or a configuration file")


def parse_time(text: str, field: str) -> datetime:
    """An ISO 8601 time with a zone from a command-line value, or an error naming ``field``."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(field, text, "an ISO 8601 time") from None
    if when.tzinfo is None:
        raise InvalidInputError(field, text, "a time with a zone (e.g. ...Z)")
    return when
