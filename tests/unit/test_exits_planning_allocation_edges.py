"""Edge cases of exits, planning and allocation: dust, flips cut by a cap, malformed input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from riskdesk import AccountState, MarketRules, MarketSnapshot, Position, RiskConfig, Side
from riskdesk.allocation import (
    DEFAULT_TIERS,
    check_tiers,
    min_variance,
    rebalance_due,
    risk_parity,
    tier_budgets,
    tier_exposures,
    tier_for_symbol,
)
from riskdesk.config import Exits, PartialTakeProfit
from riskdesk.desk import Desk
from riskdesk.errors import InvalidInputError
from riskdesk.exits import Bar, Close, ExitEngine, MoveStop, Reduce

D = Decimal
T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 7, 1, 15, 30, tzinfo=UTC)
SCALING = RiskConfig.preset("aurora-capital-scaling", env={})


# --------------------------------------------------------------------------- exits: dust
LADDER_65 = Exits(stop_pct=0.02, take_profit_enabled=False, trailing_enabled=True,
                  trailing_pct=0.02,
                  partials=(PartialTakeProfit(r_multiple=1.0, fraction=0.65),))


def _first_bar(side: Side) -> Bar:
    if side is Side.LONG:   # reaches +1R (102) for a long entered at 100 with a 2% stop
        return Bar(D("100"), D("102.5"), D("99.5"), D("102"), T0 + timedelta(hours=1))
    return Bar(D("100"), D("100.5"), D("97.5"), D("98"), T0 + timedelta(hours=1))


@pytest.mark.parametrize("side", [Side.LONG, Side.SHORT])
def test_partial_rung_leaving_less_than_min_qty_closes_the_position(side: Side) -> None:
    # 65% of 0.025 is 0.01625 -> 0.016 on the step; the 0.009 left is below min_qty 0.01 and
    # could not be sent as an order: the rung closes everything instead of leaving dust.
    rules = MarketRules("X", step=D("0.001"), tick=D("0.1"), min_qty=D("0.01"))
    eng = ExitEngine(LADDER_65)
    plan = eng.build_plan(symbol="X", side=side, entry=D("100"), quantity=D("0.025"),
                          rules=rules, opened_at=T0)
    (rung,) = plan.targets
    assert rung.final
    assert rung.quantity == D("0.025")
    up = eng.on_bar(eng.start(plan), plan, _first_bar(side))
    assert [type(a) for a in up.actions] == [Close]
    assert up.actions[0].quantity == D("0.025")
    assert up.state.closed


@pytest.mark.parametrize("side", [Side.LONG, Side.SHORT])
def test_partial_rung_leaving_less_than_min_notional_closes_the_position(side: Side) -> None:
    # 65% of 0.1 is 0.065; the 0.035 left is worth about 3.5 < min_notional 5.
    rules = MarketRules("X", step=D("0.001"), tick=D("0.1"), min_notional=D("5"))
    eng = ExitEngine(LADDER_65)
    plan = eng.build_plan(symbol="X", side=side, entry=D("100"), quantity=D("0.1"),
                          rules=rules, opened_at=T0)
    assert plan.targets[0].final
    up = eng.on_bar(eng.start(plan), plan, _first_bar(side))
    assert [type(a) for a in up.actions] == [Close]
    assert up.state.closed


def test_partial_rung_leaving_enough_still_reduces() -> None:
    rules = MarketRules("X", step=D("0.001"), tick=D("0.1"), min_qty=D("0.01"))
    eng = ExitEngine(LADDER_65)
    plan = eng.build_plan(symbol="X", side="LONG", entry=D("100"), quantity=D("0.05"),
                          rules=rules, opened_at=T0)
    assert not plan.targets[0].final
    up = eng.on_bar(eng.start(plan), plan, _first_bar(Side.LONG))
    assert [type(a) for a in up.actions] == [Reduce, MoveStop]
    assert up.actions[0].quantity == D("0.032")
    assert up.state.quantity == D("0.018")


# --------------------------------------------------------------------------- planning
def _stock(symbol: str, price: str) -> MarketSnapshot:
    p = D(price)
    return MarketSnapshot(MarketRules(symbol, step="1", tick="0.01"), price=p,
                          bid=p - D("0.01"), ask=p + D("0.01"), as_of=NOW)


def _acct(positions: list[Position]) -> AccountState:
    return AccountState(equity=D(100_000), available=D(50_000), as_of=NOW,
                        positions=tuple(positions))


def test_flip_whose_close_is_capped_opens_nothing_on_the_other_side() -> None:
    # A $20,000 long flipped to a $6,000 short: the reducer cap (15,000) closes 150 of 200.
    # The 50 still long must not be "opened" against as a short in phase B.
    plan = Desk(SCALING).plan({"AAPL": -0.03}, _acct([Position("AAPL", "LONG", 200, 100)]),
                              {"AAPL": _stock("AAPL", "100")}, now=NOW)
    assert [(ln.phase, ln.decision.intent.value, ln.decision.quantity)
            for ln in plan.lines] == [("A", "REDUCE", 150)]
    assert plan.freed_margin == 15_000
    assert plan.available_after == 65_000


def test_flip_that_closes_in_full_still_opens_the_other_side() -> None:
    plan = Desk(SCALING).plan({"AAPL": -0.03}, _acct([Position("AAPL", "LONG", 100, 100)]),
                              {"AAPL": _stock("AAPL", "100")}, now=NOW)
    assert [(ln.phase, ln.decision.intent.value, ln.decision.side, ln.decision.quantity)
            for ln in plan.lines] == [("A", "REDUCE", Side.SHORT, 100),
                                      ("B", "OPEN", Side.SHORT, 60)]


@pytest.mark.parametrize("bad", [None, 5, "AAPL"])
def test_plan_market_that_is_not_a_snapshot_is_named(bad: object) -> None:
    with pytest.raises(InvalidInputError) as err:
        Desk(SCALING).plan({"AAPL": 0.01}, _acct([]), {"AAPL": bad}, now=NOW)  # type: ignore[dict-item]
    assert err.value.field == "markets['AAPL']"


def test_plan_markets_that_is_not_a_mapping_is_named() -> None:
    with pytest.raises(InvalidInputError) as err:
        Desk(SCALING).plan({"AAPL": 0.01}, _acct([]), ["AAPL"], now=NOW)  # type: ignore[arg-type]
    assert err.value.field == "markets"


@pytest.mark.parametrize("w", [1e16, -1e16, 1e308, -1e308])
def test_plan_absurd_target_weight_is_named_before_any_line(w: float) -> None:
    desk = Desk(SCALING)
    before = desk.state
    with pytest.raises(InvalidInputError) as err:
        desk.plan({"MSFT": 0.0, "AAPL": w},
                  _acct([Position("AAPL", "LONG", 20, 100), Position("MSFT", "LONG", 5, 400)]),
                  {"AAPL": _stock("AAPL", "100"), "MSFT": _stock("MSFT", "400")}, now=NOW)
    assert err.value.field == "targets['AAPL']"
    assert desk.state == before


# --------------------------------------------------------------------------- allocation
def test_complex_covariance_is_refused_not_truncated() -> None:
    with pytest.raises(InvalidInputError) as err:
        min_variance(np.eye(2) * (1 + 1j))
    assert err.value.field == "cov"
    with pytest.raises(InvalidInputError):
        risk_parity(np.eye(2).astype(np.complex128))


@pytest.mark.parametrize("call", [
    lambda: tier_exposures([("BTCUSDT", D(5))]),  # type: ignore[arg-type]
    lambda: tier_budgets(D(1000), [("CORE", D(1))]),  # type: ignore[arg-type]
    lambda: tier_for_symbol("BTCUSDT", None),  # type: ignore[arg-type]
    lambda: check_tiers(5),  # type: ignore[arg-type]
])
def test_tier_functions_name_a_malformed_argument(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError):
        call()


@pytest.mark.parametrize("reserve", ["x", D("sNaN"), [0]])
def test_rebalance_due_reserve_share_must_be_a_number(reserve: object) -> None:
    shares = {"CORE": 0.5, "GROWTH": 0.3, "OPPORTUNITY": 0.15, "RESERVE": reserve}
    with pytest.raises(InvalidInputError) as err:
        rebalance_due(shares, None, T0)  # type: ignore[arg-type]
    assert err.value.field == "weights_now.RESERVE"


def test_rebalance_due_signalling_nan_share_is_named() -> None:
    shares = {"CORE": D("sNaN"), "GROWTH": 0.3, "OPPORTUNITY": 0.15}
    with pytest.raises(InvalidInputError) as err:
        rebalance_due(shares, None, T0, DEFAULT_TIERS)
    assert err.value.field == "weights_now.CORE"


# --------------------------------------------------------------------------- left open
def test_bracket_of_a_stop_risk_decision_uses_the_stop_it_was_sized_with() -> None:
    from riskdesk import Signal
    from riskdesk.exits import plan_for_decision

    cfg = RiskConfig.model_validate({"position_sizing": {"method": "stop_risk",
                                                         "risk_per_trade": 0.01}})
    market = MarketSnapshot(MarketRules("X", step="0.001", tick="0.1"), price=D(100),
                            bid=D("99.9"), ask=D("100.1"), as_of=NOW)
    account = AccountState(equity=D(100_000), available=D(100_000), as_of=NOW)
    d = Desk(cfg).recommend(Signal("X", "LONG", stop_price=D(99)), account, market, now=NOW)
    assert d.approved
    plan = plan_for_decision(cfg.exits, d, market.rules)
    # the desk risked 1% of equity over a 1-point stop; a 2% (2-point) stop doubles it
    assert plan.stop == D(99)
