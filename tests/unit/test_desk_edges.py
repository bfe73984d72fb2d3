"""Edge cases of the decision pipeline: batch against scalar, bad inputs, seed boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from preset_support import preset_with as _config
from riskdesk import (
    AccountState,
    Action,
    MarketRules,
    MarketSnapshot,
    ReasonCode,
    RiskConfig,
    Signal,
)
from riskdesk.desk import Desk
from riskdesk.errors import InvalidInputError
from riskdesk.limits import (
    account_phase,
    historical_cvar,
    max_trades_per_day,
    phase_position_limit,
)

NOW = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
R = ReasonCode


def _market(price: str = "97.13", **kw: object) -> MarketSnapshot:
    rules = MarketRules("AAPL", step="0.001", tick="0.01")
    p = Decimal(price)
    return MarketSnapshot(rules, price=p, bid=p - Decimal("0.01"), ask=p + Decimal("0.01"),
                          as_of=NOW, **kw)


ACCOUNT = AccountState(equity=100_000, available=100_000, as_of=NOW)


# ------------------------------------------------------------- Kelly: batch against scalar

@pytest.mark.parametrize(("win_rate", "win_loss_ratio"), [(0.4, 1.5), (0.3, 7 / 3)])
def test_batch_kelly_at_break_even_is_no_edge_like_the_scalar_path(win_rate, win_loss_ratio):
    # b p - (1 - p) is 0 exactly, a hair above 0 in float: with a positive lower clip the
    # vectorized kernel must not turn the float noise into a bet.
    cfg = _config("aurora-kelly", kelly={"stabilizer.enabled": False, "clip_min": 0.01})
    sig = Signal("AAPL", "LONG", win_rate=win_rate, win_loss_ratio=win_loss_ratio)
    scalar = Desk(cfg).recommend(sig, ACCOUNT, _market(), now=NOW)
    assert scalar.action is Action.REJECT
    assert scalar.reasons == (R.NO_EDGE,)
    batch = Desk(cfg).recommend_batch([sig], ACCOUNT, [_market()], now=NOW)
    assert batch.action_of(0) is Action.REJECT
    assert batch.reasons_of(0) == (R.NO_EDGE,)
    assert batch.quantity[0] == 0.0


@pytest.mark.parametrize(("win_rate", "win_loss_ratio"),
                         [(0.58, 1.75), (0.55, 1.2), (0.61, 0.9), (1.0, 1.3), (0.9, 0.2)])
def test_batch_kelly_rows_equal_the_scalar_path(win_rate, win_loss_ratio):
    cfg = _config("aurora-kelly", kelly={"stabilizer.enabled": False, "clip_min": 0.01,
                                         "clip_max": 0.5, "risk_aversion": 2.0})
    sig = Signal("AAPL", "LONG", win_rate=win_rate, win_loss_ratio=win_loss_ratio)
    d = Desk(cfg).recommend(sig, ACCOUNT, _market(), now=NOW)
    batch = Desk(cfg).recommend_batch([sig], ACCOUNT, [_market()], now=NOW)
    assert batch.action_of(0) is d.action
    assert batch.reasons_of(0) == d.reasons
    assert batch.quantity[0] == float(d.quantity)


# ------------------------------------------------------------- CVaR returns: bad input

@pytest.mark.parametrize("returns", [["x"], "abc", [[0.1, 0.2], [0.3]], [object()]])
def test_historical_cvar_non_numeric_returns_are_invalid_input(returns):
    with pytest.raises(InvalidInputError, match="returns"):
        historical_cvar(returns, 0.95)


def test_bad_returns_raise_before_the_kelly_stabilizer_moves():
    cfg = _config("aurora-kelly", risk_management={"cvar_limit_pct": 0.5})
    desk = Desk(cfg)
    with pytest.raises(InvalidInputError, match="returns"):
        desk.recommend(Signal("AAPL", "LONG", win_rate=0.6, win_loss_ratio=2.0), ACCOUNT,
                       _market(), now=NOW, returns=[float("nan")])
    # A call that raises changes nothing: the next order is sized as by a fresh desk.
    later = NOW + timedelta(seconds=1)
    sig = Signal("AAPL", "LONG", win_rate=0.55, win_loss_ratio=1.2)
    d = desk.recommend(sig, ACCOUNT, _market(), now=later, returns=[0.01, -0.01])
    fresh = Desk(cfg).recommend(sig, ACCOUNT, _market(), now=later, returns=[0.01, -0.01])
    assert d.quantity == fresh.quantity
    assert [(a.code, a.note) for a in d.trail] == [(a.code, a.note) for a in fresh.trail]


def test_bad_returns_with_an_earlier_denial_still_raise():
    # Bad input is an error whichever gate would have denied the order first.
    cfg = _config("default", risk_management={"cvar_limit_pct": 0.5,
                                              "restricted_symbols": ["AAPL"]})
    with pytest.raises(InvalidInputError, match="returns"):
        Desk(cfg).recommend(Signal("AAPL", "LONG"), ACCOUNT, _market(), now=NOW,
                            returns=["x"])


def test_reducers_never_read_returns():
    from riskdesk import Position

    cfg = _config("default", risk_management={"cvar_limit_pct": 0.5})
    acct = AccountState(equity=100_000, available=100_000, as_of=NOW,
                        positions=(Position("AAPL", "LONG", 10, 90),))
    d = Desk(cfg).recommend(Signal("AAPL", "SHORT"), acct, _market(), now=NOW,
                            returns=["x"])
    assert d.approved
    assert d.quantity == 10


# ------------------------------------------------------------- volatility targeting

@pytest.mark.parametrize("weights", [None, {"AAPL": 0.0, "MSFT": 1.0}])
def test_volatility_too_small_for_a_finite_size_is_bad_input_naming_the_field(weights):
    cfg = _config("default", position_sizing={"method": "volatility_target"})
    market = _market(volatility=1e-320)
    sig = Signal("AAPL", "LONG")
    with pytest.raises(InvalidInputError, match=r"market\.volatility"):
        Desk(cfg).recommend(sig, ACCOUNT, market, now=NOW, weights=weights)
    with pytest.raises(InvalidInputError, match=r"market\.volatility"):
        Desk(cfg).recommend_batch([sig], ACCOUNT, [market], now=NOW, weights=weights)


def test_volatility_target_notional_refuses_an_infinite_size():
    from riskdesk.sizing import volatility_target_notional

    with pytest.raises(InvalidInputError, match="asset_vol"):
        volatility_target_notional(100_000.0, 0.1, 1e-320)


# ------------------------------------------------------------- seed 004 boundaries

OPTIONS = RiskConfig.preset("phased-options", env={})


def test_seed004_75k_is_phase_3_not_phase_4_the_40k_example_fixes_inclusive_bounds():
    """Seed 004's test treats ``account_value >= 75000`` as phase 4; its $40k example, phase 1
    with 3 positions, needs each phase's upper bound inclusive, which puts $75,000 in phase 3.
    docs/seed-discrepancies.md records the contradiction."""
    assert account_phase(40_000, OPTIONS.phases) == 1
    assert phase_position_limit(40_000, 20.0, OPTIONS) == 3
    assert account_phase(75_000, OPTIONS.phases) == 3
    assert account_phase(75_000.01, OPTIONS.phases) == 4


@pytest.mark.parametrize(("vix", "positions", "trades"), [
    (35.0, 5, 7), (35.01, 3, 7), (25.0, 7, 10), (25.01, 5, 10), (30.0, 5, 10),
    (30.01, 5, 7), (15.0, 7, 10), (14.99, 8, 12), (0.0, 8, 12)])
def test_seed004_vix_boundaries_at_100k(vix, positions, trades):
    assert phase_position_limit(100_000, vix, OPTIONS) == positions
    assert max_trades_per_day(100_000, vix, OPTIONS) == trades
