"""Invariants of Desk.recommend over random accounts, markets and signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from riskdesk import (
    AccountState,
    Action,
    Intent,
    MarketRules,
    MarketSnapshot,
    Position,
    RiskConfig,
    Signal,
    TradingState,
)
from riskdesk.desk import Desk, DeskState
from riskdesk.limits import BreakerState

NOW = datetime(2025, 8, 1, 10, 0, tzinfo=UTC)
PRESETS = ["default", "crypto-capital-manager", "aurora-capital-scaling", "equity-conviction",
           "equity-conviction-live", "phased-options", "aurora-kelly"]
CONFIGS = {n: RiskConfig.preset(n, env={}) for n in PRESETS}
SYMS = ["BTCUSDT", "ETHUSDT", "AAA", "BBB", "CCC"]
TOL = Decimal("1.000000000001")

opt = st.one_of


def dec(x: float) -> Decimal:
    return Decimal(repr(x))


@st.composite
def market(draw: st.DrawFn, symbol: str) -> MarketSnapshot:
    price = draw(st.sampled_from([0.37, 3.5, 25.0, 101.13, 2_500.0, 64_321.5]))
    spread = draw(st.sampled_from([0.0, 0.0002, 0.001]))
    rules = MarketRules(symbol, step=draw(st.sampled_from(["1", "0.01", "0.001", "0.00001"])),
                        tick="0.01", max_qty=draw(opt(st.none(), st.just("50"))),
                        min_notional=draw(st.sampled_from(["0", "5"])),
                        contract_size=draw(st.sampled_from(["1", "10"])),
                        max_leverage=draw(st.sampled_from(["1", "10", "125"])))
    return MarketSnapshot(rules, price=dec(price), bid=dec(price * (1 - spread)),
                          ask=dec(price * (1 + spread)), as_of=NOW,
                          atr=dec(price * draw(st.sampled_from([0.01, 0.02, 0.05]))),
                          volatility=draw(opt(st.none(), st.just(0.03))),
                          vix=draw(opt(st.none(), st.floats(10, 40))))


@st.composite
def signal(draw: st.DrawFn, symbol: str) -> Signal:
    return Signal(symbol, draw(st.sampled_from(["LONG", "SHORT"])),
                  score=draw(st.sampled_from([None, 3.0, 4.0, 4.8, 70.0, 85.0])),
                  strength=draw(st.sampled_from([None, 0.03, -0.05, 0.2])),
                  win_rate=draw(st.sampled_from([None, 0.55, 0.6])), win_loss_ratio=1.8,
                  regime=draw(st.sampled_from([None, "TRENDING", "RANGING"])))


@st.composite
def account(draw: st.DrawFn, *, used: float | None = None, dd: float | None = None
            ) -> AccountState:
    equity = draw(st.sampled_from([450.0, 2_600.0, 12_000.0, 48_000.0, 130_000.0]))
    positions = [Position(s, draw(st.sampled_from(["LONG", "SHORT"])),
                          dec(draw(st.sampled_from([0.01, 0.5, 3.0]))),
                          dec(draw(st.sampled_from([20.0, 300.0, 30_000.0]))),
                          leverage=5, score=draw(opt(st.none(), st.floats(50, 90))))
                 for s in draw(st.lists(st.sampled_from(SYMS), max_size=3, unique=True))]
    u = draw(st.floats(0, 0.45)) if used is None else used
    d = draw(st.sampled_from([0.0, 0.06, 0.12])) if dd is None else dd
    return AccountState(equity=dec(equity), available=dec(equity * (1 - u)),
                        margin_used=dec(equity * u), as_of=NOW, positions=tuple(positions),
                        high_water_mark=dec(equity / (1 - d)),
                        buying_power=draw(opt(st.none(), st.just(dec(equity * 3)))))


@st.composite
def case(draw: st.DrawFn, **kw: float):
    sym = draw(st.sampled_from(SYMS))
    return (draw(st.sampled_from(PRESETS)), draw(account(**kw)), draw(signal(sym)),
            draw(market(sym)))


def _held(acct: AccountState, symbol: str, sign: int, price: Decimal) -> Decimal:
    p = acct.position(symbol)
    return Decimal(0) if p is None or p.side.sign != sign else p.notional


@given(case())
def test_no_approved_opener_breaks_a_configured_cap(c):
    preset, acct, sig, mkt = c
    cfg = CONFIGS[preset]
    d = Desk(cfg).recommend(sig, acct, mkt, now=NOW)
    assume(d.approved and d.intent is Intent.OPEN)
    ps, rm = cfg.position_sizing, cfg.risk_management
    eq = acct.equity
    n = d.notional
    sign = d.side.sign
    rules = mkt.rules
    held = _held(acct, sig.symbol, sign, mkt.price)
    net = sum((p.signed_notional for p in acct.positions), Decimal(0))
    gross = sum((p.notional for p in acct.positions), Decimal(0))

    def within(value: Decimal, cap: float | Decimal) -> bool:
        return value <= Decimal(repr(float(cap))) * TOL

    assert within(n, min(ps.order_notional_cap, rm.max_order_notional, rm.max_notional_opener))
    assert within(n, ps.max_trade_size)
    assert within(held + n, rm.max_pos_pct * float(eq))
    assert within(held + n, ps.max_position_size * float(eq))
    if rm.max_position_dollar is not None:
        assert within(held + n, rm.max_position_dollar)
    assert within(sign * net + n, ps.max_total_exposure * float(eq))
    assert within(gross + n, rm.max_gross_exposure * float(eq))
    assert within(n, float(min(acct.available * d.leverage, acct.buying_power))
                  * rm.buying_power_safety)
    assert d.margin_required <= acct.available
    assert d.leverage <= rules.max_leverage
    assert d.quantity % rules.step == 0
    assert d.quantity >= rules.min_qty
    assert rules.max_qty is None or d.quantity <= rules.max_qty
    assert n >= rules.min_notional
    assert n >= Decimal(repr(max(rm.min_notional_opener, ps.min_trade_size,
                                 rm.min_position_dollar)))
    assert n == d.quantity * mkt.price * rules.contract_size


@st.composite
def hostile(draw: st.DrawFn):
    preset, acct, _sig, mkt = draw(case())
    assume(acct.positions)
    pos = draw(st.sampled_from(acct.positions))
    mkt = draw(market(pos.symbol))
    # Everything a risk-increasing rule could object to, at once or in part.
    acct = AccountState(
        equity=acct.equity, available=acct.available * draw(st.sampled_from([0, 1])),
        margin_used=acct.equity * dec(draw(st.sampled_from([0.1, 0.6, 0.8, 0.95]))),
        as_of=NOW, positions=acct.positions,
        high_water_mark=acct.equity * dec(draw(st.sampled_from([1.0, 1.3, 2.0]))),
        day_start_equity=acct.equity * dec(draw(st.sampled_from([1.0, 1.2]))),
        trades_today=draw(st.integers(0, 50)))
    reduce_only = draw(st.booleans())
    side = pos.side if reduce_only else pos.side.opposite
    state = DeskState(draw(st.sampled_from(list(TradingState))),
                      BreakerState().trip(NOW, 24, "x") if draw(st.booleans())
                      else BreakerState())
    return preset, acct, Signal(pos.symbol, side, reduce_only=reduce_only, score=-5.0), mkt, state


@given(hostile())
def test_a_reducer_is_never_denied_by_a_rule_for_openers(c):
    preset, acct, sig, mkt, state = c
    data = CONFIGS[preset].model_dump()
    data["risk_management"].update(restricted_symbols=list(SYMS), min_notional_opener=1e6,
                                   max_notional_opener=2e6, min_position_dollar=1e6,
                                   max_spread_bps=0.001, entry_score_min=10.0,
                                   concentration_max_net_long_pct=0.01)
    cfg = RiskConfig.from_mapping(data, env={})
    d = Desk(cfg, state=state).recommend(sig, acct, mkt, now=NOW)
    assert d.intent is Intent.REDUCE
    assert d.action in (Action.ENTER, Action.CAUTION), d.trail
    assert d.approved
    assert d.quantity > 0
    assert d.quantity <= acct.position(sig.symbol).quantity


@given(case(dd=0.0), st.sampled_from([0.0, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3]),
       st.sampled_from([0.0, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3]))
def test_size_never_grows_as_drawdown_deepens(c, d1, d2):
    preset, acct, sig, mkt = c
    lo, hi = sorted((d1, d2))

    def size(dd: float) -> Decimal:
        a = AccountState(equity=acct.equity, available=acct.available,
                         margin_used=acct.margin_used, as_of=NOW, positions=acct.positions,
                         high_water_mark=acct.equity / (1 - dec(dd)),
                         buying_power=acct.buying_power)
        d = Desk(CONFIGS[preset]).recommend(sig, a, mkt, now=NOW)
        return d.notional if d.approved and d.intent is Intent.OPEN else Decimal(0)

    assert size(hi) <= size(lo)


@given(case(used=0.0), st.floats(0, 0.95), st.floats(0, 0.95))
def test_size_never_grows_as_margin_use_rises(c, u1, u2):
    preset, acct, sig, mkt = c
    lo, hi = sorted((u1, u2))

    def size(u: float) -> Decimal:
        used = acct.equity * dec(u)
        a = AccountState(equity=acct.equity, available=acct.equity - used, margin_used=used,
                         as_of=NOW, positions=acct.positions,
                         high_water_mark=acct.high_water_mark)
        d = Desk(CONFIGS[preset]).recommend(sig, a, mkt, now=NOW)
        return d.notional if d.approved and d.intent is Intent.OPEN else Decimal(0)

    assert size(hi) <= size(lo)


@given(case(), st.sampled_from(["operator", "breaker", "margin"]))
def test_halted_never_returns_enter(c, how):
    preset, acct, sig, mkt = c
    state = DeskState()
    if how == "operator":
        state = DeskState(TradingState.HALTED)
    elif how == "breaker":
        state = DeskState(breaker=BreakerState().trip(NOW - timedelta(hours=1), 24, "test"))
    else:
        # margin used in the preset's RED zone (its bounds differ: seed 001's at 90 %, the
        # 1x equity presets' near their own exposure limits)
        used = (1.0 + CONFIGS[preset].margin_zones.red) / 2
        acct = AccountState(equity=acct.equity, available=acct.equity * dec(1.0 - used),
                            margin_used=acct.equity * dec(used), as_of=NOW,
                            positions=acct.positions)
    d = Desk(CONFIGS[preset], state=state).recommend(sig, acct, mkt, now=NOW)
    assert d.action is not Action.ENTER
    if d.intent is Intent.OPEN:
        assert not d.approved
