"""DeskState: what survives a restart, and the operator's controls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskdesk import (
    AccountState,
    Action,
    MarketRules,
    MarketSnapshot,
    ReasonCode,
    RiskConfig,
    Signal,
    TradingState,
)
from riskdesk.desk import Desk, DeskState
from riskdesk.errors import InvalidInputError
from riskdesk.limits import BreakerState, DrawdownLevel

NOW = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
CFG = RiskConfig.preset("crypto-capital-manager", env={})
RULES = MarketRules("BTCUSDT", step="0.00001", tick="0.01", max_leverage=125)


def market(at=NOW) -> MarketSnapshot:
    return MarketSnapshot(RULES, price=Decimal(50_000), bid=Decimal(49_999),
                          ask=Decimal(50_001), atr=Decimal(1_000), as_of=at)


def account(equity=10_000, hwm=None, at=NOW) -> AccountState:
    return AccountState(equity=Decimal(equity), available=Decimal(equity), as_of=at,
                        high_water_mark=None if hwm is None else Decimal(hwm))


SIG = Signal("BTCUSDT", "LONG", score=85)


def test_state_round_trips_through_json():
    s = DeskState(TradingState.REDUCING, BreakerState().trip(NOW, 24, "heavy"),
                  DrawdownLevel.HEAVY, "note", NOW, "ann")
    assert DeskState.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert DeskState.from_dict(DeskState().to_dict()) == DeskState()


@pytest.mark.parametrize(("data", "field"), [
    ({"trading_state": "PAUSED"}, "state.trading_state"),
    ({"drawdown_level": "EXTREME"}, "state.drawdown_level"),
    ({"updated_at": "yesterday"}, "state.updated_at"),
    ({"extra": 1}, "state"),
])
def test_bad_state_names_the_field(data, field):
    with pytest.raises(InvalidInputError) as err:
        DeskState.from_dict(data)
    assert err.value.field == field


def test_heavy_drawdown_trips_the_breaker_and_the_state_records_it():
    desk = Desk(CFG)
    d = desk.recommend(SIG, account(7_500, hwm=10_000), market(), now=NOW)
    assert d.action is Action.REJECT
    assert d.reasons == (ReasonCode.TRADING_HALTED, ReasonCode.BREAKER_TRIPPED)
    st = desk.state
    assert st.breaker.tripped
    assert st.breaker.until == NOW + timedelta(hours=24)
    assert st.drawdown_level is DrawdownLevel.HEAVY
    assert st.updated_by == "desk"
    # A restart from the persisted state keeps the breaker.
    again = Desk(CFG, state=DeskState.from_dict(st.to_dict()))
    later = NOW + timedelta(hours=1)
    d2 = again.recommend(SIG, account(7_500, hwm=10_000, at=later), market(later), now=later)
    assert ReasonCode.BREAKER_TRIPPED in d2.reasons
    # The pause ends by itself; entries resume at the heavy level's size.
    end = NOW + timedelta(hours=24, seconds=1)
    d3 = again.recommend(SIG, account(7_500, hwm=10_000, at=end), market(end), now=end)
    assert d3.approved
    assert d3.reasons == (ReasonCode.DRAWDOWN_HEAVY,)


def test_reset_is_explicit_and_recorded():
    desk = Desk(CFG)
    desk.recommend(SIG, account(7_500, hwm=10_000), market(), now=NOW)
    st = desk.reset_breaker(operator="risk-officer", note="reviewed", now=NOW)
    assert not st.breaker.tripped
    assert st.breaker.reset_by == "risk-officer"
    assert st.breaker.reset_note == "reviewed"
    assert st.updated_by == "risk-officer"
    assert desk.recommend(SIG, account(7_500, hwm=10_000), market(), now=NOW).approved
    again = desk.reset_breaker(operator="ann", note="again", now=NOW)
    assert "not tripped" in again.note
    assert again.breaker.reset_by == "ann"


def test_set_trading_state_is_recorded_and_validated():
    desk = Desk(CFG)
    st = desk.set_trading_state("halted", operator="ops", note="exchange incident", now=NOW)
    assert st.trading_state is TradingState.HALTED
    assert st.updated_by == "ops"
    assert "exchange incident" in st.note
    assert st.updated_at == NOW
    with pytest.raises(InvalidInputError, match="state"):
        desk.set_trading_state("PAUSE", operator="ops", note="", now=NOW)
    with pytest.raises(InvalidInputError, match="operator"):
        desk.set_trading_state("ACTIVE", operator="", note="", now=NOW)
    assert desk.state is st
    desk.set_trading_state(TradingState.ACTIVE, operator="ops", note="resolved", now=NOW)
    assert desk.recommend(SIG, account(), market(), now=NOW).approved


def test_rejected_stale_state_writes_nothing():
    desk = Desk(CFG)
    before = desk.state
    d = desk.recommend(SIG, account(7_500, hwm=10_000, at=NOW - timedelta(hours=1)), market(),
                       now=NOW)
    assert d.reasons == (ReasonCode.STATE_STALE,)
    assert desk.state is before


def test_clock_supplies_now():
    desk = Desk(CFG, clock=lambda: NOW)
    assert desk.recommend(SIG, account(), market()).decided_at == NOW
    with pytest.raises(InvalidInputError, match="clock"):
        Desk(CFG, clock=42)  # type: ignore[arg-type]


def test_status_views():
    desk = Desk(CFG)
    a = AccountState(equity=Decimal(4_950), available=Decimal(4_200),
                     margin_used=Decimal(800), unrealized_pnl=Decimal(-50),
                     buying_power=Decimal(25_000), as_of=NOW)
    assert desk.capital_state(a).margin_used_pct == 16.0
    assert desk.margin_status(a).zone.value == "GREEN"
    assert desk.drawdown_status(a, NOW).level is DrawdownLevel.NORMAL
    assert desk.scaling_strategy(a).tier == "medium"
    assert desk.trading_state(a, NOW) == (TradingState.ACTIVE, ())
    adv = desk.optimal_leverage(market(), a, SIG)
    assert 3 <= adv.leverage <= 5         # BTC is CORE: 3-5x
    # Status views never change the state.
    heavy = account(7_000, hwm=10_000)
    assert desk.drawdown_status(heavy, NOW).breaker_tripped_now
    assert not desk.state.breaker.tripped
