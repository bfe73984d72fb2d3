"""The shared threshold ladder and the two seed-001 ladders built on it."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from riskdesk.config import CapitalStatus, MarginZones
from riskdesk.errors import InvalidInputError
from riskdesk.limits import (
    CapitalStatusLevel,
    MarginZone,
    _capital_status,
    _ladder,
    _margin,
    capital_status,
    margin_zone,
)
from riskdesk.limits._ladder import ladder_zone

BOUNDS = (0.9, 0.6, 0.3)
ZONES = ("high", "mid", "low")


@pytest.mark.parametrize(("value", "zone"), [
    (0.0, "floor"), (0.2999, "floor"), (0.3, "low"), (0.5999, "low"), (0.6, "mid"),
    (0.8999, "mid"), (0.9, "high"), (7.0, "high"),
])
def test_each_bound_starts_its_zone(value: float, zone: str) -> None:
    assert ladder_zone(value, BOUNDS, ZONES, "floor", field="x") == zone


def test_the_first_bound_reached_wins_even_out_of_order() -> None:
    # 0.5 reaches both 0.4 (listed first) and 0.2: the first listed decides.
    assert ladder_zone(0.5, (0.4, 0.2), ("a", "b"), "floor", field="x") == "a"
    assert ladder_zone(0.3, (0.4, 0.2), ("a", "b"), "floor", field="x") == "b"


def test_no_bounds_is_always_the_floor() -> None:
    assert ladder_zone(0.7, (), (), "floor", field="x") == "floor"


@pytest.mark.parametrize("bad", [-0.01, float("nan"), float("inf"), float("-inf")])
def test_unusable_value_names_the_field(bad: float) -> None:
    with pytest.raises(InvalidInputError) as err:
        ladder_zone(bad, BOUNDS, ZONES, "floor", field="some.field")
    assert err.value.field == "some.field"


def test_seed_001_default_ladder_is_50_75_90() -> None:
    # Seed 001: GREEN 0-50%, YELLOW 50-75%, ORANGE 75-90%, RED 90-100%; the capital status
    # steps at the same margin-use bounds.
    assert (MarginZones().yellow, MarginZones().orange, MarginZones().red) == (0.50, 0.75, 0.90)
    cs = CapitalStatus()
    assert (cs.warning, cs.critical, cs.emergency) == (0.50, 0.75, 0.90)


@pytest.mark.parametrize(("used", "zone", "level"), [
    (0.1, MarginZone.GREEN, CapitalStatusLevel.HEALTHY),
    (0.5, MarginZone.YELLOW, CapitalStatusLevel.WARNING),
    (0.75, MarginZone.ORANGE, CapitalStatusLevel.CRITICAL),
    (0.95, MarginZone.RED, CapitalStatusLevel.EMERGENCY),
])
def test_margin_zone_and_capital_status_step_together_by_default(
        used: float, zone: MarginZone, level: CapitalStatusLevel) -> None:
    assert margin_zone(used, MarginZones()) is zone
    assert capital_status(used, CapitalStatus()) is level


def test_capital_status_reads_its_own_section() -> None:
    cfg = CapitalStatus(warning=0.2, critical=0.4, emergency=0.6)
    assert capital_status(0.19, cfg) is CapitalStatusLevel.HEALTHY
    assert capital_status(0.2, cfg) is CapitalStatusLevel.WARNING
    assert capital_status(0.4, cfg) is CapitalStatusLevel.CRITICAL
    assert capital_status(0.6, cfg) is CapitalStatusLevel.EMERGENCY
    with pytest.raises(InvalidInputError, match="margin_used_pct"):
        capital_status(float("nan"), cfg)


@pytest.mark.parametrize("module", [_ladder, _margin, _capital_status])
def test_examples_in_the_docstrings_hold(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
