"""The documentation's examples, run as written.

**Python.** Every fenced ``python`` block of README.md and docs/*.md is one test. It runs in a
fresh namespace with a temporary working directory (a block that opens
``sqlite:///var/riskdesk.db`` gets a new SQLite file there) and no ``RISKDESK_*`` variables in
the environment. No document's blocks build on each other, so none share a namespace. Where a
statement that is an expression carries a comment giving its value (``expr  # 825.0``,
``expr  # -> 825.0``, ``expr  # a, b, c``, ``expr  # ... = 10048.8``), the value is checked,
numerically. Blocks that are fragments of a larger program get the names their surrounding
prose supplies from :data:`CONTEXT`, and files they read from :data:`FILES`; a block that talks
to an exchange gets the exchange's recorded replies from :data:`VENUES`. A block that cannot
run here at all would be listed in :data:`EXCLUDED` with the reason (and still compiled): none
is today.

**CLI.** Every ``riskdesk ...`` command line, in a fenced block of any language but
``python`` or in an inline code span, is checked against the command line itself: the
command (and subcommand) exists, ``riskdesk CMD --help`` succeeds, and every flag the line
uses is an option of that command, listed in its help. A line that names one command then
runs, in a temporary directory holding the demo database (:func:`riskdesk.demo.prepare` into
``var/riskdesk.db``, the default ``--db``): a concrete example must exit 0; a synopsis
(``[optional parts]``, ``PLACEHOLDERS``, ``a|b`` alternatives) runs with its optional flags
included, its placeholders filled from :data:`FLAG_VALUES` and :data:`ARGUMENTS` and the first
alternative taken, and must exit 0 or 1 (1 is the desk's answer, not a refusal of the command
line). Not run: a command named in prose without the arguments it requires (``riskdesk exits
plan``), alternatives of commands (``riskdesk config show|check``), and ``riskdesk serve``,
which would start a server. ``cmd | head -1`` runs ``cmd``. ``make ...`` and ``curl ...``
lines are out of scope. In docs/cli.md, the flags that each command's description lists must
be options of that command.
"""

from __future__ import annotations

import ast
import inspect
import io
import json
import os
import re
import shlex
import shutil
import textwrap
import tokenize
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from riskdesk.cli import app
from riskdesk.service import Service
from riskdesk.store import Store

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
_CLOSE = re.compile(r"^\s*```\s*$")
_SPAN = re.compile(r"`(riskdesk [^`]*)`")


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _fences(path: Path) -> Iterator[tuple[str, int, list[str], bool]]:
    """``(language, line of the first code line, code lines, fenced)`` of ``path``.

    Fenced blocks come with their code dedented to the fence; the prose between them comes
    line by line with ``fenced`` false, so inline spans can be read from it.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            yield "", i + 1, [lines[i]], False
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not _CLOSE.match(lines[j]):
            j += 1
        assert j < len(lines), f"{_name(path)}:{i + 1}: unclosed code fence"
        indent = len(m.group("indent"))
        body = [line[indent:] if not line[:indent].strip() else line
                for line in lines[i + 1:j]]
        yield m.group("lang"), i + 2, body, True
        i = j + 1


# ---------------------------------------------------------------------------------- python


@dataclass(frozen=True)
class Block:
    """One fenced ``python`` block."""

    doc: str
    index: int
    line: int
    source: str

    @property
    def key(self) -> tuple[str, int]:
        return self.doc, self.index

    @property
    def test_id(self) -> str:
        first = next((s for s in self.source.splitlines() if s.strip()), "")
        return f"{self.doc}#{self.index}:{first.strip()[:48]}"


def python_blocks() -> list[Block]:
    out = []
    for path in DOCUMENTS:
        index = 0
        for lang, line, body, fenced in _fences(path):
            if fenced and lang == "python":
                out.append(Block(_name(path), index, line, "\n".join(body) + "\n"))
                index += 1
    return out


#: Blocks that cannot run here: ``(document, block index) -> why``. They are still compiled.
EXCLUDED: dict[tuple[str, int], str] = {}


def _binance_usdm_from_recordings(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ccxt.binanceusdm(...)`` answers from recordings/binanceusdm, as in test_brokers_ccxt."""
    import ccxt
    from test_brokers_ccxt import Replay

    real = ccxt.binanceusdm

    def replaying(config: dict[str, Any]) -> Any:
        exchange = real(config)
        exchange.fetch = Replay(exchange, "binanceusdm")
        # Markets only: a live load_markets also reads the account's currencies (sapi).
        exchange.set_markets(exchange.fetch_markets())
        return exchange

    monkeypatch.setattr(ccxt, "binanceusdm", replaying)


