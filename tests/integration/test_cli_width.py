"""Tables written to a pipe or a file carry every cell in full, each row on one line.

A person copies ids, symbols and amounts out of ``riskdesk ... > file`` or ``| less``: no
cell may be cut short (``…``) or wrapped to a second line because there is no terminal to
measure. On a terminal the tables keep to its width, as rich draws them. The installed
``riskdesk`` runs in a child process, its stdout a pipe (or a pseudo-terminal) and no other
stream a terminal.
"""

from __future__ import annotations

import errno
import json
import os
import pty
import re
import struct
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from fcntl import ioctl
from pathlib import Path
from termios import TIOCSWINSZ

import pytest
from cli_support import cli_db

from riskdesk.config import RiskConfig
from riskdesk.desk import Desk
from riskdesk.domain import AccountState, MarketRules, MarketSnapshot, Side, Signal
from riskdesk.store import Store

RISKDESK = Path(sys.executable).with_name("riskdesk")
#: A symbol long enough that the journal's row cannot fit in 80 columns.
SYMBOL = "BTCUSDT-PERPETUAL-2026-12-25-QUARTERLY"
BIG = ["recommend", "--symbol", SYMBOL, "--price", "60000.123", "--bid", "60000.1",
       "--ask", "60000.2", "--equity", "500000000", "--score", "75", "--step", "0.00001",
       "--tick", "0.001"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def child_env(**extra: str) -> dict[str, str]:
    # No width given by the environment: what rich falls back to is what is tested.
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return {**env, **extra}


def piped(args: list[str]) -> str:
    """What ``riskdesk ARGS > file`` writes: stdout a pipe, no terminal anywhere."""
    done = subprocess.run([str(RISKDESK), *args], stdin=subprocess.DEVNULL,
                          capture_output=True, env=child_env(), timeout=120, check=False)
    assert done.returncode in (0, 1), done.stderr.decode()
    assert done.stderr == b""
    return done.stdout.decode()


def on_terminal(args: list[str], columns: int) -> str:
    """What ``riskdesk ARGS`` shows on a terminal ``columns`` wide."""
    leader, follower = pty.openpty()
    ioctl(follower, TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    try:
        child = subprocess.Popen([str(RISKDESK), *args], stdin=subprocess.DEVNULL,
                                 stdout=follower, stderr=subprocess.PIPE, env=child_env())
    finally:
        os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError as exc:  # the child closed its end
            if exc.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert child.stderr is not None
    stderr = child.stderr.read()
    child.stderr.close()
    assert child.wait(timeout=120) in (0, 1), stderr
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


def row_with(text: str, first: str) -> str:
    """The one table row whose first cell is ``first``."""
    (row,) = [line for line in text.splitlines()
              if line.strip("│┃ ").split("│")[0].strip() == first]
    return row


def test_recommend_tables_in_a_pipe_are_whole() -> None:
    decided = json.loads(piped([*BIG, "--json"]))
    text = piped(BIG)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) > 80  # wider than the fallback
    for action in decided["trail"]:
        # each step's row holds its whole note: nothing cut, nothing wrapped
        assert any(action["note"] in line and action["code"] in line
                   for line in text.splitlines()), (action, text)
    for key in ("quantity", "price", "notional"):
        assert decided[key] in row_with(text, key.replace("_", " ")), text
    assert any(SYMBOL in line for line in text.splitlines())  # the title's symbol whole


def test_journal_tail_in_a_pipe_prints_each_row_whole(tmp_path: Path) -> None:
    db = cli_db(tmp_path)
    now = datetime.now(UTC)
    rules = MarketRules(symbol=SYMBOL, step=Decimal("0.00001"), tick=Decimal("0.001"))
    market = MarketSnapshot(rules=rules, price=Decimal("60000.123"), bid=Decimal("60000.1"),
                            ask=Decimal("60000.2"), as_of=now)
    account = AccountState(equity=Decimal(500_000_000), available=Decimal(500_000_000),
                           as_of=now)
    signal = Signal(symbol=SYMBOL, side=Side.LONG, score=75)
    decision = Desk(RiskConfig.load("default")).recommend(signal, account, market, now=now)
    with Store.open(db) as store:
        store.journal_decision(decision, signal=signal, account=account, market=market,
                               config_name="default", request_id="wide-1")
    (entry,) = json.loads(piped(["journal", "tail", "--db", db, "--json"]))
    text = piped(["journal", "tail", "--db", db])
    assert "…" not in text
    row = row_with(text, str(entry["id"]))
    for cell in (SYMBOL, entry["quantity"], entry["notional"], entry["leverage"],
                 ", ".join(entry["reasons"])):
        assert cell in row, (cell, text)
    for header in ("decided (UTC)", "binding cap", "reasons"):
        assert header in text


def test_plan_in_a_pipe_prints_each_row_whole(tmp_path: Path) -> None:
    db = cli_db(tmp_path)
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets:\n  - {symbol: MSFT, target_weight: 0.0123456789}\n",
                       encoding="utf-8")
    text = piped(["plan", str(targets), "--db", db])
    assert "…" not in text
    (entry,) = json.loads(piped(["journal", "tail", "--db", db, "--json"]))
    row = row_with(text, "1")
    for cell in (entry["symbol"], entry["action"], entry["quantity"], entry["notional"],
                 ", ".join(entry["reasons"])):
        assert cell in row, (cell, text)
    assert "binding cap" in text
    assert "reasons" in text


@pytest.mark.parametrize("columns", [60, 80])
def test_on_a_terminal_tables_keep_to_its_width(columns: int) -> None:
    text = on_terminal(BIG, columns)
    lines = [line for line in text.splitlines() if line]
    assert lines
    assert max(len(line) for line in lines) <= columns, text
    assert "base_size" in text
