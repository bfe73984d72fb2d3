"""Seed 000's compute_size: capital utilization factor, caps, thresholds and log lines."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from riskdesk.config import PositionSizing, RiskConfig
from riskdesk.domain import MarketRules, ReasonCode
from riskdesk.errors import InvalidInputError
from riskdesk.sizing import SizeDecision, compute_size, compute_size_or_reason

PORTFOLIO = 195_000.0  # seed 000: "~$44,000 of $195,000 available capital"

# (symbol, qty, notional, intended_val) from seed 000's "Expected Log Output".
SEED_LOG = [
    ("AAPL", -22, 4989.60, 41819.22),
    ("MSFT", -9, 4506.89, 72363.85),
    ("GOOGL", -20, 4787.60, 61075.15),
]


@pytest.fixture
def aurora() -> PositionSizing:
    return RiskConfig.preset("aurora-capital-scaling", env={}).position_sizing


def _weight(intended: float, factor: float = 2.0) -> float:
    """The short weight that gives ``intended`` at ``factor`` on PORTFOLIO."""
    return -intended / (PORTFOLIO * factor)


def _price(qty: int, notional: float) -> float:
    """The price the seed's log implies, to four decimals."""
    return round(notional / abs(qty), 4)


def test_seed000_intended_value_is_weight_times_portfolio_times_factor(
        aurora: PositionSizing) -> None:
    d = compute_size("AAPL", -0.1, 226.80, 100_000.0, aurora)
    assert d is not None
    assert d.intended_val == pytest.approx(0.1 * 100_000.0 * 2.0)


@pytest.mark.parametrize(("symbol", "qty", "notional", "intended"), SEED_LOG)
def test_seed000_logged_qty_is_not_what_a_15k_cap_gives_formula_wins(
        aurora: PositionSizing, symbol: str, qty: int, notional: float,
        intended: float) -> None:
    price = _price(qty, notional)
    d = compute_size(symbol, _weight(intended), price, PORTFOLIO, aurora)
    assert d is not None
    assert d.intended_val == pytest.approx(intended)
    # Under the documented 15,000 order cap the formula sizes to floor(15000 / price) shares,
    # about three times the logged quantity.
    assert d.capped_val == 15_000.0
    assert d.binding is ReasonCode.CAP_ORDER_NOTIONAL
    assert d.qty == -Decimal(math.floor(15_000.0 / price))
    assert d.qty != qty
    assert abs(d.notional) <= 15_000.0


@pytest.mark.parametrize(("symbol", "qty", "notional", "intended"), SEED_LOG)
def test_seed000_log_lines_are_reproduced_under_a_5000_order_cap(
        aurora: PositionSizing, symbol: str, qty: int, notional: float,
        intended: float) -> None:
    price = _price(qty, notional)
    d = compute_size(symbol, _weight(intended), price, PORTFOLIO, aurora,
                     max_order_notional=5_000.0)
    assert d is not None
    assert d.qty == qty
    assert d.binding is ReasonCode.CAP_ORDER_NOTIONAL
    assert d.log_line() == (f"SizeDecision: {symbol} qty={qty} (TARGET), "
                            f"notional={notional:.2f}, intended_val={intended:.2f}")


def test_log_line_format_matches_seed() -> None:
    d = SizeDecision("AAPL", Decimal(-22), 226.8, 4989.6, 41819.22, 5000.0,
                     ReasonCode.CAP_ORDER_NOTIONAL)
    assert d.log_line() == ("SizeDecision: AAPL qty=-22 (TARGET), notional=4989.60, "
                            "intended_val=41819.22")


