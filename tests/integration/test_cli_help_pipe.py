"""``riskdesk --help | head -1``: help whose reader went away stops as the commands do.

docs/cli.md gives 141 (as a tool stopped by SIGPIPE) and nothing on stderr for a command
whose stdout reader went away; the help pages of the root, the groups and the commands are
output like any other and end the same way. The installed ``riskdesk`` runs in a child whose
stdout is a pipe already closed at the reading end, so that its first write fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RISKDESK = Path(sys.executable).with_name("riskdesk")
EXIT_READER_GONE = 141


def run_into_a_closed_pipe(args: list[str]) -> tuple[int, bytes]:
    """Exit code and stderr of ``riskdesk ARGS`` whose stdout's reader has gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([str(RISKDESK), *args], stdin=subprocess.DEVNULL,
                              stdout=write_end, stderr=subprocess.PIPE, timeout=120,
                              check=False)
    finally:
        os.close(write_end)
    return done.returncode, done.stderr


@pytest.mark.parametrize("args", [
    ["--help"],
    ["recommend", "--help"],
    ["keys", "--help"],
    ["keys", "create", "--help"],
    ["plan", "--help"],
    ["exits", "plan", "--help"],
    ["config", "presets"],  # a command's own output, for comparison
], ids=lambda args: "-".join(args))
def test_output_into_a_closed_pipe_exits_141_quietly(args: list[str]) -> None:
    code, stderr = run_into_a_closed_pipe(args)
    assert stderr.decode() == ""
    assert code == EXIT_READER_GONE


def test_help_into_a_pipe_that_stays_open_exits_0() -> None:
    done = subprocess.run([str(RISKDESK), "--help"], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert b"Usage: riskdesk" in done.stdout
