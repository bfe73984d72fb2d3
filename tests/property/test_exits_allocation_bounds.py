"""Exact caps of scale_leverage; exits under market minimums and contract sizes."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from riskdesk.allocation import inverse_volatility, scale_leverage
from riskdesk.config import Exits, PartialTakeProfit
from riskdesk.domain import MarketRules, Side
from riskdesk.exits import ExitEngine, Reduce

D = Decimal
T0 = datetime(2024, 1, 1, tzinfo=UTC)

vols = st.lists(st.floats(0.001, 2.0), min_size=2, max_size=30)
limits = st.floats(0.01, 20.0)


@settings(max_examples=300, deadline=None)
@given(vols, limits, limits)
def test_scaled_gross_exposure_never_exceeds_the_gross_cap(v: list[float], target: float,
                                                           cap: float) -> None:
    scaled = scale_leverage(inverse_volatility(v), target_leverage=target, gross_cap=cap)
    assert scaled.gross_exposure <= cap
    assert float(np.abs(scaled.weights).sum()) <= cap


@settings(max_examples=300, deadline=None)
@given(vols, limits, st.floats(0.001, 2.0))
def test_scaled_weights_never_exceed_max_weight(v: list[float], target: float,
                                                max_weight: float) -> None:
    scaled = scale_leverage(inverse_volatility(v), target_leverage=target,
                            max_weight=max_weight)
    assert float(np.abs(scaled.weights).max()) <= max_weight


# --------------------------------------------------------------------------- exits
_spec = importlib.util.spec_from_file_location(
    "exits_properties", Path(__file__).parent / "test_exits_properties.py")
assert _spec is not None
assert _spec.loader is not None
_ex = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ex)


# rungs above half the position: the only ones that can leave less than they take
DEEP_LADDERS = [((1.0, 0.65),), ((0.5, 0.4), (1.5, 0.4)), ((0.7, 0.3), (1.3, 0.6)),
                ((1.0, 0.5),)]


@settings(max_examples=300, deadline=None)
@given(_ex.scenarios(), st.sampled_from([Side.LONG, Side.SHORT]),
       st.sampled_from([D("1"), D("0.01"), D("10")]),
       st.sampled_from([D("0"), D("0.1"), D("0.3"), D("0.45"), D("0.6")]),
       st.sampled_from([D("0"), D("5"), D("50")]), st.sampled_from(DEEP_LADDERS))
def test_with_market_minimums_no_reduce_leaves_dust_and_risk_stays_in_budget(
        sc: dict[str, Any], side: Side, contract: Decimal, min_share: Decimal,
        min_notional: Decimal, ladder: tuple[tuple[float, float], ...]) -> None:
    step = sc["step"]
    min_qty = (sc["qty"] * min_share / step).to_integral_value() * step
    rules = MarketRules("X", step=step, tick=sc["tick"], contract_size=contract,
                        min_qty=min_qty, min_notional=min_notional)
    partials = tuple(PartialTakeProfit(r_multiple=r, fraction=f) for r, f in ladder)
    cfg = Exits(**{**sc["cfg"].model_dump(), "partials": partials})
    stop_price = None
    if not cfg.stop_enabled:
        stop_price = sc["entry"] - side.sign * sc["stop_ticks"] * sc["tick"]
    eng = ExitEngine(cfg)
    plan = eng.build_plan(symbol="X", side=side, entry=sc["entry"], quantity=sc["qty"],
                          rules=rules, stop_price=stop_price, atr=sc["plan_atr"],
                          opened_at=T0)
    budget = plan.risk_budget
    assert budget is not None
    state = eng.start(plan)
    for b in _ex.make_bars(sc, reflect=side is Side.SHORT):
        up = eng.on_bar(state, plan, b)
        for a in up.actions:
            before = state
            state = state.apply(a)
            risk = state.open_risk(contract)
            assert risk is not None
            assert risk <= budget
            if isinstance(a, Reduce):
                left = before.quantity - a.quantity
                assert left >= rules.min_qty
                assert rules.notional(left, a.price) >= rules.min_notional
        state = up.state
        if state.closed:
            break
