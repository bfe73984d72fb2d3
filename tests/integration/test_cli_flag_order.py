"""A bad flag is refused as bad input before any state is opened (docs/cli.md, exit 2).

Whether the database is missing, unreachable or fine, a flag value the command can never
accept is exit 2 with a message naming the flag, not exit 3 because the database was tried
first; and nothing is created or written for it (``keys create`` may create a new database,
but not for a request it refuses).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import one_error_line, runner

from riskdesk.cli import app

#: A PostgreSQL server that refuses connections at once (exit 3 when it is opened).
NOWHERE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
TARGETS = "targets:\n  - {symbol: AAPL, target_weight: 0.02}\n"
BROKEN_CONFIG = "position_sizing:\n  method: [fixed_fraction\n"

# (arguments, what the refusal names); ``{tmp}`` is the test's folder.
CASES: list[tuple[list[str], str]] = [
    (["reconcile", "--policy", "bogus"], "--policy"),
    (["reconcile", "--policy", "ADOPT_REMOTE"], "--policy"),
    (["reconcile", "--config", "no-such-preset"], "no-such-preset"),
    (["reconcile", "--config", "{tmp}/broken.yaml"], "broken.yaml"),
    (["state", "--config", "no-such-preset"], "no-such-preset"),
    (["state", "--config", "{tmp}/broken.yaml"], "broken.yaml"),
    (["plan", "{tmp}/targets.yaml", "--config", "no-such-preset"], "no-such-preset"),
    (["journal", "tail", "--symbol", ""], "--symbol"),
    (["journal", "tail", "--symbol", "X" * 65], "--symbol"),
    (["keys", "revoke", ""], "key_id"),
    (["keys", "revoke", " "], "key_id"),
    (["keys", "create", "bot", "--scope", "root"], "--scope"),
    (["keys", "create", "bot", "--scope", "read", "--scope", "READ"], "--scope"),
    (["keys", "create", ""], "name"),
    (["keys", "create", "two\nlines"], "name"),
]
IDS = [f"{i:02d}-{'-'.join(a for a in args[:2] if '{' not in a)}"
       for i, (args, _) in enumerate(CASES)]


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    (tmp_path / "targets.yaml").write_text(TARGETS, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(BROKEN_CONFIG, encoding="utf-8")
    return tmp_path


def refused(args: list[str], tmp: Path, db: str) -> str:
    r = runner.invoke(app, [*(a.format(tmp=tmp) for a in args), "--db", db, "--json"])
    assert r.exit_code == 2, r.output
    return one_error_line(r)


@pytest.mark.parametrize(("args", "named"), CASES, ids=IDS)
def test_a_bad_flag_beats_a_missing_database(tmp: Path, args: list[str], named: str) -> None:
    missing = tmp / "typo" / "riskdesk.db"
    line = refused(args, tmp, f"sqlite:///{missing}")
    assert named in line
    assert "store unavailable" not in line
    assert not missing.parent.exists()  # nothing created for a refused request


@pytest.mark.parametrize(("args", "named"), CASES, ids=IDS)
def test_a_bad_flag_beats_an_unreachable_database(tmp: Path, args: list[str], named: str
                                                  ) -> None:
    line = refused(args, tmp, NOWHERE)
    assert named in line
    assert "store unavailable" not in line


def test_reconcile_names_the_policy_flag(tmp: Path) -> None:
    line = refused(["reconcile", "--policy", "bogus"], tmp, f"sqlite:///{tmp / 'none.db'}")
    assert line == "error: --policy: got 'bogus', expected report or adopt_remote"