#: Blocks that talk to an exchange: ``(document, block index) -> (why, stand-in)``.
VENUES: dict[tuple[str, int], tuple[str, Callable[[pytest.MonkeyPatch], None]]] = {
    ("docs/brokers.md", 0): ("connects to Binance with API keys: recorded replies instead of "
                             "the network and an account", _binance_usdm_from_recordings),
}

#: Fragments: ``(document, block index) -> (what the prose supplies, code defining it)``.
#: The code runs in the block's namespace, in its working directory, before the block.
CONTEXT: dict[tuple[str, int], tuple[str, str]] = {
    ("docs/brokers.md", 1): (
        "the protocol's definition, shown without its module's imports",
        """
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from riskdesk.brokers import OpenOrder, OrderBook
from riskdesk.domain import AccountState, MarketRules, Position
""",
    ),
    ("docs/reconciliation.md", 0): (
        "the desk's book (holding a position the broker no longer has), its broker (holding "
        "one nobody ordered), the desk, the store and the bot's order sender",
        """
from datetime import UTC, datetime
from decimal import Decimal
from riskdesk import Desk, RiskConfig
from riskdesk.brokers import PaperBroker
from riskdesk.domain import MarketRules, Position
from riskdesk.reconcile import Book
from riskdesk.store import Store

store = Store.open("sqlite:///var/riskdesk.db", migrate=True)
broker = PaperBroker(store, [MarketRules("BTCUSDT", step=Decimal("0.001"), tick=Decimal("0.1"))],
                     starting_cash=Decimal(10_000))
broker.fill("BTCUSDT", "BUY", "0.05", "60000.0", fee_rate="0", fill_id="manual-1",
            now=datetime.now(UTC))
book = Book((Position("ETHUSDT", "LONG", Decimal(2), Decimal(3000)),))
desk = Desk(RiskConfig.preset("default", env={}))
sent = []
send = sent.append
""",
    ),
    ("docs/store.md", 0): (
        "a decision with its signal, account and market, and the account's limits (bp, cap, "
        "exposure)",
        """
from datetime import UTC, datetime
from decimal import Decimal
from riskdesk import AccountState, Desk, MarketRules, MarketSnapshot, RiskConfig, Signal

now = datetime.now(UTC)
rules = MarketRules("BTCUSDT", step="0.001", tick="0.1", min_qty="0.001", min_notional="5",
                    max_leverage="50")
market = MarketSnapshot(rules, price="50000", bid="49999.9", ask="50000.1", atr="1000",
                        as_of=now)
account = AccountState(equity="20000", available="20000", as_of=now)
signal = Signal("BTCUSDT", "LONG", score=75)
decision = Desk(RiskConfig.preset("crypto-capital-manager", env={})).recommend(
    signal, account, market, now=now)
bp, cap, exposure = account.available * 5, account.equity * 3, Decimal(0)
""",
    ),
}

#: A configuration file, as the examples name it (``desk.yaml``).
DESK_YAML = """\
extends: crypto-capital-manager
kelly:
  clip_max: 0.2
"""

#: Files a block reads from its working directory: ``(document, block index) -> {name: text}``.
FILES: dict[tuple[str, int], dict[str, str]] = {
    ("docs/configuration.md", 0): {"desk.yaml": DESK_YAML},
}


def _check_broker_protocol(ns: dict[str, Any]) -> None:
    """The protocol as documented is the protocol as defined."""
    from riskdesk.brokers import Broker

    documented = ns["Broker"]
    methods = {n for n, v in vars(Broker).items() if callable(v) and not n.startswith("_")}
    shown = {n for n, v in vars(documented).items() if callable(v) and not n.startswith("_")}
    assert shown == methods
    assert typing.get_type_hints(documented) == typing.get_type_hints(Broker)
    for name in sorted(methods):
        real, doc = getattr(Broker, name), getattr(documented, name)
        assert inspect.signature(doc).parameters.keys() == inspect.signature(real).parameters.keys()
        assert [p.default for p in inspect.signature(doc).parameters.values()] == \
               [p.default for p in inspect.signature(real).parameters.values()], name
        assert typing.get_type_hints(doc, globalns=ns) == typing.get_type_hints(real), name


