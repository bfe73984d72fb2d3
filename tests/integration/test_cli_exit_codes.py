"""The exit codes of docs/cli.md, command by command.

| code | meaning |
|---:|---|
| 0 | success (for ``recommend``: an order may be sent) |
| 1 | the desk said no (``recommend``: REJECT / HOLD; ``reconcile``: local and broker differ) |
| 2 | bad input or bad configuration (the message names the flag or key) |
| 3 | state unavailable: database or broker unreachable, missing or stale state |
| 4 | internal error |
| 141 | stdout's reader went away (output piped into ``head -1``; see test_cli_pipe.py) |

With ``--json`` a result (codes 0 and 1) is one JSON document on stdout; a refusal (2, 3, 4)
leaves stdout empty and says why on stderr, without a traceback.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import REC, broker_holds_unknown_position, runner
from typer.testing import Result

from riskdesk.cli import app
from riskdesk.demo import PAPER_BOOK, paper_service
from riskdesk.desk import Desk
from riskdesk.service import Service
from riskdesk.store import Store

EXITS = ["exits", "plan", "--symbol", "AAPL", "--side", "LONG", "--entry", "430.47",
         "--quantity", "10"]
NOWHERE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"

FILES = {
    "ok.yaml": "targets:\n  - {symbol: AAPL, target_weight: 0.02}\n",
    "empty.yaml": "",
    "nan.yaml": "targets:\n  - {symbol: AAPL, target_weight: .nan}\n",
    "inf.json": '{"targets": [{"symbol": "AAPL", "target_weight": 1e999}]}',
    "broken.json": '{"targets": [',
    "unknown.yaml": "targets:\n  - {symbol: ZZZZ, target_weight: 0.02}\n",
    "config.yaml": "exits: {stop_pct: lots}\n",
    "notyaml.yaml": "exits: [1, 2\n",
}

# (arguments, exit code, names): ``{db}`` is a seeded paper account, ``{differs}`` one whose
# broker holds a position its book does not know, ``{empty}`` a database without an account,
# ``{tmp}`` the folder of FILES. ``names`` must appear in the refusal's message.
CASES: list[tuple[list[str], int, str]] = [
    ([*REC, "--json"], 0, ""),
    ([*REC, "--preset", "default"], 0, ""),
    ([*EXITS, "--json"], 0, ""),
    (["state", "--db", "{db}", "--json"], 0, ""),
    (["journal", "tail", "--db", "{db}", "--json"], 0, ""),
    (["keys", "list", "--db", "{db}", "--json"], 0, ""),
    (["reconcile", "--db", "{db}", "--json"], 0, ""),
    (["plan", "{tmp}/ok.yaml", "--db", "{db}", "--json"], 0, ""),
    (["config", "check", "default"], 0, ""),
    (["config", "presets"], 0, ""),
    ([*REC[:-4], "--json"], 1, ""),  # no bid/ask: the spread guard says REJECT
    ([*REC, "--available", "0", "--json"], 1, ""),
    (["reconcile", "--db", "{differs}", "--json"], 1, ""),
    (["reconcile", "--db", "{differs}"], 1, ""),
    ([REC[0], *REC[3:]], 2, "--symbol"),
    ([*REC, "--price", "nan"], 2, "--price"),
    ([*REC, "--equity", "-1"], 2, "--equity"),
    ([*REC, "--score", "inf"], 2, "score"),
    ([*REC, "--no-such-flag", "1"], 2, "--no-such-flag"),
    ([*REC, "--preset", "no-such-preset", "--json"], 2, "no-such-preset"),
    ([*REC, "--config", "{tmp}/config.yaml", "--json"], 2, "stop_pct"),
    ([*REC, "--config", "{tmp}/notyaml.yaml", "--json"], 2, "notyaml.yaml"),
    ([*EXITS, "--atr", "inf", "--json"], 2, "--atr"),
    (["plan", "{tmp}/missing.yaml", "--db", "{db}", "--json"], 2, "missing.yaml"),
    (["plan", "{tmp}/empty.yaml", "--db", "{db}", "--json"], 2, "targets"),
    (["plan", "{tmp}/nan.yaml", "--db", "{db}", "--json"], 2, "targets[0].target_weight"),
    (["plan", "{tmp}/inf.json", "--db", "{db}", "--json"], 2, "targets[0].target_weight"),
    (["plan", "{tmp}/broken.json", "--db", "{db}", "--json"], 2, "broken.json"),
    (["plan", "{tmp}/ok.yaml", "--db", "{db}", "--config", "nope", "--json"], 2, "nope"),
    (["journal", "tail", "-n", "0", "--db", "{db}", "--json"], 2, "--limit"),
    (["journal", "tail", "--since", "2024-01-01T00:00:00", "--db", "{db}"], 2, "since"),
    (["journal", "tail", "--db", "not a url", "--json"], 2, "not a url"),
    (["journal", "tail", "--db", "mysql://x/y", "--json"], 2, "mysql"),
    (["keys", "revoke", "no-such-key", "--db", "{db}", "--json"], 2, "key_id"),
    (["keys", "create", "bot", "--scope", "root", "--db", "{db}", "--json"], 2, "--scope"),
    (["reconcile", "--policy", "bogus", "--db", "{db}", "--json"], 2, "policy"),
    (["config", "check", "{tmp}/config.yaml"], 2, "stop_pct"),
    (["config", "show", "{tmp}/missing.yaml"], 2, "missing.yaml"),
    (["serve", "--log-level", "BOGUS", "--db", "{db}"], 2, "--log-level"),
    (["serve", "--workers", "0", "--db", "{db}"], 2, "--workers"),
    (["state", "--db", NOWHERE, "--json"], 3, "store unavailable"),
    (["keys", "list", "--db", NOWHERE, "--json"], 3, "store unavailable"),
    (["plan", "{tmp}/ok.yaml", "--db", "{empty}", "--json"], 3, "paper account"),
    (["plan", "{tmp}/unknown.yaml", "--db", "{db}", "--json"], 2, "ZZZZ"),
]


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    paper_service(db, {"AAPL": Decimal("430.47")}, book=PAPER_BOOK).close()
    differs = f"sqlite:///{tmp_path / 'differs.db'}"
    broker_holds_unknown_position(differs)  # a position the service's book has never seen
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    Store.open(empty, migrate=True).close()
    return {"db": db, "differs": differs, "empty": empty,
            "tmp": str(tmp_path)}


def run(args: list[str], places: dict[str, str]) -> Result:
    return runner.invoke(app, [a.format(**places) for a in args])


def is_usage_error(r: Result) -> bool:
    """Click's own refusals (unknown or missing flags, values out of range)."""
    return r.stderr.startswith("Usage:")


IDS = [f"{i:02d}-exit{code}-{'-'.join(args[:2])}" for i, (args, code, _) in enumerate(CASES)]


@pytest.mark.parametrize(("args", "code", "names"), CASES, ids=IDS)
def test_documented_exit_codes(places: dict[str, str], args: list[str], code: int,
                               names: str) -> None:
    r = run(args, places)
    assert r.exit_code == code, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    if code in (0, 1):
        if "--json" in args:
            json.loads(r.stdout)
        return
    assert r.stdout == ""
    assert names in r.stderr
    if not is_usage_error(r):
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_internal_errors_exit_4(places: dict[str, str], monkeypatch: pytest.MonkeyPatch
                                ) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something broke")

    monkeypatch.setattr(Desk, "recommend", broken)
    monkeypatch.setattr(Service, "journal", broken)
    for args in ([*REC, "--json"], ["journal", "tail", "--db", "{db}", "--json"]):
        r = run(args, places)
        assert r.exit_code == 4, r.output
        assert r.stdout == ""
        assert r.stderr.strip() == "internal error: RuntimeError: something broke"
