"""The opener path of Desk.recommend, step by step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskdesk import (
    AccountState,
    Action,
    BookLevel,
    ExecutionMethod,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    RiskConfig,
    Signal,
)
from riskdesk.desk import Desk
from riskdesk.errors import InvalidInputError

NOW = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
R = ReasonCode


def cfg(preset: str = "default", **sections: dict) -> RiskConfig:
    data = RiskConfig.preset(preset, env={}).model_dump()
    for name, vals in sections.items():
        for key, value in vals.items():
            if isinstance(value, dict):
                data[name][key].update(value)
            else:
                data[name][key] = value
    return RiskConfig.from_mapping(data, env={})


def account(equity: float = 100_000, **kw) -> AccountState:
    kw.setdefault("available", equity)
    kw.setdefault("as_of", NOW - timedelta(seconds=5))
    return AccountState(equity=Decimal(repr(equity)), **kw)


def market(symbol: str = "AAPL", price: str = "100", *, step: str = "1", spread: str = "0.02",
           **kw) -> MarketSnapshot:
    rules = MarketRules(symbol, step=step, tick="0.01", min_qty=kw.pop("min_qty", "0"),
                        max_qty=kw.pop("max_qty", None), min_notional=kw.pop("min_notional", "0"),
                        contract_size=kw.pop("contract_size", "1"),
                        max_leverage=kw.pop("max_leverage", "1"))
    p = Decimal(price)
    half = Decimal(spread) / 2
    kw.setdefault("as_of", NOW - timedelta(seconds=1))
    if "bid" not in kw:
        kw["bid"], kw["ask"] = p - half, p + half
    return MarketSnapshot(rules, price=p, **kw)


def codes(d) -> list[ReasonCode]:
    return [a.code for a in d.trail]


# --- step 1: validation, fail closed -----------------------------------------------------------

def test_fixed_fraction_enter_with_a_complete_trail():
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), account(), market(), now=NOW)
    assert d.action is Action.ENTER
    assert d.approved
    assert d.quantity == Decimal(10)
    assert d.notional == Decimal(1000)
    assert d.margin_required == Decimal(1000)
    assert d.leverage == 1
    assert codes(d) == [R.BASE_SIZE, R.DRAWDOWN, R.MARGIN_ZONE, R.LEVERAGE, R.QUANTIZE]
    assert d.trail[0].after == pytest.approx(1000.0)
    assert d.risk_pct == pytest.approx(0.01)
    assert d.decided_at == NOW


@pytest.mark.parametrize(("acct_age", "mkt_age", "reasons"), [
    (61, 1, (R.STATE_STALE,)), (5, 61, (R.MARKET_STALE,)),
    (None, 1, (R.STATE_MISSING,)), (5, None, (R.MARKET_STALE,)),
    (120, 120, (R.STATE_STALE, R.MARKET_STALE)), (-61, 1, (R.STATE_STALE,)),
])
def test_stale_or_missing_state_rejects_openers(acct_age, mkt_age, reasons):
    a = account(as_of=None if acct_age is None else NOW - timedelta(seconds=acct_age))
    m = market(as_of=None if mkt_age is None else NOW - timedelta(seconds=mkt_age))
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), a, m, now=NOW)
    assert d.action is Action.REJECT
    assert d.reasons == reasons
    assert d.quantity == 0
    assert not d.approved


def test_symbol_mismatch_rejects():
    d = Desk(cfg()).recommend(Signal("MSFT", "LONG"), account(), market("AAPL"), now=NOW)
    assert (d.action, d.reasons) == (Action.REJECT, (R.SYMBOL_MISMATCH,))


def test_reduce_only_without_position_rejects():
    d = Desk(cfg()).recommend(Signal("AAPL", "SHORT", reduce_only=True), account(), market(),
                              now=NOW)
    assert d.reasons == (R.NO_POSITION_TO_REDUCE,)


@pytest.mark.parametrize(("call", "field"), [
    (lambda desk: desk.recommend("AAPL", account(), market(), now=NOW), "signal"),
    (lambda desk: desk.recommend(Signal("AAPL", "LONG"), {}, market(), now=NOW), "account"),
    (lambda desk: desk.recommend(Signal("AAPL", "LONG"), account(), None, now=NOW), "market"),
    (lambda desk: desk.recommend(Signal("AAPL", "LONG"), account(), market()), "now"),
    (lambda desk: desk.recommend(Signal("AAPL", "LONG"), account(), market(),
                                 now=datetime(2025, 1, 1)), "now"),
])
def test_bad_input_raises_naming_the_field(call, field):
    desk = Desk(cfg())
    before = desk.state
    with pytest.raises(InvalidInputError) as err:
        call(desk)
    assert err.value.field == field
    assert desk.state is before


def test_stop_on_the_wrong_side_is_bad_input():
    desk = Desk(cfg("default", position_sizing={"method": "stop_risk"}))
    with pytest.raises(InvalidInputError, match=r"signal\.stop_price"):
        desk.recommend(Signal("AAPL", "LONG", stop_price=Decimal(101)), account(), market(),
                       now=NOW)


# --- step 2: trading state and capital ---------------------------------------------------------

@pytest.mark.parametrize(("state", "reasons"), [
    ("HALTED", (R.TRADING_HALTED,)), ("REDUCING", (R.TRADING_REDUCING,))])
def test_operator_halt_and_reduce_only_deny_openers(state, reasons):
    desk = Desk(cfg())
    desk.set_trading_state(state, operator="ops", note="test", now=NOW)
    d = desk.recommend(Signal("AAPL", "LONG"), account(), market(), now=NOW)
    assert (d.action, d.reasons) == (Action.REJECT, reasons)


@pytest.mark.parametrize(("used", "reasons"), [
    (50_000, (R.MARGIN_YELLOW,)), (80_000, (R.MARGIN_ORANGE,)),
    (95_000, (R.TRADING_HALTED, R.MARGIN_RED))])
def test_margin_zones_pause_entries(used, reasons):
    a = account(margin_used=Decimal(used), available=Decimal(100_000 - used))
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), a, market(), now=NOW)
    assert (d.action, d.reasons) == (Action.REJECT, reasons)


def test_daily_loss_limit_denies_entries():
    a = account(day_start_equity=Decimal(104_000))
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), a, market(), now=NOW)
    assert d.reasons == (R.DAILY_LOSS_LIMIT,)


# --- step 4: base size by method ---------------------------------------------------------------

@pytest.mark.parametrize(("score", "notional"), [(4.8, 2_000), (4.0, 1_500), (3.0, 1_000)])
def test_conviction_tiers(score, notional):
    desk = Desk(cfg("equity-conviction", conviction={"max_position_dollar": None},
                    risk_management={"max_position_dollar": None}))
    d = desk.recommend(Signal("AAPL", "LONG", score=score), account(), market(), now=NOW)
    assert d.notional == notional


def test_conviction_without_score_rejects():
    d = Desk(cfg("equity-conviction")).recommend(Signal("AAPL", "LONG"), account(), market(),
                                                 now=NOW)
    assert d.reasons == (R.SCORE_INVALID,)


def test_capital_scaling_uses_weight_times_equity_times_factor():
    d = Desk(cfg("aurora-capital-scaling")).recommend(
        Signal("AAPL", "LONG", strength=0.03), account(), market(), now=NOW)
    assert d.trail[0].code is R.CAPITAL_UTILIZATION
    assert d.trail[0].after == pytest.approx(0.03 * 100_000 * 2.0)
    assert d.notional == 6_000


def test_capital_scaling_without_weight_rejects():
    d = Desk(cfg("aurora-capital-scaling")).recommend(Signal("AAPL", "LONG"), account(),
                                                      market(), now=NOW)
    assert d.reasons == (R.SIGNAL_BELOW_THRESHOLD,)


def test_kelly_needs_its_inputs_and_an_edge():
    desk = Desk(cfg("aurora-kelly", kelly={"stabilizer": {"enabled": False}}))
    assert desk.recommend(Signal("AAPL", "LONG"), account(), market(), now=NOW).reasons == \
        (R.STATE_MISSING,)
    no_edge = Signal("AAPL", "LONG", win_rate=0.4, win_loss_ratio=1.0)
    assert desk.recommend(no_edge, account(), market(), now=NOW).reasons == (R.NO_EDGE,)
    good = Signal("AAPL", "LONG", win_rate=0.55, win_loss_ratio=1.5)
    # buying_power defaults to the available balance (no leverage); a margin account says so.
    d = desk.recommend(good, account(buying_power=Decimal(2_500_000)),
                       market(max_leverage="25"), now=NOW)
    # (1.5 x 0.55 - 0.45) / 1.5 = 0.25 -> clipped to 0.2, x fraction 1, x equity, at the
    # preset's fixed 25x (an account tier's leverage range does not override a fixed
    # leverage); the per-symbol caps (5x equity) leave the clipped fraction whole.
    assert d.trail[0].code is R.KELLY
    assert d.trail[0].after == pytest.approx(0.2 * 100_000 * 25)
    assert d.binding_cap is None
    assert d.notional == 500_000
    assert d.leverage == 25


def test_stop_risk_sizes_by_the_distance_to_the_stop():
    desk = Desk(cfg("default", position_sizing={"method": "stop_risk", "max_position_size": 1.0},
                    risk_management={"max_pos_pct": 1.0, "max_order_notional": 1e9,
                                     "max_notional_opener": 1e9}))
    d = desk.recommend(Signal("AAPL", "LONG", stop_price=Decimal(98)), account(), market(),
                       now=NOW)
    # risk 1% of 100k = 1,000 over a 2.00 stop distance = 500 shares = 50,000
    assert d.trail[0].code is R.STOP_RISK
    assert d.trail[0].after == pytest.approx(50_000)
    atr = desk.recommend(Signal("AAPL", "SHORT"), account(), market(atr=Decimal("2.5")),
                         now=NOW)
    assert atr.trail[0].after == pytest.approx(1_000 / 5.0 * 100)   # 2 ATR = 5.00
    missing = desk.recommend(Signal("AAPL", "LONG"), account(), market(), now=NOW)
    assert missing.reasons == (R.STATE_MISSING,)


def test_volatility_target():
    desk = Desk(cfg("default", position_sizing={"method": "volatility_target"}))
    d = desk.recommend(Signal("AAPL", "LONG"), account(), market(volatility=0.05), now=NOW)
    assert d.trail[0].after == pytest.approx(100_000 * 0.01 / 0.05)
    assert desk.recommend(Signal("AAPL", "LONG"), account(), market(), now=NOW).reasons == \
        (R.STATE_MISSING,)


def test_account_below_every_tier_rejects_account_profile_sizing():
    d = Desk(cfg("crypto-capital-manager")).recommend(
        Signal("BTCUSDT", "LONG"), account(50), market("BTCUSDT", max_leverage="20"), now=NOW)
    assert d.reasons == (R.ACCOUNT_PROFILE,)


def test_a_zero_size_names_the_step_that_zeroed_it():
    d = Desk(cfg("aurora-capital-scaling",
                 position_sizing={"signal_threshold": 0.0})).recommend(
        Signal("AAPL", "LONG", strength=0.0), account(), market(), now=NOW)
    assert (d.action, d.reasons) == (Action.REJECT, (R.CAPITAL_UTILIZATION,))


# --- step 5: adjustments -----------------------------------------------------------------------

def test_drawdown_shrinks_size_and_flags_caution():
    a = account(high_water_mark=Decimal(107_000))
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), a, market(), now=NOW)
    assert d.action is Action.CAUTION
    assert d.reasons == (R.DRAWDOWN,)
    dd = next(x for x in d.trail if x.code is R.DRAWDOWN)
    assert dd.after == pytest.approx(dd.before * 0.7)
    assert d.notional == 700


def test_vix_size_multiplier_only_when_configured():
    plain = Desk(cfg("phased-options")).recommend(Signal("SPY", "LONG"), account(),
                                                 market("SPY", vix=40.0), now=NOW)
    sized = Desk(cfg("phased-options", vix={"size_multipliers": True})).recommend(
        Signal("SPY", "LONG"), account(), market("SPY", vix=40.0), now=NOW)
    assert R.VIX not in codes(plain)
    assert sized.notional == plain.notional / 2


def test_liquidity_impact_cuts_size_and_sets_execution():
    book = tuple(BookLevel(100.01 + i * 0.5, 2) for i in range(20))
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), account(), market(asks=book), now=NOW)
    liq = next(x for x in d.trail if x.code is R.LIQUIDITY_IMPACT)
    assert liq.after < liq.before
    assert d.action is Action.CAUTION
    assert R.LIQUIDITY_IMPACT in d.reasons
    assert d.execution_method in (ExecutionMethod.TWAP, ExecutionMethod.ICEBERG)


# --- step 6: leverage ---------------------------------------------------------------------------

def test_leverage_is_whole_clamped_to_tier_and_market():
    desk = Desk(cfg("crypto-capital-manager", capital_tiers={"enabled": False}))
    m = market("BTCUSDT", "50000", step="0.00001", spread="1", atr=Decimal(1000),
               max_leverage="125")
    d = desk.recommend(Signal("BTCUSDT", "LONG"), account(2_500), m, now=NOW)
    lev = next(x for x in d.trail if x.code is R.LEVERAGE)
    assert d.leverage == 8
    assert lev.after == 8.0
    low = desk.recommend(Signal("BTCUSDT", "LONG"), account(2_500),
                         market("BTCUSDT", "50000", step="0.00001", spread="1",
                                atr=Decimal(1000), max_leverage="4"), now=NOW)
    assert low.leverage == 4                               # market max wins


def test_drawdown_takes_leverage_levels_off():
    desk = Desk(cfg("crypto-capital-manager", capital_tiers={"enabled": False}))
    m = market("BTCUSDT", "50000", step="0.00001", spread="1", atr=Decimal(1000),
               max_leverage="125")
    light = desk.recommend(Signal("BTCUSDT", "LONG"), account(2_500, high_water_mark=Decimal(
        2_700)), m, now=NOW)
    assert light.leverage == 6                             # 8x - 2 levels
    heavy = Desk(cfg("crypto-capital-manager", capital_tiers={"enabled": False},
                     drawdown={"breaker_on_heavy": False})).recommend(
        Signal("BTCUSDT", "LONG"), account(2_500, high_water_mark=Decimal(3_200)), m, now=NOW)
    assert heavy.leverage == 3
    assert heavy.reasons == (R.DRAWDOWN_HEAVY,)


# --- step 7: caps -------------------------------------------------------------------------------

@pytest.mark.parametrize(("sections", "signal_kw", "binding", "notional"), [
    ({"risk_management": {"max_notional_opener": 400}}, {}, R.CAP_ORDER_NOTIONAL, 400),
    ({"position_sizing": {"max_trade_size": 300}}, {}, R.CAP_MAX_TRADE_SIZE, 300),
    ({"risk_management": {"max_position_dollar": 500}}, {}, R.CAP_MAX_POSITION_DOLLAR, 500),
    ({"position_sizing": {"risk_per_trade": 0.5, "order_notional_cap": 1e6,
                          "max_trade_size": 1e6},
      "risk_management": {"max_pos_pct": 0.2, "max_order_notional": 1e6,
                          "max_notional_opener": 1e6}}, {}, R.CAP_POSITION_SIZE, 15_000),
])
def test_the_smallest_cap_binds_and_is_named(sections, signal_kw, binding, notional):
    d = Desk(cfg("default", **sections)).recommend(Signal("AAPL", "LONG", **signal_kw), account(),
                                                   market(), now=NOW)
    assert d.binding_cap is binding
    assert d.notional == notional
    assert d.trail[-2].code is binding or binding in codes(d)


def test_symbol_cap_counts_the_position_held():
    a = account(positions=(Position("AAPL", "LONG", 140, 100),))
    d = Desk(cfg("default", position_sizing={"risk_per_trade": 0.1, "max_position_size": 0.5})) \
        .recommend(Signal("AAPL", "LONG"), a, market(), now=NOW)
    assert d.binding_cap is R.CAP_SYMBOL
    assert d.notional == 1_000


def test_a_full_symbol_denies():
    a = account(positions=(Position("AAPL", "LONG", 150, 100),))
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), a, market(), now=NOW)
    assert d.reasons == (R.SYMBOL_CAP_REACHED,)


def test_buying_power_cap_and_its_denial():
    a = account(available=Decimal(500), buying_power=Decimal(500))
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), a, market(), now=NOW)
    assert d.binding_cap is R.CAP_BUYING_POWER
    assert d.notional == 400
    broke = Desk(cfg()).recommend(Signal("AAPL", "LONG"), account(available=Decimal(0)),
                                  market(), now=NOW)
    assert broke.reasons == (R.INSUFFICIENT_BUYING_POWER,)


def test_exposure_caps():
    held = tuple(Position(f"X{i}", "LONG", 100, 100) for i in range(8))   # 80,000 long
    d = Desk(cfg("default", risk_management={"max_concurrent_positions": 50})).recommend(
        Signal("AAPL", "LONG"), account(positions=held), market(), now=NOW)
    assert d.reasons == (R.EXPOSURE_LIMIT,)
    short = Desk(cfg("default", risk_management={"max_concurrent_positions": 50})).recommend(
        Signal("AAPL", "SHORT"), account(positions=held), market(), now=NOW)
    assert short.action is Action.ENTER                  # net exposure falls on a short


# --- step 8: gates ----------------------------------------------------------------------------

@pytest.mark.parametrize(("preset", "sections", "signal", "acct_kw", "mkt_kw", "code"), [
    ("default", {"risk_management": {"restricted_symbols": ("AAPL",)}}, {}, {}, {},
     R.RESTRICTED_SYMBOL),
    ("aurora-capital-scaling", {}, {"strength": 0.01}, {}, {}, R.SIGNAL_BELOW_THRESHOLD),
    ("equity-conviction", {}, {"score": 0.0}, {}, {}, R.SCORE_INVALID),
    ("equity-conviction", {}, {"score": 4.0},
     {"positions": (Position("MSFT", "LONG", 200, 400),)}, {}, R.CONCENTRATION),
    ("default", {"risk_management": {"max_concurrent_positions": 1}}, {},
     {"positions": (Position("MSFT", "LONG", 1, 400),)}, {}, R.MAX_POSITIONS),
    ("phased-options", {}, {}, {"trades_today": 3, "equity": Decimal(35_000)}, {},
     R.TRADES_PER_DAY),
    ("default", {}, {}, {}, {"bid": Decimal(95), "ask": Decimal(96)}, R.PRICE_OUT_OF_BAND),
    ("default", {}, {}, {}, {"bid": Decimal("99.5"), "ask": Decimal("100.5")},
     R.SPREAD_TOO_WIDE),
    ("default", {}, {}, {}, {"bid": None, "ask": None}, R.STATE_MISSING),
])
def test_gates_deny(preset, sections, signal, acct_kw, mkt_kw, code):
    equity = float(acct_kw.pop("equity", 100_000))
    d = Desk(cfg(preset, **sections)).recommend(Signal("AAPL", "LONG", **signal),
                                                account(equity, **acct_kw),
                                                market(**mkt_kw), now=NOW)
    assert (d.action, d.reasons) == (Action.REJECT, (code,))
    assert d.trail[-1].code is code
    assert d.trail[-1].step == "gate"


def test_strategy_limit_counts_positions_of_the_strategy():
    held = tuple(Position(f"X{i}", "LONG", 1, 10, strategy="LT112") for i in range(2))
    desk = Desk(cfg("phased-options"))
    d = desk.recommend(Signal("SPY", "LONG", strategy="lt112"), account(35_000, positions=held),
                       market("SPY"), now=NOW)
    assert d.reasons == (R.STRATEGY_POSITION_LIMIT,)
    ok = desk.recommend(Signal("SPY", "LONG", strategy="STRANGLE"),
                        account(35_000, positions=held), market("SPY"), now=NOW)
    assert ok.action is Action.ENTER


def test_cvar_gate_uses_returns_when_given():
    desk = Desk(cfg("default", risk_management={"cvar_limit_pct": 0.0005}))
    calm = [0.001, -0.001] * 50
    wild = [0.05, -0.2] * 50
    assert desk.recommend(Signal("AAPL", "LONG"), account(), market(), now=NOW,
                          returns=calm).action is Action.ENTER
    d = desk.recommend(Signal("AAPL", "LONG"), account(), market(), now=NOW, returns=wild)
    assert d.reasons == (R.CVAR_LIMIT,)


def test_small_tier_trades_only_its_symbols():
    d = Desk(cfg("crypto-capital-manager")).recommend(
        Signal("SOLUSDT", "LONG"), account(500), market("SOLUSDT", max_leverage="20"), now=NOW)
    assert d.reasons == (R.RESTRICTED_SYMBOL,)


# --- step 9: quantization ---------------------------------------------------------------------

def test_quantization_rounds_down_once_and_never_passes_the_size():
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), account(), market(price="33.33"), now=NOW)
    assert d.quantity == 30
    assert d.notional == Decimal("999.90")
    q = next(x for x in d.trail if x.code is R.QUANTIZE)
    assert q.before == pytest.approx(1000.0)
    assert q.after == pytest.approx(999.9)


@pytest.mark.parametrize(("mkt_kw", "sections", "code"), [
    ({"price": "2000"}, {}, R.ZERO_AFTER_QUANTIZE),
    ({"min_qty": "20"}, {}, R.ZERO_AFTER_QUANTIZE),
    ({"min_notional": "1001"}, {}, R.BELOW_MIN_NOTIONAL),
    ({}, {"risk_management": {"min_notional_opener": 1001}}, R.BELOW_MIN_NOTIONAL),
    ({}, {"risk_management": {"min_position_dollar": 1500}}, R.BELOW_MIN_POSITION),
    ({}, {"position_sizing": {"min_shares": 11}}, R.BELOW_MIN_POSITION),
])
def test_minimums_deny_openers(mkt_kw, sections, code):
    d = Desk(cfg("default", **sections)).recommend(Signal("AAPL", "LONG"), account(),
                                                   market(**mkt_kw), now=NOW)
    assert d.reasons == (code,)


def test_market_max_qty_caps():
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), account(), market(max_qty="7"), now=NOW)
    assert d.quantity == 7
    assert d.binding_cap is R.CAP_MARKET_MAX_QTY


# --- step 10: opportunity cost and execution --------------------------------------------------

def _crypto_market():
    return market("BTCUSDT", "50000", step="0.0001", spread="1", atr=Decimal(1000),
                  max_leverage="125")


@pytest.mark.parametrize(("score", "scores", "used", "action", "reason"), [
    (90.0, (50.0, 85.0), 0.1, Action.ENTER_AND_CLOSE_WORST, None),
    (85.0, (80.0, 90.0), 0.1, Action.ENTER, None),
    (70.0, (65.0, 80.0), 0.1, Action.HOLD, R.OPPORTUNITY_HOLD),
])
def test_opportunity_cost(score, scores, used, action, reason):
    held = tuple(Position(f"H{i}", "LONG", 1, 100, leverage=5, score=s)
                 for i, s in enumerate(scores))
    a = account(10_000, positions=held, margin_used=Decimal(10_000 * used))
    d = Desk(cfg("crypto-capital-manager")).recommend(Signal("BTCUSDT", "LONG", score=score), a,
                                                      _crypto_market(), now=NOW)
    assert d.action is action
    if action is Action.ENTER_AND_CLOSE_WORST:
        assert d.close_symbols == ("H0",)
        assert d.approved
    if reason is not None:
        assert d.reasons == (reason,)
        assert d.quantity == 0
        assert d.trail[-1].before > 0          # the size it would have had is in the trail


def test_large_order_against_the_book_is_worked_by_twap():
    book = tuple(BookLevel(100.01, 50) for _ in range(5))
    d = Desk(cfg("default", position_sizing={"risk_per_trade": 0.1})).recommend(
        Signal("AAPL", "LONG"), account(), market(asks=book), now=NOW)
    assert d.execution_method is ExecutionMethod.ICEBERG
    assert R.LARGE_ORDER in codes(d)


def test_decision_is_json_ready():
    d = Desk(cfg()).recommend(Signal("AAPL", "LONG"), account(), market(), now=NOW).to_dict()
    assert d["action"] == "ENTER"
    assert d["quantity"] == "10"
    assert next(t["code"] for t in d["trail"]) == "BASE_SIZE"


def test_a_notional_just_below_the_minimum_opener_is_shown_in_full() -> None:
    # 1% of 1,000 at 0.00001234 is 810,372.77... units, 810,372 after the step: 9.99999048.
    rules = MarketRules("X", step="1", tick="0.00000001")
    snap = MarketSnapshot(rules, price="0.00001234", bid="0.00001233", ask="0.00001235",
                          as_of=NOW)
    d = Desk(cfg()).recommend(Signal("X", "LONG", score=75),
                              AccountState(equity=1000, available=1000, as_of=NOW), snap, now=NOW)
    assert d.action is Action.REJECT
    note = next(a.note for a in d.trail if a.code is R.BELOW_MIN_NOTIONAL)
    assert note.startswith("9.99999048 < minimum opener 10")


@pytest.mark.parametrize("preset", ["default", "equity-conviction", "crypto-capital-manager"])
@pytest.mark.parametrize(("side", "stop"), [("LONG", "100.5"), ("LONG", "100"),
                                            ("SHORT", "99.5"), ("SHORT", "100")])
def test_an_openers_stop_on_the_winning_side_is_refused_whatever_the_sizing(
        preset: str, side: str, stop: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Desk(cfg(preset)).recommend(Signal("AAPL", side, score=80, stop_price=stop),
                                    account(), market(), now=NOW)
    assert info.value.field == "signal.stop_price"


@pytest.mark.parametrize(("side", "stop"), [("LONG", "99"), ("SHORT", "101")])
def test_an_openers_stop_on_the_losing_side_is_accepted(side: str, stop: str) -> None:
    d = Desk(cfg()).recommend(Signal("AAPL", side, score=80, stop_price=stop), account(),
                              market(), now=NOW)
    assert d.action is Action.ENTER


def test_a_reducers_stop_is_not_checked_as_an_openers() -> None:
    held = account(positions=(Position("AAPL", "LONG", 40, 90),))
    d = Desk(cfg()).recommend(Signal("AAPL", "SHORT", reduce_only=True, stop_price="95"),
                              held, market(), now=NOW)
    assert d.action is not Action.REJECT
    assert d.quantity > 0