def _check_ccxt(ns: dict[str, Any]) -> None:
    """The recorded account and book came through the documented calls."""
    assert [p.symbol for p in ns["account"].positions] == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert ns["account"].as_of == ns["now"]
    assert ns["rules"].step == Decimal("0.001")
    assert ns["snapshot"].bid == ns["book"].best_bid
    assert len(ns["book"].bids) == 5


def _check_reconciliation(ns: dict[str, Any]) -> None:
    """The unknown position is being closed, the missing one halted the desk."""
    report = ns["report"]
    assert sorted(f.kind.value for f in report.findings) == ["MISSING_POSITION",
                                                             "UNKNOWN_POSITION"]
    assert ns["sent"] == list(report.actions)
    [close] = ns["sent"]
    assert close.symbol == "BTCUSDT"
    assert close.reduce_only
    assert report.halt
    assert ns["desk"].state.trading_state.value == "HALTED"
    # FLATTEN takes the exposure on until the close fills; HALT keeps the book's own value.
    assert sorted(p.symbol for p in ns["book"].positions) == ["BTCUSDT", "ETHUSDT"]


def _check_store(ns: dict[str, Any]) -> None:
    assert ns["row_id"] >= 1
    assert ns["held"] is not None, "the reservation was refused"


#: Checks run on a block's namespace after it ran: ``(document, block index) -> check``.
AFTER: dict[tuple[str, int], Callable[[dict[str, Any]], None]] = {
    ("docs/brokers.md", 0): _check_ccxt,
    ("docs/brokers.md", 1): _check_broker_protocol,
    ("docs/reconciliation.md", 0): _check_reconciliation,
    ("docs/store.md", 0): _check_store,
}

_NUMBER = re.compile(r"^[-+]?\d[\d_]*(\.\d*)?([eE][-+]?\d+)?$")


def stated_values(source: str) -> dict[int, tuple[str, ...]]:
    """Line -> the values a trailing comment gives (``# 1, 2``, ``# -> 1`` or ``# ... = 3``)."""
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.COMMENT:
            continue
        text = tok.string.lstrip("#").strip()
        text = re.split(r"=|->", text)[-1]
        values = tuple(v.strip() for v in text.split(","))
        if all(_NUMBER.match(v) for v in values):
            out[tok.start[0]] = values
    return out


class _StatedValues(ast.NodeTransformer):
    """Turns ``expr  # value`` into ``__doc_expect__(expr, ("value",), line)``."""

    def __init__(self, values: dict[int, tuple[str, ...]]) -> None:
        self.values = values
        self.used: set[int] = set()

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        line = node.end_lineno or node.lineno
        if line not in self.values:
            return node
        self.used.add(line)
        call = ast.Call(ast.Name("__doc_expect__", ast.Load()),
                        [node.value, ast.Constant(self.values[line]), ast.Constant(line)], [])
        return ast.copy_location(ast.Expr(call), node)


def compile_block(block: Block) -> tuple[Any, int]:
    """The block's code object (line numbers are the document's) and how many values it checks."""
    tree = ast.parse(block.source)
    stated = _StatedValues(stated_values(block.source))
    tree = ast.fix_missing_locations(stated.visit(tree))
    ast.increment_lineno(tree, block.line - 1)
    return compile(tree, str(ROOT / block.doc), "exec"), len(stated.used)


def _expect(doc: str, first_line: int) -> Callable[[Any, tuple[str, ...], int], None]:
    def check(value: Any, expected: tuple[str, ...], line: int) -> None:
        got = value if isinstance(value, tuple) else (value,)
        where = f"{doc}:{first_line + line - 1}"
        assert len(got) == len(expected), f"{where}: {got!r}, the comment says {expected}"
        for g, e in zip(got, expected, strict=True):
            try:
                same = Decimal(str(g)) == Decimal(e)
            except InvalidOperation:
                same = False
            assert same, f"{where}: {g!r}, the comment says {e}"
    return check


