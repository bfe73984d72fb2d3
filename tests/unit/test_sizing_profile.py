"""Seed 001's account-size profiles."""

from __future__ import annotations

import math

import pytest

from riskdesk.config import AccountTier, RiskConfig
from riskdesk.errors import InvalidInputError
from riskdesk.sizing import account_profile


@pytest.fixture
def tiers() -> dict[str, AccountTier]:
    return dict(RiskConfig.preset("crypto-capital-manager", env={}).account_tiers)


@pytest.mark.parametrize(("equity", "name"), [
    (100.0, "small"), (500.0, "small"), (999.99, "small"), (1_000.0, "medium"),
    (2_500.0, "medium"), (5_000.0, "large"), (10_000.0, "large"), (1e7, "large"),
])
def test_tier_by_equity(tiers: dict[str, AccountTier], equity: float, name: str) -> None:
    found = account_profile(equity, tiers)
    assert found is not None
    assert found[0] == name
    assert found[1] is tiers[name]


def test_seed001_tier_settings(tiers: dict[str, AccountTier]) -> None:
    small, medium, large = tiers["small"], tiers["medium"], tiers["large"]
    assert (small.max_positions, small.min_leverage, small.max_leverage) == (5, 5, 10)
    assert (small.min_risk_pct, small.max_risk_pct) == (0.03, 0.05)
    assert (medium.max_positions, medium.min_leverage, medium.max_leverage) == (10, 3, 8)
    assert (large.max_positions, large.min_leverage, large.max_leverage) == (15, 2, 5)
    assert large.risk_pct == 0.015


@pytest.mark.parametrize("equity", [0.0, 50.0, 99.99])
def test_below_every_tier_is_none(tiers: dict[str, AccountTier], equity: float) -> None:
    assert account_profile(equity, tiers) is None


def test_order_of_mapping_does_not_matter(tiers: dict[str, AccountTier]) -> None:
    reversed_tiers = dict(reversed(list(tiers.items())))
    found = account_profile(3_000.0, reversed_tiers)
    assert found is not None
    assert found[0] == "medium"


@pytest.mark.parametrize("equity", [-1.0, math.nan, math.inf])
def test_rejects_bad_equity(tiers: dict[str, AccountTier], equity: float) -> None:
    with pytest.raises(InvalidInputError) as err:
        account_profile(equity, tiers)
    assert err.value.field == "equity"
