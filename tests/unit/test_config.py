"""RiskConfig: presets, YAML files, `extends`, environment overrides and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from riskdesk.config import RiskConfig
from riskdesk.errors import ConfigError

PRESETS = ["aurora-capital-scaling", "aurora-kelly", "crypto-capital-manager", "default",
           "equity-conviction", "equity-conviction-live", "phased-options"]


def write(tmp_path: Path, text: str, name: str = "desk.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ------------------------------------------------------------------ presets
def test_presets_lists_one_per_seed_system_plus_default() -> None:
    assert RiskConfig.presets() == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads_and_round_trips(name: str) -> None:
    cfg = RiskConfig.preset(name, env={})
    assert cfg.name == name
    assert cfg.description
    again = RiskConfig.from_mapping(yaml.safe_load(cfg.to_yaml()), env={})
    assert again == cfg


@pytest.mark.parametrize("name", PRESETS)
def test_load_resolves_preset_names(name: str) -> None:
    assert RiskConfig.load(name, env={}) == RiskConfig.preset(name, env={})


def test_seed000_preset_numbers() -> None:
    cfg = RiskConfig.preset("aurora-capital-scaling", env={})
    ps, rm = cfg.position_sizing, cfg.risk_management
    assert ps.method == "capital_scaling"
    assert (ps.capital_utilization_factor, ps.order_notional_cap, ps.max_position_size,
            ps.max_total_exposure) == (2.0, 15_000.0, 0.15, 0.8)
    assert (ps.min_trade_size, ps.max_trade_size, ps.signal_threshold, ps.min_shares) == \
        (25.0, 25_000.0, 0.02, 1.0)
    assert ps.volatility_adjustment is True
    assert ps.portfolio_heat == 0.02
    assert (rm.max_pos_pct, rm.max_order_notional, rm.max_notional_opener,
            rm.max_notional_reducer) == (0.15, 15_000.0, 15_000.0, 15_000.0)
    assert (rm.min_notional_opener, rm.min_notional_reducer, rm.allow_dust_close) == \
        (10.0, 10.0, True)


def test_seed001_preset_numbers() -> None:
    cfg = RiskConfig.preset("crypto-capital-manager", env={})
    lev, k = cfg.leverage, cfg.kelly
    assert (lev.min_leverage, lev.max_leverage, lev.base) == (3.0, 20.0, 10.0)
    assert lev.fixed is None
    assert lev.enabled
    assert k.fraction == 0.5  # half-Kelly
    assert (k.small_account_multiplier, k.large_account_multiplier) == (0.7, 1.2)
    assert (k.regime_multipliers["STRONG_TREND"], k.regime_multipliers["RANGING"]) == (1.3, 0.7)
    assert (k.heat_high, k.heat_high_multiplier, k.heat_low, k.heat_low_multiplier) == \
        (70.0, 0.3, 30.0, 1.0)
    mz = cfg.margin_zones
    assert (mz.yellow, mz.orange, mz.red, mz.orange_reduce_pct) == (0.5, 0.75, 0.9, 0.3)
    dd = cfg.drawdown
    assert (dd.light, dd.moderate, dd.heavy) == (0.05, 0.10, 0.20)
    assert (dd.light_multiplier, dd.moderate_multiplier, dd.heavy_multiplier) == \
        (0.7, 0.5, 0.25)
    assert (dd.light_leverage_reduction, dd.moderate_leverage_reduction) == (2.0, 5.0)
    assert dd.breaker_on_heavy
    assert dd.breaker_pause_hours == 24.0
    tiers = {n: t.target_pct for n, t in cfg.capital_tiers.tiers.items()}
    assert tiers == {"CORE": 0.5, "GROWTH": 0.3, "OPPORTUNITY": 0.15, "RESERVE": 0.05}
    liq = cfg.liquidity
    assert (liq.near_levels, liq.far_levels) == (5, 20)
    assert (liq.impact_moderate, liq.impact_moderate_reduction) == (0.002, 0.40)
    assert (liq.impact_severe, liq.impact_severe_reduction) == (0.005, 0.70)
    assert liq.twap_fraction == 0.10
    op = cfg.opportunity
    assert (op.replace_margin, op.enter_score, op.enter_free_margin, op.skip_free_margin) == \
        (10.0, 80.0, 0.30, 0.20)
    assert set(cfg.account_tiers) == {"small", "medium", "large"}


def test_seed002_preset_numbers() -> None:
    cfg = RiskConfig.preset("aurora-kelly", env={})
    k = cfg.kelly
    assert (k.risk_aversion, k.clip_min, k.clip_max) == (1.0, 0.0, 0.2)
    assert k.stabilizer.enabled
    assert k.stabilizer.buckets
    assert cfg.leverage.fixed == 25.0
    assert cfg.risk_management.max_concurrent_positions == 999


def test_seed003_preset_numbers() -> None:
    paper = RiskConfig.preset("equity-conviction", env={})
    c = paper.conviction
    assert (c.base_pct, c.high_pct, c.low_pct) == (0.015, 0.02, 0.01)
    assert (c.high_threshold, c.low_threshold, c.max_position_dollar) == (4.5, 3.5, 825.0)
    rm = paper.risk_management
    assert (rm.buying_power_safety, rm.min_position_dollar,
            rm.concentration_max_net_long_pct) == (0.95, 50.0, 0.70)
    live = RiskConfig.preset("equity-conviction-live", env={})
    assert live.conviction.max_position_dollar == 300.0
    assert live.risk_management.max_position_dollar == 300.0
    # everything else is inherited through `extends`
    assert live.conviction.model_copy(update={"max_position_dollar": 825.0}) == c


def test_seed004_preset_numbers() -> None:
    cfg = RiskConfig.preset("phased-options", env={})
    ph, vix = cfg.phases, cfg.vix
    assert ph.multipliers[1:] == (1.0, 1.5, 2.0, 2.5)
    assert ph.trades_per_day == (2, 3, 5, 7, 10)
    assert (vix.extreme, vix.extreme_multiplier, vix.high, vix.high_multiplier, vix.low,
            vix.low_multiplier) == (35.0, 0.5, 25.0, 0.75, 15.0, 1.25)
    caps = {n: s.hard_cap for n, s in cfg.strategies.by_name.items()}
    assert caps["LT112"] == 8
    assert caps["IPMCC"] == 6
    assert caps["RATIO_SPREAD"] == 5
    assert caps["0DTE"] == 12


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown preset 'nope'.*aurora-kelly"):
        RiskConfig.preset("nope", env={})


def test_load_unknown_reference() -> None:
    with pytest.raises(ConfigError, match="neither a preset"):
        RiskConfig.load("no-such-thing.yaml", env={})


# ------------------------------------------------------------------ files
def test_from_yaml_reads_sections(tmp_path: Path) -> None:
    p = write(tmp_path, "position_sizing:\n  risk_per_trade: 0.02\nkelly:\n  clip_max: 0.1\n")
    cfg = RiskConfig.from_yaml(p, env={})
    assert cfg.position_sizing.risk_per_trade == 0.02
    assert cfg.kelly.clip_max == 0.1
    assert cfg.kelly.clip_min == 0.0  # defaults fill the rest


def test_empty_file_is_the_default_config(tmp_path: Path) -> None:
    assert RiskConfig.from_yaml(write(tmp_path, ""), env={}) == RiskConfig()


def test_extends_merges_over_a_preset_key_by_key(tmp_path: Path) -> None:
    p = write(tmp_path, "extends: crypto-capital-manager\nname: mine\n"
                        "kelly:\n  heat_high_multiplier: 0.2\n")
    cfg = RiskConfig.from_yaml(p, env={})
    base = RiskConfig.preset("crypto-capital-manager", env={})
    assert cfg.name == "mine"
    assert cfg.kelly.heat_high_multiplier == 0.2
    assert cfg.kelly.small_account_multiplier == base.kelly.small_account_multiplier
    assert cfg.leverage == base.leverage


def test_extends_unknown_preset(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown preset"):
        RiskConfig.from_yaml(write(tmp_path, "extends: nope\n"), env={})


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read"):
        RiskConfig.from_yaml(missing, env={})


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"desk\.yaml: not valid YAML"):
        RiskConfig.from_yaml(write(tmp_path, "kelly: [\n"), env={})


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mapping of sections"):
        RiskConfig.from_yaml(write(tmp_path, "- a\n- b\n"), env={})


@pytest.mark.parametrize(("text", "path", "value"), [
    ("kelly:\n  clip_max: .nan\n", "kelly.clip_max", "nan"),
    ("kelly:\n  clip_max: .inf\n", "kelly.clip_max", "inf"),
    ("leverage:\n  base: -.inf\n", "leverage.base", "-inf"),
    ("position_sizing:\n  max_position_size: 51\n", "position_sizing.max_position_size",
     "51"),
    ("risk_management:\n  max_order_notional: -1\n", "risk_management.max_order_notional",
     "-1"),
    ("conviction:\n  base_pct: 0\n", "conviction.base_pct", "0"),
    ("account_tiers:\n  small: {min_equity: 100, max_positions: 0, min_leverage: 1, "
     "max_leverage: 2, min_risk_pct: 0.01, max_risk_pct: 0.02, risk_pct: 0.01}\n",
     "account_tiers.small.max_positions", "0"),
    ("kelly:\n  stabilizer:\n    hysteresis: 2\n", "kelly.stabilizer.hysteresis", "2"),
])
def test_error_names_file_key_path_and_value(tmp_path: Path, text: str, path: str,
                                             value: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        RiskConfig.from_yaml(p, env={})
    msg = str(err.value)
    assert msg.startswith(str(p))
    assert f"{path} = {value}" in msg
    assert err.value.source == str(p)


@pytest.mark.parametrize(("text", "path"), [
    ("kelly:\n  cilp_max: 0.1\n", "kelly.cilp_max"),
    ("bogus_section:\n  x: 1\n", "bogus_section"),
    ("kelly:\n  stabilizer:\n    enabld: true\n", "kelly.stabilizer.enabld"),
])
def test_unknown_keys_are_errors(tmp_path: Path, text: str, path: str) -> None:
    with pytest.raises(ConfigError, match=rf"{path} = .*unknown key"):
        RiskConfig.from_yaml(write(tmp_path, text), env={})


@pytest.mark.parametrize(("section", "values", "words"), [
    ("kelly", {"clip_min": 0.3, "clip_max": 0.2}, "clip_min must be <= clip_max"),
    ("kelly", {"dd_haircut_start": 0.3, "dd_haircut_full": 0.2}, "dd_haircut_start"),
    ("conviction", {"low_threshold": 5, "high_threshold": 4}, "low_threshold"),
    ("leverage", {"min_leverage": 10, "max_leverage": 5}, "min_leverage"),
    ("liquidity", {"impact_moderate": 0.01, "impact_severe": 0.005}, "impact_moderate"),
    ("margin_zones", {"yellow": 0.8, "orange": 0.75}, "yellow < orange < red"),
    ("drawdown", {"light_multiplier": 0.3, "moderate_multiplier": 0.5}, "multipliers"),
    ("position_sizing", {"min_trade_size": 100, "max_trade_size": 50}, "min_trade_size"),
])
def test_ordering_rules(section: str, values: dict[str, float], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        RiskConfig.from_mapping({section: values}, env={})


def test_several_problems_are_all_listed() -> None:
    with pytest.raises(ConfigError) as err:
        RiskConfig.from_mapping({"kelly": {"clip_max": 2, "bogus": 1}}, env={})
    msg = str(err.value)
    assert "2 problems" in msg
    assert "kelly.clip_max" in msg
    assert "kelly.bogus" in msg


def test_config_is_frozen() -> None:
    cfg = RiskConfig()
    with pytest.raises(ValidationError):
        cfg.kelly = cfg.kelly  # type: ignore[misc]
    with pytest.raises(ValidationError):
        cfg.kelly.clip_max = 0.5  # type: ignore[misc]


# ------------------------------------------------------------------ environment
def test_env_override_section_key() -> None:
    cfg = RiskConfig.preset("default", env={"RISKDESK__KELLY__CLIP_MAX": "0.3",
                                            "RISKDESK__POSITION_SIZING__METHOD": "kelly"})
    assert cfg.kelly.clip_max == 0.3
    assert cfg.position_sizing.method == "kelly"


def test_env_override_nested_and_prefix_is_upper_case() -> None:
    cfg = RiskConfig.from_mapping({}, env={"riskdesk__kelly__stabilizer__hysteresis": "0.2",
                                           "RISKDESK__KELLY__STABILIZER__ENABLED": "true"})
    # only the upper-case prefix is recognised: the lower-case variable is ignored
    assert cfg.kelly.stabilizer.hysteresis == 0.1
    assert cfg.kelly.stabilizer.enabled is True


def test_env_override_wins_over_file(tmp_path: Path) -> None:
    p = write(tmp_path, "kelly:\n  clip_max: 0.1\n")
    cfg = RiskConfig.from_yaml(p, env={"RISKDESK__KELLY__CLIP_MAX": "0.15"})
    assert cfg.kelly.clip_max == 0.15


def test_env_override_list_value() -> None:
    cfg = RiskConfig.from_mapping({}, env={"RISKDESK__KELLY__STABILIZER__BUCKETS":
                                           "[0.0, 0.1, 0.2]"})
    assert cfg.kelly.stabilizer.buckets == (0.0, 0.1, 0.2)


def test_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKDESK__LEVERAGE__BASE", "7")
    assert RiskConfig.preset("crypto-capital-manager").leverage.base == 7.0


@pytest.mark.parametrize(("env", "words"), [
    ({"RISKDESK__KELLY__CLIP_MAX": ".nan"}, "kelly.clip_max = nan"),
    ({"RISKDESK__KELLY__CLIP_MAX": "lots"}, "kelly.clip_max = 'lots'"),
    ({"RISKDESK__KELLY__NOPE": "1"}, "kelly.nope = 1: unknown key"),
    ({"RISKDESK__KELLY": "3"}, "kelly = 3"),
])
def test_bad_env_override_names_the_key(env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        RiskConfig.preset("default", env=env)


def test_env_into_a_scalar_is_an_error() -> None:
    with pytest.raises(ConfigError, match="RISKDESK__NAME__X"):
        RiskConfig.from_mapping({"name": "x"}, env={"RISKDESK__NAME__X": "1"})


# ------------------------------------------------------------------ schema
def test_json_schema_covers_every_section() -> None:
    props = RiskConfig.json_schema()["properties"]
    for section in ("position_sizing", "risk_management", "kelly", "conviction",
                    "account_tiers", "leverage", "margin_zones", "drawdown", "phases", "vix",
                    "strategies", "capital_tiers", "liquidity", "exits"):
        assert section in props
