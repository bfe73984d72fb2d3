from __future__ import annotations

import math

import pytest

from riskdesk.config import RiskConfig
from riskdesk.domain import AccountState, Position, ReasonCode
from riskdesk.limits import (
    LimitParams,
    concentration_gate,
    cvar_gate,
    exposure,
    max_positions_gate,
    opener_caps,
    price_band_gate,
    restricted_symbol_gate,
    score_validity_gate,
    signal_threshold_gate,
    spread_gate,
    trades_per_day_gate,
)

R = ReasonCode


@pytest.mark.parametrize(("args", "code"), [
    (("BTC", frozenset({"BTC"})), R.RESTRICTED_SYMBOL),
    (("SOL", frozenset(), ("BTC", "ETH")), R.RESTRICTED_SYMBOL),
    (("ETH", frozenset(), ("BTC", "ETH")), None),
    (("DOGE", frozenset({"BTC"})), None),
])
def test_restricted_symbol_gate(args, code):
    got = restricted_symbol_gate(*args)
    assert (got.code if got else None) is code


@pytest.mark.parametrize(("strength", "threshold", "code"), [
    (0.019, 0.02, R.SIGNAL_BELOW_THRESHOLD), (-0.019, 0.02, R.SIGNAL_BELOW_THRESHOLD),
    (0.02, 0.02, None), (-0.5, 0.02, None), (None, 0.02, R.SIGNAL_BELOW_THRESHOLD),
    (None, 0.0, None), (0.0, 0.0, None)])
def test_signal_threshold_gate(strength, threshold, code):
    got = signal_threshold_gate(strength, threshold)
    assert (got.code if got else None) is code


@pytest.mark.parametrize(("score", "minimum", "code"), [
    (0.0, 0.0, R.SCORE_INVALID), (-1.0, 0.0, R.SCORE_INVALID), (None, 0.0, R.SCORE_INVALID),
    (0.01, 0.0, None), (None, None, None), (-5.0, None, None)])
def test_score_validity_gate(score, minimum, code):
    got = score_validity_gate(score, minimum)
    assert (got.code if got else None) is code


@pytest.mark.parametrize(("sign", "net", "code"), [
    (1, 0.71, R.CONCENTRATION), (1, 0.70, None), (-1, 0.9, None), (-1, -0.75, R.CONCENTRATION),
    (1, -0.9, None)])
def test_concentration_gate_blocks_entries_in_the_crowded_direction(sign, net, code):
    got = concentration_gate(sign, net, 0.70)
    assert (got.code if got else None) is code


def test_count_gates():
    assert max_positions_gate(3, 3, "phase").code is R.MAX_POSITIONS
    assert max_positions_gate(2, 3, "phase") is None
    assert max_positions_gate(5, 5, "s", R.STRATEGY_POSITION_LIMIT).code is \
        R.STRATEGY_POSITION_LIMIT
    assert trades_per_day_gate(3, 3).code is R.TRADES_PER_DAY
    assert trades_per_day_gate(2, 3) is None


@pytest.mark.parametrize(("price", "bid", "ask", "code"), [
    (100.0, 99.0, 101.0, None), (101.99, 99.0, 101.0, None), (102.01, 99.0, 101.0,
                                                             R.PRICE_OUT_OF_BAND),
    (97.9, 99.0, 101.0, R.PRICE_OUT_OF_BAND), (500.0, None, 101.0, None)])
def test_price_band_gate(price, bid, ask, code):
    got = price_band_gate(price, bid, ask, 0.02)
    assert (got.code if got else None) is code


@pytest.mark.parametrize(("spread", "limit", "code"), [
    (19.9, 20.0, None), (20.1, 20.0, R.SPREAD_TOO_WIDE), (None, 20.0, R.STATE_MISSING),
    (None, math.inf, None), (500.0, math.inf, None)])
def test_spread_gate_fails_closed_without_a_quote(spread, limit, code):
    got = spread_gate(spread, limit)
    assert (got.code if got else None) is code


def test_cvar_gate():
    assert cvar_gate(10_000, 0.05, 100_000, 0.005) is None          # 500 loss = 0.5%
    assert cvar_gate(10_001, 0.05, 100_000, 0.005).code is R.CVAR_LIMIT


def test_opener_caps_count_held_position_and_exposure():
    cfg = RiskConfig.preset("aurora-capital-scaling", env={})
    acct = AccountState(equity=100_000, available=60_000, buying_power=200_000, positions=(
        Position("AAPL", "LONG", 20, 200), Position("MSFT", "SHORT", 10, 400)))
    ex = exposure(acct)
    caps = {code: limit for code, limit, _ in opener_caps(1, "AAPL", 1.0, ex,
                                                          LimitParams.from_config(cfg))}
    assert caps[R.CAP_ORDER_NOTIONAL] == 15_000
    assert caps[R.CAP_MAX_TRADE_SIZE] == 25_000
    assert caps[R.CAP_SYMBOL] == pytest.approx(15_000 - 4_000)
    assert caps[R.CAP_POSITION_SIZE] == pytest.approx(15_000 - 4_000)
    assert caps[R.CAP_TOTAL_EXPOSURE] == pytest.approx(80_000 - (4_000 - 4_000))
    assert caps[R.CAP_GROSS_EXPOSURE] == pytest.approx(100_000 - 8_000)
    assert caps[R.CAP_BUYING_POWER] == pytest.approx(60_000 * 0.95)
    short = {code: limit for code, limit, _ in opener_caps(-1, "AAPL", 1.0, ex,
                                                           LimitParams.from_config(cfg))}
    assert short[R.CAP_SYMBOL] == pytest.approx(15_000)     # a long is not "held" for a short


def test_buying_power_cap_uses_the_smaller_of_margin_power_and_broker_buying_power():
    cfg = RiskConfig.preset("crypto-capital-manager", env={})
    lp = LimitParams.from_config(cfg)
    ex = exposure(AccountState(equity=5_000, available=4_200, buying_power=25_000))
    caps = {c: v for c, v, _ in opener_caps(1, "BTC", 5.0, ex, lp)}
    assert caps[R.CAP_BUYING_POWER] == pytest.approx(21_000 * 0.95)
    caps = {c: v for c, v, _ in opener_caps(1, "BTC", 8.0, ex, lp)}
    assert caps[R.CAP_BUYING_POWER] == pytest.approx(25_000 * 0.95)
