from __future__ import annotations

import doctest

import numpy as np
import pytest

import riskdesk.limits._capital_status
import riskdesk.limits._cvar
import riskdesk.limits._drawdown
import riskdesk.limits._margin
import riskdesk.limits._opportunity
import riskdesk.limits._profile
import riskdesk.limits._trading_state
from riskdesk.config import CapitalStatus, Opportunity
from riskdesk.domain import AccountState, Intent, Position, ReasonCode, TradingState
from riskdesk.errors import InvalidInputError
from riskdesk.limits import (
    CapitalStatusLevel,
    OpportunityAction,
    admits,
    capital_state,
    capital_status,
    effective_trading_state,
    historical_cvar,
    opportunity_cost,
)

OPP = Opportunity()


def _held(*scores):
    return [Position(f"P{i}", "LONG", 1, 100, score=s) for i, s in enumerate(scores)]


@pytest.mark.parametrize(("score", "held", "free", "action", "worst"), [
    (75.0, (60.0, 80.0), 0.6, OpportunityAction.ENTER_AND_CLOSE_WORST, "P0"),
    (70.0, (60.0, 80.0), 0.6, OpportunityAction.HOLD, "P0"),          # 70 is not > 60 + 10
    (85.0, (80.0, 90.0), 0.5, OpportunityAction.ENTER, "P0"),
    (85.0, (80.0, 90.0), 0.3, OpportunityAction.HOLD, "P0"),          # free not > 30%
    (85.0, (80.0, 90.0), 0.19, OpportunityAction.SKIP, "P0"),
    (70.0, (65.0, 72.0, 81.0), 0.5, OpportunityAction.HOLD, "P0"),    # seed 001's $10k case
    (99.0, (None,), 0.5, OpportunityAction.ENTER, None),              # no scores to compare
    (50.0, (), 0.1, OpportunityAction.ENTER, None),                   # nothing held
])
def test_opportunity_decision_tree(score, held, free, action, worst):
    got = opportunity_cost(score, _held(*held), free, OPP)
    assert got.action is action
    assert got.worst_symbol == worst
    assert got.to_dict()["action"] == action.value


def test_opportunity_rejects_bad_input():
    with pytest.raises(InvalidInputError, match="new_score"):
        opportunity_cost(float("nan"), [], 0.5, OPP)
    with pytest.raises(InvalidInputError, match="free_margin_pct"):
        opportunity_cost(50.0, [], 1.5, OPP)


def test_cvar_averages_the_worst_tail():
    rng = np.random.default_rng(3)
    r = rng.normal(0.0005, 0.02, 1000)
    k = int(np.ceil(0.05 * r.size))
    expected = -np.sort(r)[:k].mean()
    assert historical_cvar(r, 0.95) == pytest.approx(expected, rel=1e-12)
    assert historical_cvar([0.01, 0.02, 0.03], 0.5) == 0.0  # the tail still gains


@pytest.mark.parametrize(("returns", "alpha", "field"), [
    ([], 0.95, "returns"), ([0.1, float("nan")], 0.95, "returns"), ([[0.1]], 0.95, "returns"),
    ([0.1], 1.0, "alpha"), ([0.1], 0.0, "alpha")])
def test_cvar_rejects_bad_input(returns, alpha, field):
    with pytest.raises(InvalidInputError) as err:
        historical_cvar(returns, alpha)
    assert err.value.field == field


@pytest.mark.parametrize(("used", "level"), [
    (0.0, CapitalStatusLevel.HEALTHY), (0.4999, CapitalStatusLevel.HEALTHY),
    (0.5, CapitalStatusLevel.WARNING), (0.75, CapitalStatusLevel.CRITICAL),
    (0.9, CapitalStatusLevel.EMERGENCY)])
def test_capital_status_thresholds(used, level):
    assert capital_status(used, CapitalStatus()) is level


def test_capital_state_reproduces_seed_001_json():
    acct = AccountState(equity=4_950, available=4_200, margin_used=800, unrealized_pnl=-50,
                        buying_power=25_000)
    assert capital_state(acct, CapitalStatus()).to_dict() == {
        "total_wallet_balance": 5000.0, "available_balance": 4200.0, "margin_used": 800.0,
        "margin_used_pct": 16.0, "unrealized_pnl": -50.0, "buying_power": 25000.0,
        "capital_status": "HEALTHY"}


@pytest.mark.parametrize(("op", "breaker", "red", "state", "reasons"), [
    (TradingState.ACTIVE, False, False, TradingState.ACTIVE, ()),
    (TradingState.REDUCING, False, False, TradingState.REDUCING,
     (ReasonCode.TRADING_REDUCING,)),
    (TradingState.HALTED, False, False, TradingState.HALTED, (ReasonCode.TRADING_HALTED,)),
    (TradingState.ACTIVE, True, False, TradingState.HALTED,
     (ReasonCode.TRADING_HALTED, ReasonCode.BREAKER_TRIPPED)),
    (TradingState.REDUCING, False, True, TradingState.HALTED,
     (ReasonCode.TRADING_HALTED, ReasonCode.MARGIN_RED)),
])
def test_effective_trading_state(op, breaker, red, state, reasons):
    assert effective_trading_state(op, breaker_active=breaker, margin_red=red) == (state, reasons)


@pytest.mark.parametrize("state", list(TradingState))
def test_reducers_always_admitted(state):
    assert admits(state, Intent.REDUCE)
    assert admits(state, Intent.OPEN) is (state is TradingState.ACTIVE)


@pytest.mark.parametrize("module", [
    riskdesk.limits._capital_status, riskdesk.limits._cvar, riskdesk.limits._drawdown,
    riskdesk.limits._margin, riskdesk.limits._opportunity, riskdesk.limits._profile,
    riskdesk.limits._trading_state])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0 or module is riskdesk.limits._drawdown