@pytest.mark.parametrize(("weight", "kwargs", "capped", "binding"), [
    # intended 0.05 x 100k x 2 = 10,000: below every cap
    (0.05, {}, 10_000.0, None),
    # intended 20,000: the 15k order cap binds
    (0.10, {}, 15_000.0, ReasonCode.CAP_ORDER_NOTIONAL),
    # a tighter caller cap binds; a looser one does not loosen the config's
    (0.10, {"max_order_notional": 12_000.0}, 12_000.0, ReasonCode.CAP_ORDER_NOTIONAL),
    (0.10, {"max_order_notional": 50_000.0}, 15_000.0, ReasonCode.CAP_ORDER_NOTIONAL),
])
def test_caps_table(aurora: PositionSizing, weight: float, kwargs: dict[str, float],
                    capped: float, binding: ReasonCode | None) -> None:
    d = compute_size("X", weight, 10.0, 100_000.0, aurora, **kwargs)
    assert d is not None
    assert d.capped_val == pytest.approx(capped)
    assert d.binding is binding


def test_max_trade_size_binds_when_below_order_cap() -> None:
    cfg = PositionSizing(capital_utilization_factor=1.0, order_notional_cap=50_000,
                         max_trade_size=25_000, max_position_size=1.0)
    d = compute_size("X", 0.5, 10.0, 100_000.0, cfg)
    assert d is not None
    assert d.capped_val == 25_000.0
    assert d.binding is ReasonCode.CAP_MAX_TRADE_SIZE


def test_per_symbol_cap_binds_on_small_portfolio(aurora: PositionSizing) -> None:
    # 15% of 50,000 = 7,500 < 15,000 order cap; intended 0.2 x 50k x 2 = 20,000.
    d = compute_size("X", 0.2, 10.0, 50_000.0, aurora)
    assert d is not None
    assert d.capped_val == pytest.approx(7_500.0)
    assert d.binding is ReasonCode.CAP_SYMBOL
    assert d.qty == 750


def test_sign_follows_weight(aurora: PositionSizing) -> None:
    long = compute_size("X", 0.05, 10.0, 100_000.0, aurora)
    short = compute_size("X", -0.05, 10.0, 100_000.0, aurora)
    assert long is not None
    assert short is not None
    assert long.qty == -short.qty == 1000
    assert long.notional == short.notional == pytest.approx(10_000.0)


@pytest.mark.parametrize("weight", [0.0, 0.019, -0.0199])
def test_below_signal_threshold_gives_none(aurora: PositionSizing, weight: float) -> None:
    assert compute_size("X", weight, 10.0, 100_000.0, aurora) is None
    assert compute_size_or_reason("X", weight, 10.0, 100_000.0, aurora) \
        is ReasonCode.SIGNAL_BELOW_THRESHOLD


def test_at_signal_threshold_trades(aurora: PositionSizing) -> None:
    assert compute_size("X", 0.02, 10.0, 100_000.0, aurora) is not None


def test_below_one_share_gives_none(aurora: PositionSizing) -> None:
    # intended 0.02 x 1,000 x 2 = 40 < one share at 50
    assert compute_size_or_reason("X", 0.02, 50.0, 1_000.0, aurora) \
        is ReasonCode.ZERO_AFTER_QUANTIZE


def test_below_min_trade_size_gives_none(aurora: PositionSizing) -> None:
    # intended 40 -> 1 share at 21 = $21 < $25 minimum trade
    assert compute_size_or_reason("X", 0.02, 21.0, 1_000.0, aurora) \
        is ReasonCode.BELOW_MIN_NOTIONAL
    d = compute_size("X", 0.02, 10.0, 1_000.0, aurora)
    assert d is not None
    assert d.qty == 4


def test_caller_min_notional(aurora: PositionSizing) -> None:
    assert compute_size("X", 0.02, 10.0, 1_000.0, aurora, min_notional=41.0) is None
    assert compute_size("X", 0.02, 10.0, 1_000.0, aurora, min_notional=40.0) is not None


def test_min_shares_above_one() -> None:
    cfg = PositionSizing(min_shares=10, min_trade_size=0, max_position_size=1.0)
    assert compute_size("X", 0.5, 100.0, 1_500.0, cfg) is None  # 7 shares
    d = compute_size("X", 0.5, 50.0, 1_500.0, cfg)
    assert d is not None
    assert d.qty == 15


