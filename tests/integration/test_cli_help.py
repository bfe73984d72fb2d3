"""``riskdesk --help`` and the help of every command, as a person reads it.

Each help exits 0 on stdout alone; every flag is named in full in an 80-column terminal, and
each paragraph of a command's description reads as one paragraph (no line break left in the
middle of a sentence). A command group called without its command is a usage error (exit 2,
stderr), not a help page on stdout.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
from cli_support import runner

from riskdesk.cli import app


def command_paths() -> list[tuple[list[str], Any]]:
    """Every command and group under ``riskdesk``, the root included, with its words."""
    found: list[tuple[list[str], Any]] = []

    def walk(words: list[str], command: Any) -> None:
        found.append((words, command))
        # Typer's own command classes: a group is the one with sub-commands.
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk([*words, name], sub)

    walk([], typer.main.get_command(app))
    return found


PATHS = command_paths()
IDS = [" ".join(words) or "riskdesk" for words, _ in PATHS]


def test_every_documented_command_has_a_help() -> None:
    assert {" ".join(words) for words, _ in PATHS} >= {
        "serve", "recommend", "exits plan", "state", "plan", "reconcile", "journal tail",
        "keys create", "keys list", "keys revoke", "config show", "config check",
        "config schema", "config presets"}


@pytest.mark.parametrize(("words", "command"), PATHS, ids=IDS)
def test_help_names_every_flag_in_full(monkeypatch: pytest.MonkeyPatch, words: list[str],
                                       command: Any) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    r = runner.invoke(app, [*words, "--help"])
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    assert "Usage: riskdesk" in r.stdout
    words_shown = set(re.split(r"[\s,│]+", r.stdout))
    for param in command.params:
        for name in [*param.opts, *param.secondary_opts]:
            if name.startswith("--"):
                assert name in words_shown, (name, r.stdout)


@pytest.mark.parametrize(("words", "command"), PATHS, ids=IDS)
def test_help_paragraphs_read_as_paragraphs(monkeypatch: pytest.MonkeyPatch,
                                            words: list[str], command: Any
                                            ) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    r = runner.invoke(app, [*words, "--help"])
    assert r.exit_code == 0, r.output
    lines = [" ".join(line.strip(" │").split()) for line in r.stdout.splitlines()]
    for paragraph in (command.help or "").split("\n\n"):
        text = " ".join(paragraph.split())
        if text:
            assert text in lines, (text, r.stdout)


@pytest.mark.parametrize("words", [[], ["keys"], ["journal"], ["config"], ["exits"]],
                         ids=["riskdesk", "keys", "journal", "config", "exits"])
def test_a_missing_command_is_a_usage_error_on_stderr(words: list[str]) -> None:
    # docs/cli.md: exit 2 leaves stdout empty; the usage message goes to stderr.
    r = runner.invoke(app, words)
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    assert r.stderr.startswith(f"Usage: riskdesk {' '.join(words)}".rstrip()), r.stderr
    assert "Missing command" in r.stderr
