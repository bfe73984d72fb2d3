"""``GET /api/capital/strategy/scaling``: ``risk_per_trade`` is money, a decimal string.

The ``*_risk_pct`` fields stay fractions, as documented for this endpoint. Run on both
databases.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from api_support import CASH, Api

from riskdesk.api._responses import ScalingStrategyOut
from riskdesk.api.openapi import openapi_document
from riskdesk.config import RiskConfig
from riskdesk.limits import scaling_strategy
from riskdesk.service._adapters import scaling_view

SCALING = "/api/capital/strategy/scaling"


def _get(api: Api, path: str) -> dict[str, Any]:
    r = api.client.get(path, headers=api.headers(api.keys.read))
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, dict)
    return body


def test_risk_per_trade_is_a_decimal_string_of_equity_times_risk(api: Api) -> None:
    body = _get(api, SCALING)
    large = RiskConfig.preset("default").account_tiers["large"]
    assert body["tier"] == "large"
    assert isinstance(body["risk_per_trade"], str), body
    assert Decimal(body["risk_per_trade"]) == CASH * Decimal(repr(large.risk_pct))
    # The risk fields stay fractions of equity.
    assert (body["min_risk_pct"], body["max_risk_pct"], body["risk_pct"]) == (
        large.min_risk_pct, large.max_risk_pct, large.risk_pct)
    ScalingStrategyOut.model_validate(body)
    bundled = _get(api, "/api/capital/analysis/complete")["scaling_strategy"]
    assert bundled == body


def test_the_schema_says_risk_per_trade_is_a_string() -> None:
    schema = openapi_document()["components"]["schemas"]["ScalingStrategyOut"]
    field = schema["properties"]["risk_per_trade"]
    assert {"type": "string"} in field["anyOf"], field
    assert {"type": "number"} not in field["anyOf"], field
    assert "fraction" in schema["properties"]["risk_pct"]["description"]


@pytest.mark.parametrize("equity", [
    "100000", "7000.07", "98765.43", "1234567.123456789", "250.5"])
def test_the_view_multiplies_the_decimal_equity_exactly(equity: str) -> None:
    config = RiskConfig.preset("default")
    strategy = scaling_strategy(float(equity), config)
    assert strategy.risk_pct is not None
    view = scaling_view(strategy, Decimal(equity))
    assert view["risk_per_trade"] == str(Decimal(equity) * Decimal(repr(strategy.risk_pct)))
    assert {k: v for k, v in view.items() if k != "risk_per_trade"} == {
        k: v for k, v in strategy.to_dict().items() if k != "risk_per_trade"}


def test_below_every_tier_there_is_no_risk_per_trade() -> None:
    strategy = scaling_strategy(1.0, RiskConfig.preset("default"))
    assert strategy.tier is None
    assert scaling_view(strategy, Decimal(1))["risk_per_trade"] is None
