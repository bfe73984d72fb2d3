"""RiskConfig.load on files it cannot use: a ConfigError naming the file, never a crash.

``riskdesk config check FILE`` and every command taking ``--config`` turn a ConfigError into
exit code 2 with one line; any other exception would end in exit code 4, "internal error".
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest
from cli_support import one_error_line, runner

from riskdesk.cli import app
from riskdesk.config import RiskConfig
from riskdesk.errors import ConfigError


# ------------------------------------------------------------------ text that is not UTF-8
@pytest.mark.parametrize(("content", "byte", "offset"), [
    (b"name: caf\xe9\n", "0xe9", 9),  # Latin-1
    ("name: x\n".encode("utf-16"), "0xff", 0),  # UTF-16 with its byte order mark
    (b"name: ok\nexits: {stop_pct: 0.02}\n# \x80\n", "0x80", 35),
])
def test_a_file_that_is_not_utf8_is_a_config_error_naming_file_byte_and_offset(
        tmp_path: Path, content: bytes, byte: str, offset: int) -> None:
    path = tmp_path / "desk.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as exc:
        RiskConfig.load(str(path), env={})
    assert exc.value.source == str(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: ")
    assert "UTF-8" in message
    assert f"byte {byte} at offset {offset}" in message
    with pytest.raises(ConfigError):
        RiskConfig.from_yaml(path, env={})


def test_a_utf8_file_with_a_byte_order_mark_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: marked\n")
    assert RiskConfig.load(str(path), env={}).name == "marked"


@pytest.mark.parametrize("command", ["check", "show"])
def test_config_commands_exit_2_on_a_file_that_is_not_utf8(tmp_path: Path,
                                                            command: str) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    r = runner.invoke(app, ["config", command, str(path)])
    assert r.exit_code == 2, r.output
    line = one_error_line(r)
    assert str(path) in line
    assert "0xe9" in line


def test_recommend_exits_2_on_a_config_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    r = runner.invoke(app, ["recommend", "--symbol", "AAPL", "--price", "430.47",
                            "--equity", "100000", "--config", str(path), "--json"])
    assert r.exit_code == 2, r.output
    assert str(path) in one_error_line(r)


# ------------------------------------------------------------------ extends
def _outside_presets(target: Path) -> str:
    """``target`` (without .yaml) as a path relative to the shipped presets' folder."""
    presets = Path(str(resources.files("riskdesk.config.presets")))
    return os.path.relpath(target.with_suffix(""), presets)


@pytest.mark.parametrize(("outside", "reason"), [
    ("name: outside\n", "a file outside the presets"),
    ("- 1\n- 2\n", "a list, not a mapping"),
    (None, "a file extending itself"),
])
def test_extends_names_a_shipped_preset_and_nothing_else(tmp_path: Path, outside: str | None,
                                                         reason: str) -> None:
    target = tmp_path / "outside.yaml"
    path = tmp_path / "desk.yaml"
    relative = _outside_presets(target if outside is not None else path)
    if outside is not None:
        target.write_text(outside, encoding="utf-8")
    path.write_text(f"extends: {relative}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        RiskConfig.load(str(path), env={})
    message = str(exc.value)
    assert message.startswith(f"{path}: extends"), reason
    assert "default" in message  # the known presets are listed
    assert exc.value.source == str(path)


def test_extends_of_an_unknown_preset_names_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text("extends: no-such-preset\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        RiskConfig.load(str(path), env={})
    assert str(exc.value).startswith(f"{path}: extends")
    assert "no-such-preset" in str(exc.value)


def test_extends_a_shipped_preset_still_merges(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text("extends: aurora-kelly\nname: mine\n", encoding="utf-8")
    cfg = RiskConfig.load(str(path), env={})
    assert cfg.name == "mine"
    assert cfg.position_sizing == RiskConfig.preset("aurora-kelly", env={}).position_sizing


def test_config_check_exits_2_when_extends_leaves_the_presets(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(f"extends: {_outside_presets(path)}\n", encoding="utf-8")
    r = runner.invoke(app, ["config", "check", str(path)])
    assert r.exit_code == 2, r.output
    assert "extends" in one_error_line(r)


# ------------------------------------------------------------------ references
def test_a_reference_too_long_for_a_file_name_is_neither_preset_nor_file() -> None:
    ref = "x" * 5000
    with pytest.raises(ConfigError) as exc:
        RiskConfig.load(ref, env={})
    assert "neither a preset" in str(exc.value)
    assert exc.value.source == ref


def test_preset_loads_only_a_shipped_preset(tmp_path: Path) -> None:
    target = tmp_path / "outside.yaml"
    target.write_text("name: outside\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown preset"):
        RiskConfig.preset(_outside_presets(target), env={})
