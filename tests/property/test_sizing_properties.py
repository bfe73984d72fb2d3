"""Sizing invariants: caps hold after quantization, no edge means no bet, sizes never grow
with drawdown, volatility or heat, and reducers pass the stabilizer."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, localcontext

from hypothesis import assume, given
from hypothesis import strategies as st

from riskdesk.config import Kelly, Leverage, Liquidity, PositionSizing, RiskConfig
from riskdesk.domain import MAX_MAGNITUDE, BookLevel, MarketRules
from riskdesk.errors import InvalidInputError
from riskdesk.sizing import (
    SizingStabilizer,
    apply_dd_haircut,
    compute_size,
    dd_haircut_factor,
    fraction_to_qty,
    heat_multiplier,
    kelly_binary,
    kelly_mu_sigma,
    liquidity_advice,
    notional_to_qty,
    optimal_leverage,
    stop_distance_qty,
    volatility_target_notional,
)

D = Decimal
fractions = st.floats(0.0, 1.0)
equities = st.floats(1.0, 1e8)
prices = st.floats(1e-4, 1e6)
leverages = st.floats(1.0, 125.0)
vols = st.floats(1e-4, 5.0)
drawdowns = st.floats(0.0, 1.0)


def exact(x: float) -> Decimal:
    return D(repr(x))


@st.composite
def market_rules(draw: st.DrawFn) -> MarketRules:
    step = D(draw(st.sampled_from(["1", "0.1", "0.001", "0.00001", "0.5"])))
    return MarketRules(
        "X", step=step, tick=D("0.01"), min_qty=step * draw(st.integers(0, 20)),
        max_qty=draw(st.one_of(st.none(), st.just(step * 10**6))),
        min_notional=D(draw(st.sampled_from(["0", "5", "100"]))),
        contract_size=D(draw(st.sampled_from(["1", "0.01", "100"]))),
        max_leverage=D(draw(st.sampled_from(["1", "20", "125"]))),
    )


@given(fractions, equities, prices, leverages, market_rules(),
       st.one_of(st.none(), st.floats(0.0, 1e8)))
def test_fraction_to_qty_never_exceeds_margin_or_notional_cap(
        f: float, equity: float, price: float, leverage: float, rules: MarketRules,
        available: float | None) -> None:
    lev = min(exact(leverage), rules.max_leverage)
    margin_cap = exact(f) * exact(equity)
    if available is not None:
        margin_cap = min(margin_cap, exact(available))
    refused: InvalidInputError | None = None
    try:
        q = fraction_to_qty(f, equity, price, leverage, rules, available_margin=available)
    except InvalidInputError as exc:
        refused = exc
    if refused is not None:
        # an absurd quantity (tiny price, huge equity and leverage) is refused, not capped
        assert refused.field == "quantity"
        assert margin_cap * lev / (exact(price) * rules.contract_size) > MAX_MAGNITUDE
        return
    assert q % rules.step == 0
    assert q >= 0
    value = q * exact(price) * rules.contract_size
    assert value <= margin_cap * lev
    assert value / lev <= margin_cap
    if q != 0:
        assert q >= rules.min_qty
        assert value >= rules.min_notional


@given(st.floats(-1.0, 1.0), st.floats(0.01, 5_000.0), st.floats(1_000.0, 1e8),
       st.floats(0.1, 5.0), st.floats(0.0, 50_000.0), st.floats(0.01, 1.0),
       st.one_of(st.none(), st.floats(0.0, 50_000.0)), st.booleans())
def test_compute_size_never_exceeds_any_cap(weight: float, price: float, pv: float,
                                            factor: float, order_cap: float,
                                            symbol_pct: float, caller_cap: float | None,
                                            with_rules: bool) -> None:
    cfg = PositionSizing(capital_utilization_factor=factor, order_notional_cap=order_cap + 1,
                         max_position_size=symbol_pct, max_trade_size=25_000.0,
                         min_trade_size=0.0, signal_threshold=0.02, min_shares=1)
    rules = MarketRules("X", step="0.01", tick="0.01") if with_rules else None
    d = compute_size("X", weight, price, pv, cfg, rules=rules, max_order_notional=caller_cap)
    if abs(weight) < 0.02:
        assert d is None
        return
    if d is None:
        return
    caps = [order_cap + 1, 25_000.0, symbol_pct * pv, abs(weight) * pv * factor]
    if caller_cap is not None:
        caps.append(caller_cap)
    assert abs(d.qty) * exact(price) <= exact(min(caps))
    assert (d.qty < 0) == (weight < 0)
    assert abs(d.qty) >= 1
    assert d.capped_val <= d.intended_val


@given(fractions, st.floats(0.01, 20.0), st.floats(0.1, 10.0))
def test_kelly_binary_is_zero_without_edge(p: float, b: float, ra: float) -> None:
    f = kelly_binary(p, b, risk_aversion=ra, clip=(0.05, 0.5))
    if b * p - (1 - p) <= 0:
        assert f == 0.0
    else:
        assert f == 0.0 or 0.05 <= f <= 0.5


@given(fractions, st.floats(0.01, 20.0), st.floats(0.01, 20.0))
def test_kelly_binary_never_falls_with_a_better_payoff(p: float, b1: float, b2: float) -> None:
    lo, hi = sorted((b1, b2))
    assert kelly_binary(p, lo, clip=(0, 1)) <= kelly_binary(p, hi, clip=(0, 1)) + 1e-15


@given(st.floats(-0.1, 0.1), vols, vols)
def test_kelly_mu_sigma_never_grows_with_volatility(mu: float, s1: float, s2: float) -> None:
    lo, hi = sorted((s1, s2))
    assert kelly_mu_sigma(mu, hi, clip=(0, 1)) <= kelly_mu_sigma(mu, lo, clip=(0, 1))
    if mu <= 0:
        assert kelly_mu_sigma(mu, lo) == 0.0


@given(drawdowns, drawdowns, st.floats(0.0, 0.5), st.floats(0.0, 0.5), fractions,
       st.floats(0.0, 1.0))
def test_sizes_never_grow_with_drawdown(d1: float, d2: float, a: float, b: float,
                                        floor: float, f: float) -> None:
    start, full = sorted((a, b))
    lo, hi = sorted((d1, d2))
    kw = {"start": start, "full": full, "floor": floor}
    assert dd_haircut_factor(hi, **kw) <= dd_haircut_factor(lo, **kw)
    assert floor <= dd_haircut_factor(hi, **kw) <= 1.0
    assert apply_dd_haircut(f, hi, **kw) <= apply_dd_haircut(f, lo, **kw)


@given(equities, st.floats(0.0, 0.5), vols, vols)
def test_volatility_target_never_grows_with_volatility(equity: float, target: float,
                                                       v1: float, v2: float) -> None:
    lo, hi = sorted((v1, v2))
    assert volatility_target_notional(equity, target, hi) <= \
        volatility_target_notional(equity, target, lo)


@given(st.floats(0.0, 1e6), prices, st.floats(1e-4, 1e3), st.floats(1e-4, 1e3))
def test_stop_sizing_never_grows_with_a_wider_stop(risk: float, entry: float, w1: float,
                                                   w2: float) -> None:
    near, far = sorted((w1, w2))
    assume(entry + far < 1e7)
    assert stop_distance_qty(risk, entry, entry + far) <= \
        stop_distance_qty(risk, entry, entry + near)


@st.composite
def leverage_cfgs(draw: st.DrawFn) -> Leverage:
    lo = draw(st.floats(1.0, 10.0))
    hi = draw(st.floats(lo, 50.0))
    return Leverage(base=draw(st.floats(1.0, 30.0)), min_leverage=lo, max_leverage=hi,
                    reference_atr_pct=draw(st.floats(0.001, 0.1)),
                    account_size_exponent=draw(st.floats(0.0, 1.0)),
                    regime_multipliers={"TRENDING": 1.2, "RANGING": 0.7})


@given(leverage_cfgs(), vols, vols, st.one_of(st.none(), st.floats(0.0, 100.0)),
       st.one_of(st.none(), st.floats(0.0, 1e8)), st.floats(10.0, 1e7),
       st.one_of(st.none(), fractions),
       st.sampled_from([None, "TRENDING", "RANGING", "NEUTRAL"]),
       st.one_of(st.none(), st.floats(1.0, 125.0)))
def test_leverage_never_grows_with_volatility_and_stays_in_range(
        cfg: Leverage, a1: float, a2: float, spread: float | None, depth: float | None,
        equity: float, win: float | None, regime: str | None,
        cap: float | None) -> None:
    lo_vol, hi_vol = sorted((a1, a2))
    kw = {"spread_bps": spread, "depth": depth, "equity": equity, "win_rate": win,
          "regime": regime, "cfg": cfg, "max_leverage": cap}
    calm = optimal_leverage(atr_pct=lo_vol, **kw)  # type: ignore[arg-type]
    wild = optimal_leverage(atr_pct=hi_vol, **kw)  # type: ignore[arg-type]
    assert wild.leverage <= calm.leverage
    for adv in (calm, wild):
        if cap is not None:
            assert adv.leverage <= cap
        if cap is None or cap >= cfg.min_leverage:
            assert cfg.min_leverage <= adv.leverage <= cfg.max_leverage


@given(st.floats(0.0, 100.0), st.floats(0.0, 100.0), st.sampled_from(["linear", "step"]))
def test_heat_multiplier_never_grows_with_heat(h1: float, h2: float, mode: str) -> None:
    cfg = RiskConfig.preset("crypto-capital-manager", env={}).kelly.model_copy(
        update={"heat_mode": mode})
    assert isinstance(cfg, Kelly)
    lo, hi = sorted((h1, h2))
    assert heat_multiplier(hi, cfg) <= heat_multiplier(lo, cfg)


@st.composite
def books(draw: st.DrawFn) -> list[BookLevel]:
    n = draw(st.integers(1, 25))
    best = draw(st.floats(1.0, 1e5))
    gaps = draw(st.lists(st.floats(0.0, 0.01), min_size=n, max_size=n))
    sizes = draw(st.lists(st.floats(0.0, 1e3), min_size=n, max_size=n))
    out, p = [], best
    for g, s in zip(gaps, sizes, strict=True):
        p = p * (1 + g)
        out.append(BookLevel(p, s))
    return out


@given(books(), st.floats(0.0, 1e7), st.floats(0.0, 1e7))
def test_liquidity_multiplier_never_grows_with_order_size(book: list[BookLevel], n1: float,
                                                          n2: float) -> None:
    small, large = sorted((n1, n2))
    cfg = Liquidity()
    a = liquidity_advice(small, book[0].price, book, cfg)
    b = liquidity_advice(large, book[0].price, book, cfg)
    assert b.multiplier <= a.multiplier
    assert b.impact >= a.impact - 1e-12
    assert 0.0 < b.multiplier <= 1.0


@given(st.lists(st.floats(0.0, 0.3), min_size=1, max_size=30),
       st.lists(st.floats(0.0, 120.0), min_size=30, max_size=30))
def test_stabilizer_outputs_buckets_and_exits_always_pass(fracs: list[float],
                                                          gaps: list[float]) -> None:
    buckets = (0.0, 0.025, 0.05, 0.1, 0.15, 0.2)
    s = SizingStabilizer(0.1, buckets, 60.0)
    t = datetime(2025, 1, 1, tzinfo=UTC)
    prev: float | None = None
    for f, g in zip(fracs, gaps, strict=False):
        t += timedelta(seconds=g)
        out = s.update("X", f, t)
        assert out in buckets
        assert s.snap(f) <= f
        if s.snap(f) == 0.0:
            assert out == 0.0
        if out != s.snap(f):
            assert out == prev  # held: the previous value, never an invented one
        prev = out


def _reference_qty(amount: Decimal, price: float, rules: MarketRules) -> Decimal:
    """Whole steps of an exact amount, by plain Decimal arithmetic (no float shortcut)."""
    with localcontext(prec=100):
        den = exact(price) * rules.contract_size * rules.step
        return (amount / den).to_integral_value(rounding=ROUND_FLOOR) * rules.step


@given(st.integers(0, 10**7), st.sampled_from(["1", "0.1", "0.001", "0.00001", "0.5"]),
       st.sampled_from(["1", "0.01", "100"]), prices, st.integers(-2, 2))
def test_notional_to_qty_equals_exact_arithmetic_next_to_step_boundaries(
        k: int, step: str, size: str, price: float, ulps: int) -> None:
    rules = MarketRules("X", step=step, tick="0.01", contract_size=size)
    # An amount within a few ulps of exactly k steps: where a float floor would slip.
    amount = float(k * D(step) * D(size) * exact(price))
    for _ in range(abs(ulps)):
        amount = math.nextafter(amount, math.inf if ulps > 0 else 0.0)
    assume(math.isfinite(amount))
    expected = _reference_qty(exact(amount), price, rules)
    assert notional_to_qty(amount, price, rules) == expected


@given(fractions, equities, prices, leverages,
       st.sampled_from(["1", "0.1", "0.001", "0.00001"]),
       st.one_of(st.none(), st.floats(0.0, 1e6)))
def test_fraction_to_qty_equals_exact_arithmetic(f: float, equity: float, price: float,
                                                 leverage: float, step: str,
                                                 available: float | None) -> None:
    rules = MarketRules("X", step=step, tick="0.01", max_leverage=50)
    margin = exact(f) * exact(equity)
    if available is not None:
        margin = min(margin, exact(available))
    amount = margin * min(exact(leverage), rules.max_leverage)
    expected = _reference_qty(amount, price, rules)
    got = fraction_to_qty(f, equity, price, leverage, rules, available_margin=available)
    assert got == expected