@pytest.fixture
def clean_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working directory and an environment without ``RISKDESK_*`` settings."""
    for name in list(os.environ):
        if name.startswith("RISKDESK"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _close_all(ns: dict[str, Any]) -> None:
    for value in ns.values():
        if isinstance(value, (Store, Service)):
            value.close()


@pytest.mark.parametrize("block", python_blocks(), ids=lambda b: b.test_id)
def test_python_example(block: Block, clean_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _ = compile_block(block)
    if block.key in EXCLUDED:
        pytest.skip(reason=f"compiled only: {EXCLUDED[block.key]}")
    if block.key in VENUES:
        VENUES[block.key][1](monkeypatch)
    for name, text in FILES.get(block.key, {}).items():
        (clean_cwd / name).write_text(text, encoding="utf-8")
    ns: dict[str, Any] = {"__name__": "__doc_example__",
                          "__doc_expect__": _expect(block.doc, block.line)}
    try:
        if block.key in CONTEXT:
            exec(textwrap.dedent(CONTEXT[block.key][1]), ns)
        exec(code, ns)
        if block.key in AFTER:
            AFTER[block.key](ns)
    finally:
        _close_all(ns)


def test_python_tables_name_real_blocks() -> None:
    """Every exception names an existing block, and the value comments are being read."""
    blocks = {b.key: b for b in python_blocks()}
    assert blocks, "no python blocks found"
    tables: list[dict[tuple[str, int], Any]] = [EXCLUDED, CONTEXT, FILES, VENUES, AFTER]
    for table in tables:
        assert set(table) <= set(blocks), set(table) - set(blocks)
    assert not set(EXCLUDED) & (set(CONTEXT) | set(FILES) | set(VENUES) | set(AFTER))
    checked = sum(compile_block(b)[1] for b in blocks.values())
    assert checked >= 3, "the `expr  # value` comments of exits.md, sizing.md and brokers.md"


def test_stated_values_parser() -> None:
    source = ("x = 1  # 1\nx  # 1.0\nx, x  # 1, 1.00\nx  # 2 - 1 = 1\nx  # e.g. ONE\n"
              "x  # the count\nx  # -> 1\n")
    assert stated_values(source) == {1: ("1",), 2: ("1.0",), 3: ("1", "1.00"), 4: ("1",),
                                     7: ("1",)}
    tree = _StatedValues(stated_values(source))
    tree.visit(ast.parse(source))
    assert tree.used == {2, 3, 4, 7}  # line 1 is an assignment, not a stated value
    ns: dict[str, Any] = {"__doc_expect__": _expect("doc.md", 1)}
    exec(compile(ast.fix_missing_locations(_StatedValues({1: ("2",)}).visit(
        ast.parse("1 + 1  # 2\n"))), "doc.md", "exec"), ns)
    with pytest.raises(AssertionError, match="the comment says 3"):
        exec(compile(ast.fix_missing_locations(_StatedValues({1: ("3",)}).visit(
            ast.parse("1 + 1  # 3\n"))), "doc.md", "exec"), ns)


# ------------------------------------------------------------------------------------- CLI


@dataclass(frozen=True)
class CliLine:
    """One ``riskdesk ...`` command line of the documentation."""

    doc: str
    line: int
    text: str
    fenced: bool

    @property
    def test_id(self) -> str:
        return f"{self.doc}:{self.line}:{self.text[:60]}"


def _paragraphs(path: Path) -> Iterator[tuple[int, str]]:
    """The prose of ``path`` by paragraph: ``(first line, text)``; fenced code left out."""
    first, text = 0, ""
    for _, line, body, fenced in _fences(path):
        if fenced or not body[0].strip():
            if text:
                yield first, text
            first, text = 0, ""
        elif not text:
            first, text = line, body[0]
        else:
            text += "\n" + body[0]
    if text:
        yield first, text


def cli_lines() -> list[CliLine]:
    out = []
    for path in DOCUMENTS:
        for first, text in _paragraphs(path):
            # A code span may wrap onto the next line (dashboard.md's `riskdesk keys create`).
            out += [CliLine(_name(path), first + text.count("\n", 0, m.start()),
                            " ".join(m.group(1).replace("\\|", "|").split()), False)
                    for m in _SPAN.finditer(text)]
        for lang, line, body, fenced in _fences(path):
            if fenced and lang != "python":
                joined: list[tuple[int, str]] = []
                for k, raw in enumerate(body):
                    text = raw.strip().removeprefix("$ ")
                    if joined and joined[-1][1].endswith("\\"):
                        joined[-1] = (joined[-1][0], joined[-1][1][:-1].rstrip() + " " + text)
                    else:
                        joined.append((line + k, text))
                out += [CliLine(_name(path), n, t, True) for n, t in joined
                        if t.startswith("riskdesk ")]
    return out


_ROOT_COMMAND = typer.main.get_command(app)
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
#: The words the docs use for "a value goes here" (other upper-case words, such as AAPL or
#: SHORT, are values).
PLACEHOLDERS = frozenset({"A", "E", "FILE", "ID", "ISO", "KEY_ID", "N", "NAME", "P", "PRESET",
                          "Q", "REF", "S", "URL"})


@dataclass(frozen=True)
class Shape:
    """A command line read against the CLI: the command(s) it names and what follows."""

    commands: tuple[tuple[tuple[str, ...], Any], ...]
    rest: tuple[str, ...]
    synopsis: bool


def read_shape(text: str) -> Shape:
    """Resolve ``text`` (``riskdesk a b --flag ...``) to the command(s) it names."""
    command = text.split(" | ")[0].strip()  # `riskdesk journal tail --json | head -1`
    synopsis = bool(_BRACKETS.search(command))
    # Optional parts: keep flags (`[--json]`, `[-n 20]`), drop prose (`[market flags]`).
    command = _BRACKETS.sub(lambda m: m.group(1) if m.group(1).startswith("-") else "", command)
    words = shlex.split(command)
    assert words[0] == "riskdesk", text
    found: list[tuple[tuple[str, ...], Any]] = []
    rest: tuple[str, ...] = ()

    def walk(cmd: Any, path: tuple[str, ...], i: int) -> None:
        nonlocal rest
        if _is_group(cmd) and i < len(words):
            names = words[i].split("|")
            missing = [n for n in names if n not in cmd.commands]
            assert not missing, f"{text}: `riskdesk {' '.join(path)}` has no command {missing}"
            for n in names:
                walk(cmd.commands[n], (*path, n), i + 1)
            return
        assert not _is_group(cmd), f"{text}: `riskdesk {' '.join(path)}` needs a command"
        found.append((path, cmd))
        rest = tuple(words[i:])

    walk(_ROOT_COMMAND, (), 1)
    synopsis = synopsis or len(found) > 1 or any(
        w in PLACEHOLDERS or ("|" in w and not w.startswith("-")) for w in rest)
    return Shape(tuple(found), rest, synopsis)


def _is_group(cmd: Any) -> bool:
    return hasattr(cmd, "commands")


def _options(cmd: Any) -> dict[str, Any]:
    """The command's options by every name they answer to (``--stop-price``, ``--stop``)."""
    return {opt: p for p in cmd.params if p.param_type_name == "option"
            for opt in (*p.opts, *p.secondary_opts)}


