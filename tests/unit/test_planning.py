from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from riskdesk import (
    AccountState,
    Action,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    RiskConfig,
    Side,
)
from riskdesk.desk import Desk
from riskdesk.errors import InvalidInputError, UnknownSymbolError

NOW = datetime(2025, 7, 1, 15, 30, tzinfo=UTC)
CFG = RiskConfig.preset("aurora-capital-scaling", env={})


def stock(symbol: str, price: str) -> MarketSnapshot:
    p = Decimal(price)
    return MarketSnapshot(MarketRules(symbol, step="1", tick="0.01"), price=p,
                          bid=p - Decimal("0.01"), ask=p + Decimal("0.01"), as_of=NOW)


def acct(positions, available=50_000) -> AccountState:
    return AccountState(equity=Decimal(100_000), available=Decimal(available), as_of=NOW,
                        positions=tuple(positions))


def test_flip_closes_in_phase_a_and_opens_the_other_side_in_phase_b():
    plan = Desk(CFG).plan({"AAPL": -0.03}, acct([Position("AAPL", "LONG", 20, 100)]),
                          {"AAPL": stock("AAPL", "100")}, now=NOW)
    (close, open_) = plan.lines
    assert (close.phase, close.signed_qty, close.decision.intent.value) == ("A", -20, "REDUCE")
    assert (open_.phase, open_.decision.side, open_.decision.notional) == ("B", Side.SHORT,
                                                                           6_000)
    assert open_.signed_qty == -60


def test_adding_to_a_position_buys_only_the_difference():
    plan = Desk(CFG).plan({"AAPL": 0.05}, acct([Position("AAPL", "LONG", 40, 100)]),
                          {"AAPL": stock("AAPL", "100")}, now=NOW)
    (line,) = plan.lines
    # target 0.05 x 100k x 2 = 10,000; held 4,000; add 6,000
    assert line.phase == "B"
    assert line.decision.notional == 6_000
    assert line.log_line() == \
        "SizeDecision: AAPL qty=60 (TARGET), notional=6000.00, intended_val=10000.00"


def test_a_reduction_leaving_dust_closes_the_whole_position():
    # Target 0.00004 x 100k x 2 = $8 of a $1,000 position: the $8 left would be dust (< $10).
    plan = Desk(CFG).plan({"AAPL": 0.00004}, acct([Position("AAPL", "LONG", 125, 8)]),
                          {"AAPL": stock("AAPL", "8")}, now=NOW)
    (line,) = plan.lines
    assert line.decision.quantity == 125
    assert ReasonCode.DUST_CLOSE in [a.code for a in line.decision.trail]


def test_untargeted_positions_are_left_alone_and_a_halted_desk_still_reduces():
    desk = Desk(CFG)
    desk.set_trading_state("HALTED", operator="ops", note="x", now=NOW)
    account = acct([Position("AAPL", "LONG", 50, 100), Position("MSFT", "LONG", 5, 400)])
    plan = desk.plan({"AAPL": 0.0, "GOOGL": 0.05}, account,
                     {"AAPL": stock("AAPL", "100"), "GOOGL": stock("GOOGL", "100")}, now=NOW)
    assert [line.symbol for line in plan.lines] == ["AAPL", "GOOGL"]
    assert plan.lines[0].decision.approved
    assert plan.lines[0].decision.action is Action.CAUTION
    assert plan.lines[1].decision.reasons == (ReasonCode.TRADING_HALTED,)


def test_every_opener_counts_the_ones_before_it():
    # 80% total exposure: five 20% targets cannot all be filled.
    markets = {f"S{i}": stock(f"S{i}", "100") for i in range(6)}
    cfg = RiskConfig.from_mapping({**CFG.model_dump(), "position_sizing": {
        **CFG.position_sizing.model_dump(), "capital_utilization_factor": 1.0,
        "max_position_size": 0.5, "order_notional_cap": 1e6, "max_trade_size": 1e6},
        "risk_management": {**CFG.risk_management.model_dump(), "max_pos_pct": 0.5,
                            "max_order_notional": 1e6, "max_notional_opener": 1e6},
        # Seed 001's zones (the preset's own pause starts at its 80% total exposure).
        "margin_zones": {"yellow": 0.5, "orange": 0.75, "red": 0.9}}, env={})
    plan = Desk(cfg).plan(dict.fromkeys(markets, 0.2), acct([], available=200_000), markets,
                          now=NOW)
    # After three fills 60% of equity is margin: the YELLOW zone pauses the rest.
    assert [line.decision.approved for line in plan.lines] == [True] * 3 + [False] * 3
    assert plan.lines[3].decision.reasons == (ReasonCode.MARGIN_YELLOW,)
    wide = RiskConfig.from_mapping({**cfg.model_dump(), "margin_zones": {
        "yellow": 0.95, "orange": 0.97, "red": 0.99}}, env={})
    plan = Desk(wide).plan(dict.fromkeys(markets, 0.2), acct([], available=200_000), markets,
                           now=NOW)
    filled = sum(float(line.decision.notional) for line in plan.lines)
    assert filled == 80_000                                   # 80% total exposure
    assert plan.lines[4].decision.reasons == (ReasonCode.EXPOSURE_LIMIT,)


def test_plan_is_json_ready():
    plan = Desk(CFG).plan({"AAPL": 0.05}, acct([]), {"AAPL": stock("AAPL", "100")}, now=NOW)
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["lines"][0]["log"].startswith("SizeDecision: AAPL qty=100 (TARGET)")


@pytest.mark.parametrize(("targets", "markets", "error"), [
    ({"AAPL": float("nan")}, {"AAPL": "100"}, InvalidInputError),
    ({"AAPL": "0.1"}, {"AAPL": "100"}, InvalidInputError),
    ({"AAPL": 0.1}, {}, UnknownSymbolError),
    (["AAPL"], {"AAPL": "100"}, InvalidInputError),
])
def test_bad_plans_fail_before_anything_is_decided(targets, markets, error):
    desk = Desk(CFG)
    with pytest.raises(error):
        desk.plan(targets, acct([]), {s: stock(s, p) for s, p in markets.items()}, now=NOW)
