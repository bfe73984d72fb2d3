"""``riskdesk ... | head -1``: a reader that goes away stops the command quietly.

The installed ``riskdesk`` runs in a child process whose stdout is a pipe; the test reads one
line and closes it, as ``head -1`` does, while far more than a pipe buffer is still to come.
The command must end with the code docs/cli.md gives (141, as a tool stopped by SIGPIPE) and
print nothing on stderr: no traceback, no "internal error".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import cli_db
from store_support import journal_one

from riskdesk.store import Store

RISKDESK = Path(sys.executable).with_name("riskdesk")
EXIT_READER_GONE = 141
#: A pipe holds 64 KiB on Linux; the commands below print several times that.
PIPE_BUFFER = 64 * 1024
ENTRIES = 200

COMMANDS = {
    "json": ["journal", "tail", "-n", str(ENTRIES), "--json"],  # typer.echo
    "tables": ["journal", "tail", "-n", str(ENTRIES), "--trail"],  # rich tables
}


@pytest.fixture(scope="module")
def journal_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = cli_db(tmp_path_factory.mktemp("pipe"))
    with Store.open(url) as store:
        for seq in range(ENTRIES):
            journal_one(store, seq)
    return url


def child_env() -> dict[str, str]:
    # stdout buffered, as it is by default: with PYTHONUNBUFFERED a write the reader cuts
    # short may return early instead of failing, and the broken pipe would go unseen.
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_reader_that_goes_away_stops_the_command_quietly(journal_db: str, name: str) -> None:
    args = [str(RISKDESK), *COMMANDS[name], "--db", journal_db]
    whole = subprocess.run(args, capture_output=True, env=child_env(), timeout=120, check=True)
    assert len(whole.stdout) > 3 * PIPE_BUFFER  # the reader leaves with most of it unread

    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=child_env())
    assert child.stdout is not None
    assert child.stderr is not None
    try:
        first = child.stdout.readline()
        child.stdout.close()  # the reader goes away
        stderr = child.stderr.read()
        code = child.wait(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()
    assert first == whole.stdout.splitlines(keepends=True)[0]
    assert stderr.decode() == ""
    assert code == EXIT_READER_GONE
