"""Seed 002's SizingStabilizer."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from riskdesk.config import RiskConfig, Stabilizer
from riskdesk.errors import InvalidInputError
from riskdesk.sizing import SizingStabilizer

T0 = datetime(2025, 3, 3, 14, 30, tzinfo=UTC)
BUCKETS = (0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(("fraction", "snapped"), [
    (0.0, 0.0), (0.01, 0.0), (0.025, 0.025), (0.049, 0.025), (0.12, 0.1),
    (0.2, 0.2), (0.35, 0.2),
])
def test_snaps_down_to_buckets(fraction: float, snapped: float) -> None:
    s = SizingStabilizer(0.0, BUCKETS, 0.0)
    assert s.update("BTC", fraction, T0) == snapped


def test_without_buckets_passes_values() -> None:
    s = SizingStabilizer(0.0, (), 0.0)
    assert s.update("BTC", 0.1234, T0) == 0.1234


def test_hysteresis_keeps_previous_within_band() -> None:
    s = SizingStabilizer(0.1, (), 0.0)
    assert s.update("BTC", 0.10, at(0)) == 0.10
    assert s.update("BTC", 0.109, at(1)) == 0.10   # +9%: within 10%
    assert s.update("BTC", 0.091, at(2)) == 0.10   # -9%
    assert s.update("BTC", 0.12, at(3)) == 0.12    # +20%: accepted
    assert s.last("BTC") == 0.12


def test_min_interval_holds_changes_until_elapsed() -> None:
    s = SizingStabilizer(0.0, BUCKETS, 60.0)
    assert s.update("BTC", 0.1, at(0)) == 0.1
    assert s.update("BTC", 0.2, at(30)) == 0.1
    assert s.update("BTC", 0.05, at(59.9)) == 0.1
    assert s.update("BTC", 0.2, at(60)) == 0.2
    # the timer restarts at the last accepted change
    assert s.update("BTC", 0.15, at(100)) == 0.2
    assert s.update("BTC", 0.15, at(120)) == 0.15


def test_exit_to_zero_is_never_held_back() -> None:
    s = SizingStabilizer(0.5, BUCKETS, 3600.0)
    assert s.update("BTC", 0.2, at(0)) == 0.2
    assert s.update("BTC", 0.01, at(1)) == 0.0  # snaps to zero: an exit goes through
    assert s.last("BTC") == 0.0


def test_from_zero_any_increase_is_a_change() -> None:
    s = SizingStabilizer(0.5, (), 0.0)
    assert s.update("BTC", 0.0, at(0)) == 0.0
    assert s.update("BTC", 0.01, at(1)) == 0.01


def test_symbols_are_independent_and_reset() -> None:
    s = SizingStabilizer(0.0, BUCKETS, 60.0)
    s.update("BTC", 0.1, at(0))
    assert s.update("ETH", 0.2, at(1)) == 0.2
    assert s.update("BTC", 0.2, at(1)) == 0.1
    s.reset("BTC")
    assert s.last("BTC") is None
    assert s.update("BTC", 0.2, at(2)) == 0.2
    s.reset()
    assert s.last("ETH") is None


def test_from_config_seed002_preset() -> None:
    cfg = RiskConfig.preset("aurora-kelly", env={}).kelly.stabilizer
    s = SizingStabilizer.from_config(cfg)
    assert s.hysteresis == 0.1
    assert s.min_interval_seconds == 60.0
    assert s.buckets == BUCKETS
    assert s.update("BTC", 0.13, T0) == 0.125


def test_from_disabled_config_passes_through() -> None:
    s = SizingStabilizer.from_config(Stabilizer(enabled=False, hysteresis=0.5,
                                                buckets=(0.1,), min_interval_seconds=600))
    assert s.update("BTC", 0.1234, at(0)) == 0.1234
    assert s.update("BTC", 0.1300, at(1)) == 0.1300


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"hysteresis": -0.1}, "hysteresis"), ({"hysteresis": math.nan}, "hysteresis"),
    ({"buckets": (0.1, 1.5)}, "buckets[1]"),
    ({"min_interval_seconds": math.inf}, "min_interval_seconds"),
])
def test_constructor_rejects_bad_input(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        SizingStabilizer(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_update_rejects_bad_input() -> None:
    s = SizingStabilizer(0.1, BUCKETS, 10.0)
    with pytest.raises(InvalidInputError) as err:
        s.update("BTC", math.nan, T0)
    assert err.value.field == "fraction"
    with pytest.raises(InvalidInputError) as err:
        s.update("BTC", -0.1, T0)
    assert err.value.field == "fraction"
    with pytest.raises(InvalidInputError) as err:
        s.update("BTC", 0.1, datetime(2025, 1, 1))  # naive
    assert err.value.field == "now"
    s.update("BTC", 0.1, at(10))
    with pytest.raises(InvalidInputError) as err:
        s.update("BTC", 0.2, at(5))  # clock went backwards
    assert err.value.field == "now"
    assert s.last("BTC") == 0.1  # nothing written for bad input
