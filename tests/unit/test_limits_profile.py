from __future__ import annotations

import numpy as np
import pytest

from riskdesk.config import Phases, RiskConfig, Vix
from riskdesk.errors import InvalidInputError
from riskdesk.limits import (
    account_phase,
    max_trades_per_day,
    max_trades_per_day_array,
    phase_position_limit,
    phase_position_limits,
    scaling_strategy,
    strategy_position_limit,
    vix_position_multiplier,
    vix_position_multipliers,
)

OPTIONS = RiskConfig.preset("phased-options", env={})
CRYPTO = RiskConfig.preset("crypto-capital-manager", env={})


@pytest.mark.parametrize(("equity", "phase"), [
    (1_000, 0), (30_000, 0), (30_000.01, 1), (35_000, 1), (40_000, 1), (45_000, 2), (55_000, 2),
    (65_000, 3), (75_000, 3), (85_000, 4), (1e7, 4)])
def test_account_phase_bounds_are_inclusive(equity, phase):
    assert account_phase(equity, OPTIONS.phases) == phase


@pytest.mark.parametrize(("equity", "vix", "limit"), [
    (40_000, 20, 3),      # seed 004: $40k -> 3 positions
    (40_000, None, 3),
    (50_000, 20, 4),      # 3 x 1.5 = 4.5 -> 4
    (65_000, 20, 6),      # 3 x 2.0
    (100_000, 20, 7),     # seed 004: phase 4, 3 x 2.5 = 7.5 -> 7
    (100_000, 36, 3),     # seed 004: VIX > 35 -> int(7 x 0.5) = 3
    (100_000, 30, 5),     # VIX > 25 -> int(7 x 0.75) = 5
    (100_000, 12, 8),     # VIX < 15 -> int(7 x 1.25) = 8
    (10_000, 40, 1),      # never below 1
])
def test_phase_position_limit_reproduces_seed_004(equity, vix, limit):
    assert phase_position_limit(equity, vix, OPTIONS) == limit


@pytest.mark.parametrize(("vix", "mult"), [(None, 1.0), (35.0, 0.75), (35.1, 0.5), (25.0, 1.0),
                                           (25.1, 0.75), (15.0, 1.0), (14.9, 1.25)])
def test_vix_multiplier_thresholds_are_strict(vix, mult):
    assert vix_position_multiplier(vix, OPTIONS.vix) == mult


def test_disabled_vix_section_means_no_adjustment():
    assert vix_position_multiplier(50.0, Vix(enabled=False)) == 1.0


@pytest.mark.parametrize(("strategy", "equity", "vix", "limit"), [
    ("0DTE", 100_000, 20, 5),        # 2 x 2.5
    ("LT112", 100_000, 20, 5),
    ("IPMCC", 100_000, 20, 2),       # 1 x 2.5 = 2.5 -> 2
    ("IPMCC", 20_000, 40, 1),        # never below 1
    ("STRANGLE", 100_000, 12, 8),    # floor(3 x 2.5) = 7, floor(7 x 1.25) = 8 < cap 15
    ("unknown", 100_000, 20, 5),     # default base 2
    ("lt112", 100_000, 20, 5),       # any case
])
def test_strategy_limits(strategy, equity, vix, limit):
    assert strategy_position_limit(strategy, equity, vix, OPTIONS) == limit


def test_strategy_hard_cap_binds():
    cfg = OPTIONS.model_copy(update={"phases": Phases(enabled=True, base_max_positions=3,
                                                      multipliers=(1, 1, 1.5, 2, 10))})
    assert strategy_position_limit("RATIO_SPREAD", 100_000, 20, cfg) == 5
    assert strategy_position_limit("LT112", 100_000, 20, cfg) == 8


@pytest.mark.parametrize(("equity", "vix", "trades"), [
    (20_000, 20, 2), (35_000, 20, 3), (50_000, 20, 5), (70_000, 20, 7), (100_000, 20, 10),
    (100_000, 31, 7), (20_000, 31, 2), (100_000, 14, 12), (70_000, 14, 8), (100_000, None, 10),
    (100_000, 30, 10)])
def test_trades_per_day(equity, vix, trades):
    assert max_trades_per_day(equity, vix, OPTIONS) == trades


def test_array_versions_agree_with_scalar_ones():
    vix = np.array([np.nan, 9.0, 14.99, 15.0, 20.0, 25.0, 25.01, 30.0, 30.01, 35.0, 35.01, 80.0])
    for equity in (10_000, 35_000, 50_000, 70_000, 100_000):
        scalar = [phase_position_limit(equity, None if np.isnan(v) else float(v), OPTIONS)
                  for v in vix]
        assert phase_position_limits(equity, vix, OPTIONS).tolist() == scalar
        trades = [max_trades_per_day(equity, None if np.isnan(v) else float(v), OPTIONS)
                  for v in vix]
        assert max_trades_per_day_array(equity, vix, OPTIONS).tolist() == trades
    mults = [vix_position_multiplier(None if np.isnan(v) else float(v), OPTIONS.vix)
             for v in vix]
    assert vix_position_multipliers(vix, OPTIONS.vix).tolist() == mults


@pytest.mark.parametrize(("equity", "tier", "positions", "lev", "risk"), [
    (500, "small", 5, (5, 10), 15.0), (2_500, "medium", 10, (3, 8), 50.0),
    (10_000, "large", 15, (2, 5), 150.0), (1_000, "medium", 10, (3, 8), 20.0)])
def test_scaling_strategy_by_account_size(equity, tier, positions, lev, risk):
    s = scaling_strategy(equity, CRYPTO)
    assert (s.tier, s.max_positions, (s.min_leverage, s.max_leverage)) == (tier, positions, lev)
    assert s.risk_per_trade == pytest.approx(risk)
    assert s.phase is None


def test_scaling_strategy_below_every_tier_and_with_phases():
    assert scaling_strategy(50, CRYPTO).tier is None
    s = scaling_strategy(100_000, OPTIONS, vix=36)
    assert (s.phase, s.phase_max_positions, s.max_trades_per_day) == (4, 3, 7)
    assert s.to_dict()["phase"] == 4


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_equity_is_rejected(bad):
    with pytest.raises(InvalidInputError, match="equity"):
        account_phase(bad, OPTIONS.phases)


def test_bad_vix_is_rejected():
    with pytest.raises(InvalidInputError, match="vix"):
        phase_position_limit(50_000, float("nan"), OPTIONS)