def _flags(words: tuple[str, ...]) -> list[str]:
    return [w.split("=")[0] for w in words if re.match(r"^--?[A-Za-z]", w)]


runner = CliRunner()
WIDE = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}


def _help(path: tuple[str, ...]) -> str:
    r = runner.invoke(app, [*path, "--help"], env=WIDE)
    assert r.exit_code == 0, f"riskdesk {' '.join(path)} --help: {r.output}"
    return r.output


def check_flags(text: str, path: tuple[str, ...], cmd: Any,
                flags: list[str]) -> None:
    options = _options(cmd)
    page = _help(path)
    for flag in flags:
        if flag == "--help":
            continue
        assert flag in options, f"{text}: `riskdesk {' '.join(path)}` has no option {flag}"
        assert not options[flag].hidden, f"{text}: {flag} is hidden"
        assert flag in page, f"{text}: {flag} is not in `riskdesk {' '.join(path)} --help`"


#: What a placeholder after a flag stands for when a synopsis runs.
FLAG_VALUES = {
    "--symbol": "AAPL", "--side": "LONG", "--price": "430.47", "--equity": "100000",
    "--entry": "430.47", "--quantity": "2", "--stop-price": "421.87", "--stop": "421.87",
    "--atr": "6.2", "--opened-at": "2013-03-01T21:00:00+00:00",
    "--since": "2013-03-01T00:00:00+00:00", "--db": "sqlite:///var/riskdesk.db",
    "--config": "default", "--preset": "default", "--before": "1000000",
}

#: What a positional placeholder stands for, by command.
ARGUMENTS = {
    (("config", "show"), "PRESET"): "crypto-capital-manager",
    (("config", "check"), "FILE"): "desk.yaml",
    (("plan",), "FILE"): "targets.yaml",
    (("keys", "create"), "NAME"): "bot",
    (("keys", "revoke"), "KEY_ID"): "{read_key_id}",
}

TARGETS_YAML = """\
targets:
  - {symbol: AAPL, target_weight: 0.01}
  - {symbol: MSFT, target_weight: 0.02, price: 27.95}
"""


