"""The ``RiskConfig`` root, its loaders and the environment overrides."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator
from yaml.reader import ReaderError

from riskdesk.config._exits_section import Exits
from riskdesk.config._sections import (
    AccountTier,
    CapitalStatus,
    CapitalTiers,
    Conviction,
    Drawdown,
    Kelly,
    Leverage,
    Liquidity,
    MarginZones,
    Opportunity,
    Phases,
    PositionSizing,
    RiskManagement,
    Section,
    Strategies,
    Vix,
    _default_account_tiers,
)
from riskdesk.config._yaml import load_yaml
from riskdesk.errors import ConfigError

ENV_PREFIX = "RISKDESK__"
_PRESET_PACKAGE = "riskdesk.config.presets"


class RiskConfig(Section):
    """Every risk parameter riskdesk uses, in one frozen, strict tree.

    Build it from a preset (``RiskConfig.preset("crypto-capital-manager")``), a YAML file
    (``RiskConfig.from_yaml(path)``) or keyword arguments. Unknown keys, non-finite numbers
    and out-of-range values raise :class:`riskdesk.errors.ConfigError` naming the key path.
    """

    name: str = "custom"
    description: str = ""
    position_sizing: PositionSizing = Field(default_factory=PositionSizing)
    risk_management: RiskManagement = Field(default_factory=RiskManagement)
    kelly: Kelly = Field(default_factory=Kelly)
    conviction: Conviction = Field(default_factory=Conviction)
    account_tiers: dict[str, AccountTier] = Field(default_factory=_default_account_tiers)
    leverage: Leverage = Field(default_factory=Leverage)
    margin_zones: MarginZones = Field(default_factory=MarginZones)
    capital_status: CapitalStatus = Field(default_factory=CapitalStatus)
    drawdown: Drawdown = Field(default_factory=Drawdown)
    phases: Phases = Field(default_factory=Phases)
    vix: Vix = Field(default_factory=Vix)
    strategies: Strategies = Field(default_factory=Strategies)
    capital_tiers: CapitalTiers = Field(default_factory=CapitalTiers)
    liquidity: Liquidity = Field(default_factory=Liquidity)
    opportunity: Opportunity = Field(default_factory=Opportunity)
    exits: Exits = Field(default_factory=Exits)

    @model_validator(mode="after")
    def _tiers_distinct(self) -> RiskConfig:
        mins = [t.min_equity for t in self.account_tiers.values()]
        if len(set(mins)) != len(mins):
            raise ValueError("account_tiers must have distinct min_equity values")
        if not self.account_tiers:
            raise ValueError("account_tiers needs at least one tier")
        return self

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "<mapping>",
                     env: Mapping[str, str] | None = None) -> RiskConfig:
        """Validate a mapping, after applying ``RISKDESK__SECTION__KEY`` overrides.

        Parameters
        ----------
        data
            The configuration as nested mappings.
        source
            Where the data came from, for error messages.
        env
            Environment to read overrides from; ``os.environ`` when ``None``. Pass ``{}`` to
            ignore the environment.

        Returns
        -------
        RiskConfig
            The validated configuration.

        Raises
        ------
        ConfigError
            Naming the source, the key path, the value and what was expected.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: expected a mapping of sections at the top level, "
                              f"got {type(data).__name__}", source)
        merged = _apply_env(dict(data), os.environ if env is None else env)
        try:
            return cls.model_validate(merged)
        except ValidationError as exc:
            raise _config_error(exc, source) from None

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], *,
                  env: Mapping[str, str] | None = None) -> RiskConfig:
        """Load a YAML file (see :meth:`from_mapping` for overrides and errors).

        A file may start from a preset with a top-level ``extends: PRESET`` key; its own
        sections are merged over the preset's key by key.
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{p}: cannot read config file ({exc.strerror})", str(p)) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{p}: not a UTF-8 text file (byte 0x{exc.object[exc.start]:02x} "
                              f"at offset {exc.start})", str(p)) from None
        # A TOML file is read as YAML too, and refused with a word on why it does not fit.
        toml = " (riskdesk reads configuration files as YAML, not TOML)" if (
            p.suffix.lower() == ".toml") else ""
        try:
            data = load_yaml(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML{yaml_error_detail(exc, text)}{toml}",
                              str(p)) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{p}: expected a mapping of sections at the top level{toml}",
                              str(p))
        base = data.pop("extends", None)
        if base is not None:
            # Only a shipped preset: a name is not a path to wander out of the presets with.
            if not isinstance(base, str) or base not in cls.presets():
                raise ConfigError(f"{p}: extends: unknown preset {base!r}; known presets: "
                                  f"{', '.join(cls.presets())}", str(p))
            data = _deep_merge(_preset_data(base), data)
        return cls.from_mapping(data, source=str(p), env=env)

    @classmethod
    def preset(cls, name: str, *, env: Mapping[str, str] | None = None) -> RiskConfig:
        """Load a named preset shipped with riskdesk (see :meth:`presets`)."""
        return cls.from_mapping(_preset_data(name), source=f"preset {name!r}", env=env)

    @classmethod
    def presets(cls) -> list[str]:
        """Names of the presets shipped with riskdesk."""
        root = resources.files(_PRESET_PACKAGE)
        return sorted(p.name.removesuffix(".yaml") for p in root.iterdir()
                      if p.name.endswith(".yaml"))

    @classmethod
    def load(cls, ref: str, *, env: Mapping[str, str] | None = None) -> RiskConfig:
        """Load ``ref`` as a preset name, or else as a YAML file path."""
        if ref in cls.presets():
            return cls.preset(ref, env=env)
        try:
            is_file = Path(ref).exists()
        except OSError:  # a name the file system refuses (too long, for one): not a file
            is_file = False
        if is_file:
            return cls.from_yaml(ref, env=env)
        raise ConfigError(f"{ref!r} is neither a preset ({', '.join(cls.presets())}) "
                          "nor an existing file", ref)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON schema of the configuration tree."""
        return cls.model_json_schema()

    def to_yaml(self) -> str:
        """The full configuration, every default spelled out, as YAML."""
        data = json.loads(self.model_dump_json())
        return yaml.safe_dump(data, sort_keys=False)


