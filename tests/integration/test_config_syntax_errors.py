"""A configuration file that does not parse is named with the place and the problem.

Whatever loads it (``RiskConfig.from_yaml``, ``riskdesk config check``, ``--config FILE`` of
the commands), the refusal is one line naming the file, the line and column (counted from
1, as editors do) and what is wrong there in words, exit 2: not the parser's own text with
its ``"<unicode string>"`` stand-in for the file, quoted source lines and ``^`` markers.
riskdesk reads configuration files as YAML; a TOML file given instead is told so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import REC, one_error_line, runner

from riskdesk.cli import app
from riskdesk.config import RiskConfig
from riskdesk.errors import ConfigError

# (file name, text, line, column, words of the problem).
BROKEN: list[tuple[str, str, int, int, str]] = [
    ("list.yaml", "kelly:\n  enabled: true\nvix: [1, 2\ndrawdown: {}\n", 4, 9,
     "expected ',' or ']'"),
    ("quote.yaml", "name: 'desk\n", 2, 1, "end of the file"),
    ("tab.yaml", "kelly:\n\tenabled: true\n", 2, 1, "tab"),
    ("colon.yaml", "name: a: b\n", 1, 8, "':'"),
    ("alias.yaml", "name: desk\ndescription: *nope\n", 2, 14, "undefined alias 'nope'"),
    ("control.yaml", "name: desk\ndescription: a\x07b\n", 2, 15, "U+0007"),
    ("desk.toml", "[kelly]\nenabled = true\n", 2, 1, "TOML"),
]
IDS = [name for name, *_ in BROKEN]


def expect_place(message: str, path: Path, line: int, column: int, words: str) -> None:
    assert message.count("\n") == 0, message
    assert str(path) in message
    assert f"line {line}, column {column}" in message, message
    assert words in message, message
    assert "<unicode string>" not in message
    assert "^" not in message
    assert "while parsing" not in message
    assert "while scanning" not in message


@pytest.mark.parametrize(("name", "text", "line", "column", "words"), BROKEN, ids=IDS)
def test_from_yaml_names_the_place(tmp_path: Path, name: str, text: str, line: int,
                                   column: int, words: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        RiskConfig.from_yaml(path, env={})
    message = str(caught.value)
    assert message.startswith(f"{path}: not valid YAML"), message
    expect_place(message, path, line, column, words)


@pytest.mark.parametrize(("name", "text", "line", "column", "words"), BROKEN, ids=IDS)
def test_config_check_names_the_place(tmp_path: Path, name: str, text: str, line: int,
                                      column: int, words: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    r = runner.invoke(app, ["config", "check", str(path)])
    assert r.exit_code == 2, r.output
    message = one_error_line(r)
    assert message.startswith("config error: ")
    expect_place(message, path, line, column, words)


@pytest.mark.parametrize("command", [
    [*REC, "--config", "{path}"],
    ["exits", "plan", "--symbol", "AAPL", "--side", "LONG", "--entry", "430.47", "--quantity",
     "10", "--config", "{path}"],
    ["state", "--config", "{path}", "--db", "sqlite:///{tmp}/cli.db"],
], ids=["recommend", "exits-plan", "state"])
def test_commands_name_the_place(tmp_path: Path, command: list[str]) -> None:
    name, text, line, column, words = BROKEN[0]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    r = runner.invoke(app, [a.format(path=path, tmp=tmp_path) for a in command] + ["--json"])
    assert r.exit_code == 2, r.output
    expect_place(one_error_line(r), path, line, column, words)


def test_a_toml_file_that_parses_as_yaml_is_told_it_is_read_as_yaml(tmp_path: Path) -> None:
    # One TOML line is a valid YAML scalar: the file is refused for its shape, with the hint.
    path = tmp_path / "desk.toml"
    path.write_text('name = "desk"\n', encoding="utf-8")
    r = runner.invoke(app, ["config", "check", str(path)])
    assert r.exit_code == 2, r.output
    message = one_error_line(r)
    assert str(path) in message
    assert "mapping of sections" in message
    assert "TOML" in message
