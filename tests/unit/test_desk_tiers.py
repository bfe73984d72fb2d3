"""The desk's capital tier cap reads allocation's tiers: membership, budget, leverage range."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from riskdesk import (
    AccountState,
    Action,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    RiskConfig,
    Signal,
)
from riskdesk.allocation import tier_budgets, tier_exposures, tiers_from_config
from riskdesk.desk import Desk
from riskdesk.errors import ConfigError

NOW = datetime(2025, 1, 1, tzinfo=UTC)
CFG = RiskConfig.preset("crypto-capital-manager", env={})
SPECS = tiers_from_config(CFG.capital_tiers)


def account(available: str = "5000", *positions: Position) -> AccountState:
    held = positions or (Position("BTCUSDT", "LONG", Decimal("0.4"), Decimal(62_375),
                                  leverage=5),)  # 4,990 of CORE's 5,000 margin
    return AccountState(equity=Decimal(10_000), available=Decimal(available),
                        margin_used=sum((p.margin for p in held), Decimal(0)), as_of=NOW,
                        positions=held, buying_power=Decimal(40_000))


def market(symbol: str) -> MarketSnapshot:
    return MarketSnapshot(MarketRules(symbol, step="0.0001", tick="0.01", max_leverage=125),
                          price=Decimal(3000), bid=Decimal("2999.9"), ask=Decimal("3000.1"),
                          atr=Decimal(60), as_of=NOW)


def signal(symbol: str) -> Signal:
    return Signal(symbol, "LONG", score=85, win_rate=0.6, win_loss_ratio=1.8)


def allocation_room(acct: AccountState, tier: str) -> float:
    margin = {p.symbol: p.margin for p in acct.positions}
    used = tier_exposures(margin, SPECS, default=CFG.capital_tiers.default_tier)
    return float(tier_budgets(acct.equity, used, SPECS, available=acct.available)[tier].remaining)


def tier_cap(d):
    caps = [a for a in d.trail if a.code is ReasonCode.CAP_TIER_BUDGET]
    return caps[0] if caps else None


def test_the_tier_cap_is_allocations_remaining_budget_times_leverage():
    acct = account()
    d = Desk(CFG).recommend(signal("ETHUSDT"), acct, market("ETHUSDT"), now=NOW)
    assert d.binding_cap is ReasonCode.CAP_TIER_BUDGET
    room = allocation_room(acct, "CORE")
    assert room == pytest.approx(10.0)
    assert tier_cap(d).after == pytest.approx(room * float(d.leverage), rel=1e-12)
    assert d.notional <= Decimal(repr(room)) * d.leverage


@pytest.mark.parametrize(("symbol", "tier"), [
    ("ETHUSDT", "CORE"), ("SOLUSDT", "GROWTH"), ("ETH-PERP", "OPPORTUNITY"),
    ("ethusdt", "OPPORTUNITY")])
def test_membership_is_the_exact_symbol(symbol, tier):
    acct = account()
    d = Desk(CFG).recommend(signal(symbol), acct, market(symbol), now=NOW)
    spec = next(t for t in SPECS if t.name == tier)
    assert spec.min_leverage <= float(d.leverage) <= spec.max_leverage
    if tier == "CORE":
        assert d.binding_cap is ReasonCode.CAP_TIER_BUDGET
    else:  # the full CORE tier does not hold back another tier's symbol
        assert tier_cap(d) is None
        assert allocation_room(acct, tier) * float(d.leverage) >= float(d.notional)
    lev = Desk(CFG).optimal_leverage(market(symbol), acct)
    assert spec.min_leverage <= lev.leverage <= spec.max_leverage


def test_the_free_balance_above_the_reserve_limits_every_tier():
    acct = account("520", Position("SOLUSDT", "LONG", Decimal(1), Decimal(150), leverage=5))
    assert allocation_room(acct, "GROWTH") == pytest.approx(20.0)  # 520 less the 500 reserve
    d = Desk(CFG).recommend(signal("SOLUSDT"), acct, market("SOLUSDT"), now=NOW)
    assert d.binding_cap is ReasonCode.CAP_TIER_BUDGET
    assert tier_cap(d).after == pytest.approx(20.0 * float(d.leverage), rel=1e-12)
    broke = account("500", Position("SOLUSDT", "LONG", Decimal(1), Decimal(150), leverage=5))
    d = Desk(CFG).recommend(signal("DOGEUSDT"), broke, market("DOGEUSDT"), now=NOW)
    assert d.action is Action.REJECT
    assert d.reasons == (ReasonCode.CAP_TIER_BUDGET,)


def test_a_tier_section_allocation_cannot_read_fails_at_construction():
    data = CFG.model_dump()
    data["capital_tiers"]["default_tier"] = "RESERVE"
    bad = RiskConfig.from_mapping(data, env={})
    with pytest.raises(ConfigError, match="default_tier"):
        Desk(bad)
    data["capital_tiers"]["enabled"] = False
    Desk(RiskConfig.from_mapping(data, env={}))  # tiers off: not read