#: PyYAML's words for what it was reading when it stopped, as a person names them.
_YAML_CONTEXTS = {
    "while parsing a flow sequence": "the [ list opened",
    "while parsing a flow mapping": "the { mapping opened",
    "while parsing a block mapping": "the mapping that starts",
    "while parsing a block collection": "the list that starts",
    "while parsing a block node": "the value that starts",
    "while parsing a flow node": "the value that starts",
    "while scanning a quoted scalar": "the quoted text opened",
    "while scanning a simple key": "the key that starts",
    "while scanning a block scalar": "the block of text that starts",
    "while scanning an anchor": "the anchor that starts",
    "while scanning an alias": "the alias that starts",
    "while scanning a tag": "the tag that starts",
    "while scanning a directive": "the directive that starts",
    "while constructing a mapping": "the mapping that starts",
}
#: PyYAML's problems, in plain words, by how their text starts.
_YAML_PROBLEMS = (
    ("found character '\\t' that cannot start any token",
     "a tab character (indent with spaces)"),
    ("found unexpected end of stream", "unexpected end of the file"),
    ("mapping values are not allowed here",
     "a ':' where no value can start (indent a section's keys under it, or quote a value "
     "holding ': ')"),
    ("expected '<document start>', but found",
     "more text after the top-level value ended (each line should be 'key: value')"),
    ("expected <block end>, but found",
     "an entry that is not in line with the ones before it (check the indentation)"),
    ("could not find expected ':'", "a key without its ':'"),
)

#: PyYAML's names of what it found, in plain words.
_YAML_TOKENS = (("'<stream end>'", "the end of the file"), ("'<scalar>'", "a value"),
                ("'<block mapping start>'", "an indented mapping"),
                ("'<block sequence start>'", "an indented list"),
                ("'<block end>'", "the end of an indented block"))


def yaml_error_detail(exc: yaml.YAMLError, text: str) -> str:
    """Where and why PyYAML refused ``text``: `` at line L, column C: <problem>``.

    Lines and columns count from 1, as editors do; the problem is in plain words where
    PyYAML's are its own jargon. The parser's rendering (the source lines it quotes, ``^``
    markers, ``"<unicode string>"`` for the file) is left out: the caller names the file.
    Without a place, ``": <problem>"``.
    """
    if isinstance(exc, ReaderError):
        line, column = _line_column(text, exc.position)
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        return (f" at line {line}, column {column}: the character U+{ord(char):04X} is not "
                "allowed in YAML")
    if not isinstance(exc, yaml.MarkedYAMLError):
        return ": " + " ".join(str(exc).split())
    problem = exc.problem or exc.context or "not valid YAML"
    for start, plain in _YAML_PROBLEMS:
        if problem.startswith(start):
            problem = plain
            break
    for token, plain in _YAML_TOKENS:
        problem = problem.replace(token, plain)
    mark, opened = exc.problem_mark or exc.context_mark, exc.context_mark
    if exc.context and exc.problem and opened is not None and (
            mark is None or (opened.line, opened.column) != (mark.line, mark.column)):
        what = _YAML_CONTEXTS.get(exc.context, exc.context.removeprefix("while "))
        problem += f" (in {what} at line {opened.line + 1}, column {opened.column + 1})"
    if mark is None:
        return f": {problem}"
    return f" at line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _line_column(text: str, position: int) -> tuple[int, int]:
    """The line and column, from 1, of the character at ``position`` in ``text``."""
    line_start = text.rfind("\n", 0, position) + 1
    return text.count("\n", 0, position) + 1, position - line_start + 1


def _preset_data(name: str) -> dict[str, Any]:
    root = resources.files(_PRESET_PACKAGE)
    res = root / f"{name}.yaml"
    if name not in RiskConfig.presets() or not res.is_file():
        raise ConfigError(f"unknown preset {name!r}; known presets: "
                          f"{', '.join(RiskConfig.presets())}", name)
    data = load_yaml(res.read_text(encoding="utf-8")) or {}
    base = data.pop("extends", None)
    if base is not None:
        data = _deep_merge(_preset_data(str(base)), data)
    assert isinstance(data, dict)
    return data


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _deep_merge(dict(out[k]), v)
        else:
            out[k] = v
    return out


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Apply ``RISKDESK__SECTION__KEY=value`` overrides; values are parsed as YAML scalars."""
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in var[len(ENV_PREFIX):].split("__") if part]
        if not path:
            continue
        raw = env[var]
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if child is None:
                child = {}
            elif not isinstance(child, dict):
                raise ConfigError(f"environment {var}: {'.'.join(path[:-1])} is not a section",
                                  var)
            else:
                child = dict(child)
            node[part] = child
            node = child
        node[path[-1]] = value
    return data


def _config_error(exc: ValidationError, source: str) -> ConfigError:
    lines = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        value = err.get("input")
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        shown = "<section>" if isinstance(value, dict) else repr(value)
        lines.append(f"{loc} = {shown}: {msg}")
    head = lines[0] if len(lines) == 1 else f"{len(lines)} problems"
    body = "" if len(lines) == 1 else "\n  " + "\n  ".join(lines)
    return ConfigError(f"{source}: {head}{body}", source)