def test_with_market_rules_rounds_down_to_step() -> None:
    cfg = PositionSizing(capital_utilization_factor=1.0, min_trade_size=0)
    rules = MarketRules("BTCUSDT", step="0.001", tick="0.1", min_notional="5")
    d = compute_size("BTCUSDT", 0.01, 50_000.0, 10_000.0, cfg, rules=rules)
    assert d is not None
    assert d.qty == Decimal("0.002")  # 100 / 50,000
    assert d.notional == pytest.approx(100.0)
    short = compute_size("BTCUSDT", -0.0123, 50_000.0, 10_000.0, cfg, rules=rules)
    assert short is not None
    assert short.qty == Decimal("-0.002")


def test_with_market_rules_contract_size() -> None:
    cfg = PositionSizing(capital_utilization_factor=1.0, min_trade_size=0,
                         max_position_size=1.0)
    rules = MarketRules("SPY_C", step="1", tick="0.01", contract_size="100")
    d = compute_size("SPY_C", 0.1, 5.0, 10_000.0, cfg, rules=rules)
    assert d is not None
    assert d.qty == 2  # 1,000 / (5 x 100)
    assert d.notional == pytest.approx(1_000.0)


def test_market_max_qty_binds() -> None:
    cfg = PositionSizing(capital_utilization_factor=1.0, min_trade_size=0)
    rules = MarketRules("X", step="1", tick="0.01", max_qty="50")
    d = compute_size("X", 0.1, 10.0, 100_000.0, cfg, rules=rules)
    assert d is not None
    assert d.qty == 50
    assert d.binding is ReasonCode.CAP_MARKET_MAX_QTY


def test_market_min_notional_zeroes_the_size() -> None:
    cfg = PositionSizing(capital_utilization_factor=1.0, min_trade_size=0)
    rules = MarketRules("X", step="0.001", tick="0.1", min_notional="10")
    assert compute_size_or_reason("X", 0.01, 100.0, 500.0, cfg, rules=rules) \
        is ReasonCode.ZERO_AFTER_QUANTIZE


def test_exact_multiple_is_not_lost_to_float_error() -> None:
    cfg = PositionSizing(capital_utilization_factor=1.0, min_trade_size=0,
                         max_position_size=1.0)
    # The seed's int(capped_val // price) gives 2999 here (300.0 // 0.1 == 2999.0 in float);
    # exact arithmetic keeps the full 3000 shares, still within the $300 cap.
    assert 300.0 // 0.1 == 2999.0
    d = compute_size("X", 0.3, 0.1, 1_000.0, cfg)
    assert d is not None
    assert d.qty == 3000
    assert d.qty * Decimal("0.1") <= Decimal("300")


@pytest.mark.parametrize(("args", "field"), [
    (("X", math.nan, 10.0, 1e5), "target_weight"),
    (("X", math.inf, 10.0, 1e5), "target_weight"),
    (("X", 0.1, 0.0, 1e5), "price"),
    (("X", 0.1, -10.0, 1e5), "price"),
    (("X", 0.1, math.nan, 1e5), "price"),
    (("X", 0.1, 10.0, 0.0), "portfolio_value"),
    (("X", 0.1, 10.0, math.inf), "portfolio_value"),
])
def test_bad_input_names_the_field(aurora: PositionSizing, args: tuple[str, float, float, float],
                                   field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        compute_size(*args, aurora)
    assert err.value.field == field


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"max_order_notional": math.nan}, "max_order_notional"),
    ({"max_order_notional": -1.0}, "max_order_notional"),
    ({"min_notional": math.inf}, "min_notional"),
])
def test_bad_caller_limits_name_the_field(aurora: PositionSizing, kwargs: dict[str, float],
                                          field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        compute_size("X", 0.1, 10.0, 100_000.0, aurora, **kwargs)
    assert err.value.field == field
