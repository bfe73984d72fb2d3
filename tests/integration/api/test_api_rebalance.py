"""The multi-tier endpoint's rebalancing schedule runs from the last plan, on both databases.

A rebalance is a plan (``POST /api/orders/plan``) that sent an order. Seed 001's cadence is
daily while a tier's committed share is more than 20% (of its target) off the target, weekly
otherwise; ``due`` once that period has passed since the last rebalance.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from api_support import CASH, PRICES, START, Api, Clock, Keys, TestClient, build_service
from pydantic import BaseModel, ValidationError

from riskdesk.api import create_app
from riskdesk.api._responses import AnalysisOut, MultiTierOut, ScalingStrategyOut
from riskdesk.api.openapi import openapi_document
from riskdesk.config import RiskConfig
from riskdesk.domain import TradingState

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
MULTI_TIER = "/api/capital/allocation/multi-tier"
ANALYSIS = "/api/capital/analysis/complete"

# Cash equities (leverage 1: committed capital is notional), one symbol per tier.
TARGETS = {"CORE": Decimal("0.50"), "GROWTH": Decimal("0.30"), "OPPORTUNITY": Decimal("0.15")}
TIERED = """\
extends: default
capital_tiers:
  tiers:
    CORE: {target_pct: 0.50, min_leverage: 1, max_leverage: 1, symbols: [AAPL]}
    GROWTH: {target_pct: 0.30, min_leverage: 1, max_leverage: 1, symbols: [MSFT]}
    OPPORTUNITY: {target_pct: 0.15, min_leverage: 1, max_leverage: 1}
    RESERVE: {target_pct: 0.05, reserve: true}
  default_tier: OPPORTUNITY
  rebalance_deviation: 0.20
"""


@pytest.fixture
def tiered(db_url: str, tmp_path: Path) -> Iterator[Api]:
    """The API on a configuration whose tiers AAPL, MSFT and BTCUSDT can each fill."""
    config = tmp_path / "tiered.yaml"
    config.write_text(TIERED, encoding="utf-8")
    clock = Clock()
    service = build_service(db_url, clock, preset=str(config))
    store = service.store
    _, read = store.create_api_key("reader", ["read"])
    _, trade = store.create_api_key("bot", ["trade"])
    _, admin = store.create_api_key("operator", ["admin"])
    with TestClient(create_app(service, access_log=False)) as client:
        yield Api(client, service, clock, Keys(read, trade, admin, admin, ""))
    service.close()


def _get(api: Api, path: str) -> dict[str, Any]:
    r = api.client.get(path, headers=api.headers(api.keys.read))
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, dict)
    return body


def _schedule(api: Api) -> dict[str, Any]:
    """The schedule, checked to be the same in both views and to fit the typed models."""
    view = _get(api, MULTI_TIER)
    MultiTierOut.model_validate(view)
    bundled = _get(api, ANALYSIS)["multi_tier_allocation"]
    assert bundled["rebalance"] == view["rebalance"]
    reb = view["rebalance"]
    assert isinstance(reb, dict)
    return reb


#: Quotes one cent around each mark, so that the spread guard can be evaluated.
QUOTES = {"AAPL": ("430.46", "430.48"), "MSFT": ("27.94", "27.96"),
          "BTCUSDT": ("59999.9", "60000.1")}


def _plan(api: Api, targets: dict[str, float]) -> list[dict[str, Any]]:
    for symbol, (bid, ask) in QUOTES.items():
        api.service.broker.set_book(symbol, [(bid, 10_000)], [(ask, 10_000)])
    r = api.client.post("/api/orders/plan", headers=api.headers(), json={"targets": [
        {"symbol": s, "target_weight": w} for s, w in targets.items()]})
    assert r.status_code == 200, r.text
    decisions = r.json()["decisions"]
    assert isinstance(decisions, list)
    return decisions


def _sent(decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in decisions if d["recommendation"] in ("ENTER", "CAUTION")
            and Decimal(d["quantity"]) > 0]


def _fill(api: Api, symbol: str, side: str, qty: str, fill_id: str) -> None:
    api.service.broker.fill(symbol, side, qty, PRICES[symbol], fee_rate=0, fill_id=fill_id,
                            now=api.clock())


def _expected(shares: dict[str, Decimal], last: datetime, now: datetime) -> tuple[str, bool]:
    """Seed 001's rule, worked out here: the cadence and whether the tiers are due."""
    off = any(abs(shares[t] - target) / target > Decimal("0.20")
              for t, target in TARGETS.items())
    cadence = "daily" if off else "weekly"
    return cadence, now - last >= (DAY if off else WEEK)


def test_a_plan_records_the_rebalance_and_the_daily_cadence_follows(api: Api) -> None:
    before = _schedule(api)
    assert (before["last_rebalance"], before["due"]) == (None, True)
    decisions = _plan(api, {"AAPL": 0.05})
    assert _sent(decisions), decisions
    at = datetime.fromisoformat(decisions[0]["decided_at"])
    assert at == START  # the service's clock when the plan was made
    # The default tiers list BTCUSDT and ETHUSDT under CORE and nothing under GROWTH: with
    # nothing filled every tier is 100% off its target, so the cadence is daily.
    for elapsed, due in ((timedelta(0), False), (DAY - timedelta(seconds=1), False),
                         (DAY, True), (3 * DAY, True)):
        api.clock.now = START + elapsed
        reb = _schedule(api)
        assert reb["last_rebalance"] == at.isoformat()
        assert (reb["cadence"], reb["due"]) == ("daily", due), elapsed
        assert reb["next_due"] == (at + DAY).isoformat()