def instantiate(path: tuple[str, ...], rest: tuple[str, ...], known: dict[str, str]
                ) -> list[str]:
    """The words of a runnable command line: placeholders filled, first alternatives taken."""
    argv: list[str] = [*path]
    for i, word in enumerate(rest):
        after = rest[i - 1] if i else ""
        if word in PLACEHOLDERS:
            if after.startswith("-"):
                assert after in FLAG_VALUES, f"add a value for {after} to FLAG_VALUES"
                word = FLAG_VALUES[after]
            else:
                assert (path, word) in ARGUMENTS, f"add {(path, word)} to ARGUMENTS"
                word = ARGUMENTS[path, word].format(**known)
        elif "|" in word and not word.startswith("-"):
            word = word.split("|")[0]
        argv.append(word)
    return argv


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The demo database, prepared once (each test works on its own copy)."""
    from riskdesk.demo import prepare

    root = tmp_path_factory.mktemp("doc-demo")
    url, *_ = prepare(root / "var" / "riskdesk.db")
    with Store.open(url) as store:
        keys = {k.name: k.key_id for k in store.list_api_keys()}
    return root, {"read_key_id": keys["demo-dashboard"]}


@pytest.fixture
def demo_cwd(clean_cwd: Path, demo_template: tuple[Path, dict[str, str]]
             ) -> tuple[Path, dict[str, str]]:
    """The working directory with the demo database at ``var/riskdesk.db`` and two files."""
    template, known = demo_template
    shutil.copytree(template / "var", clean_cwd / "var")
    (clean_cwd / "desk.yaml").write_text(DESK_YAML, encoding="utf-8")
    (clean_cwd / "targets.yaml").write_text(TARGETS_YAML, encoding="utf-8")
    return clean_cwd, known


@pytest.mark.parametrize("line", cli_lines(), ids=lambda c: c.test_id)
def test_cli_example(line: CliLine, demo_cwd: tuple[Path, dict[str, str]]) -> None:
    shape = read_shape(line.text)
    for path, cmd in shape.commands:
        check_flags(line.text, path, cmd, _flags(shape.rest))
    if len(shape.commands) != 1:
        return  # alternatives of commands: nothing to run
    path, cmd = shape.commands[0]
    if not shape.rest and any(p.required for p in cmd.params):
        return  # a command named in prose (`riskdesk exits plan`), not a command line
    if path[0] == "serve":
        return  # starts a server: checked above, never run
    argv = instantiate(path, shape.rest, demo_cwd[1])
    r = runner.invoke(app, argv)
    allowed = (0, 1) if shape.synopsis else (0,)
    assert r.exit_code in allowed, \
        f"riskdesk {shlex.join(argv)} -> exit {r.exit_code}: {r.stdout}{r.stderr}"
    if "--json" in argv and r.stdout:
        json.loads(r.stdout)


def _cli_md_entries() -> list[tuple[int, list[str], list[str]]]:
    """docs/cli.md's commands: ``(line, command spans, flags named in the description)``."""
    lines = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("## Commands")
    entries: list[tuple[int, list[str], list[str]]] = []
    head = True
    for n, raw in enumerate(lines[start + 1:], start + 2):
        if raw.startswith("`riskdesk "):
            if not head or not entries:
                entries.append((n, [], []))
            head = True
        elif raw.startswith(": "):
            head = False
        elif raw.startswith("  ```"):
            continue
        if not entries:
            continue
        spans = [m.replace("\\|", "|") for m in re.findall(r"`([^`]*)`", raw)]
        if head:
            entries[-1][1].extend(s for s in spans if s.startswith("riskdesk "))
        else:
            entries[-1][2].extend(s.split()[0] for s in spans if re.match(r"^--[a-z]", s))
    return entries


@pytest.mark.parametrize("entry", _cli_md_entries(), ids=lambda e: e[1][0][:40])
def test_cli_md_descriptions_name_real_flags(entry: tuple[int, list[str], list[str]]) -> None:
    _, commands, flags = entry
    options: set[str] = set()
    for text in commands:
        for _, cmd in read_shape(text).commands:
            options |= set(_options(cmd))
    missing = [f for f in flags if f not in options]
    assert not missing, f"docs/cli.md: {commands[0]}: no such option {missing}"


def test_cli_collection() -> None:
    lines = cli_lines()
    assert sum(c.fenced for c in lines) >= 2, "the fenced examples of docs/cli.md"
    assert {c.doc for c in lines} >= {"README.md", "docs/cli.md"}
    entries = _cli_md_entries()
    assert len(entries) >= 8
    assert all(e[1] for e in entries)
    assert sum(len(e[2]) for e in entries) >= 20, "recommend's and exits plan's flag lists"