def test_on_target_tiers_wait_a_week_and_a_drift_makes_them_daily(tiered: Api) -> None:
    api = tiered
    decisions = _plan(api, {"AAPL": 0.05, "MSFT": 0.02})
    assert _sent(decisions), decisions
    first = START
    # The bot executes the rebalance: each tier's notional near its target share of equity.
    qty = {"AAPL": Decimal(116), "MSFT": Decimal(1073), "BTCUSDT": Decimal("0.25")}
    for symbol, q in qty.items():
        _fill(api, symbol, "BUY", str(q), f"fill-{symbol}")
    equity = CASH  # no fees, filled at the marks
    shares = {"CORE": qty["AAPL"] * PRICES["AAPL"] / equity,
              "GROWTH": qty["MSFT"] * PRICES["MSFT"] / equity,
              "OPPORTUNITY": qty["BTCUSDT"] * PRICES["BTCUSDT"] / equity}
    for elapsed, due in ((timedelta(days=3), False), (WEEK - timedelta(seconds=1), False),
                         (WEEK, True)):
        api.clock.now = first + elapsed
        reb = _schedule(api)
        assert reb["last_rebalance"] == first.isoformat()
        assert (reb["cadence"], reb["due"]) == _expected(shares, first, api.clock.now) == \
            ("weekly", due)
        assert reb["next_due"] == (first + WEEK).isoformat()

    # Three days after the rebalance, selling most of AAPL takes CORE far off its target.
    api.clock.now = first + timedelta(days=3)
    _fill(api, "AAPL", "SELL", "60", "fill-AAPL-cut")
    shares["CORE"] = 56 * PRICES["AAPL"] / equity
    reb = _schedule(api)
    assert (reb["cadence"], reb["due"]) == _expected(shares, first, api.clock.now) == \
        ("daily", True)
    assert reb["next_due"] == (first + DAY).isoformat()

    # A new plan that sends an order, here a reducer, is the new rebalance.
    second = api.clock.now
    assert _sent(_plan(api, {"BTCUSDT": 0.10}))  # a reducer: trims OPPORTUNITY
    reb = _schedule(api)
    assert reb["last_rebalance"] == second.isoformat()
    assert (reb["cadence"], reb["due"]) == ("daily", False)
    assert reb["next_due"] == (second + DAY).isoformat()


def test_a_plan_that_sends_nothing_is_no_rebalance(tiered: Api) -> None:
    api = tiered
    assert _sent(_plan(api, {"AAPL": 0.05}))
    api.clock.now = START + timedelta(days=2)
    api.service.set_trading_state(TradingState.HALTED, operator="ops", note="maintenance")
    refused = _plan(api, {"MSFT": 0.05})
    assert refused
    assert not _sent(refused)
    latest = api.service.store.journal(limit=1)[0]
    assert (latest["strategy"], latest["action"]) == ("plan", "REJECT")  # journaled as a plan
    reb = _schedule(api)
    # Still the first plan: the tiers stay due rather than look freshly rebalanced.
    assert reb["last_rebalance"] == START.isoformat()
    assert reb["due"] is True


def test_the_typed_responses_are_the_documented_schema(api: Api) -> None:
    _plan(api, {"AAPL": 0.05})
    doc = openapi_document()
    models: dict[str, type[BaseModel]] = {
        MULTI_TIER: MultiTierOut, "/api/capital/strategy/scaling": ScalingStrategyOut,
        ANALYSIS: AnalysisOut}
    for path, model in models.items():
        ok = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        model.model_validate(_get(api, path))  # the served body, key for key
    schemas = doc["components"]["schemas"]
    analysis = schemas["AnalysisOut"]["properties"]
    assert analysis["multi_tier_allocation"] == {"$ref": "#/components/schemas/MultiTierOut"}
    assert analysis["scaling_strategy"] == {"$ref": "#/components/schemas/ScalingStrategyOut"}
    for name in ("MultiTierOut", "RebalanceOut", "TierAllocationOut", "ScalingStrategyOut"):
        assert schemas[name]["additionalProperties"] is False
    # The view and the models agree key for key: an unknown or a missing key is refused.
    body = _get(api, MULTI_TIER)
    with pytest.raises(ValidationError):
        MultiTierOut.model_validate({**body, "surprise": 1})
    tier = {k: v for k, v in body["tiers"][0].items() if k != "deviation_pct"}
    with pytest.raises(ValidationError):
        MultiTierOut.model_validate({**body, "tiers": [tier]})
    assert body["rebalance"]["last_rebalance"] == START.isoformat()


def test_scaling_strategy_is_the_configured_large_account_profile(api: Api) -> None:
    body = _get(api, "/api/capital/strategy/scaling")
    out = ScalingStrategyOut.model_validate(body)
    large = RiskConfig.preset("default").account_tiers["large"]
    assert out.tier == "large"  # 100,000 is above the large tier's minimum equity
    assert large.min_equity <= float(CASH)
    assert (out.max_positions, out.min_leverage, out.max_leverage) == (
        large.max_positions, large.min_leverage, large.max_leverage)
    assert (out.min_risk_pct, out.max_risk_pct, out.risk_pct) == (
        large.min_risk_pct, large.max_risk_pct, large.risk_pct)
    assert Decimal(out.risk_per_trade) == CASH * Decimal(repr(large.risk_pct))
    assert out.phase is None  # phases are off in the default preset
    assert _get(api, ANALYSIS)["scaling_strategy"] == body


def test_a_plan_dated_ahead_of_this_clock_is_no_error(api: Api) -> None:
    # Another worker whose clock runs ahead made the plan: the schedule is dated at the plan.
    assert _sent(_plan(api, {"AAPL": 0.05}))
    api.clock.now = START - timedelta(seconds=2)
    reb = _schedule(api)
    assert reb["last_rebalance"] == START.isoformat()
    assert reb["due"] is False
    assert reb["next_due"] == (START + DAY).isoformat()
