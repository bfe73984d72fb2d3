"""The calculators answer numbers where their schemas promise numbers, or refuse with 422.

A JSON answer carries a non-finite float as ``null``. These inputs made
``POST /api/capital/allocation/risk-parity`` answer ``null`` weights (``1 / 5e-324``
overflows), all-zero weights, weights for a matrix that is not a covariance, or fail with a
server error; each is now answered with finite figures or refused naming the field.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from api_support import Api

from riskdesk.allocation import AllocationResult
from riskdesk.api._responses import KellyOut, RiskParityOut
from riskdesk.service import _adapters

RISK_PARITY = "/api/capital/allocation/risk-parity"
KELLY = "/api/capital/position-size/kelly"
TINY = 5e-324  # the smallest positive float (subnormal)


def post(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.client.post(path, headers=api.headers(api.keys.read), json=body)


def numbers(value: Any) -> list[float]:
    """Every JSON number in an answer; fails on a null where a figure belongs."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in numbers(v)]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return []
    return [float(value)]


def assert_finite_allocation(body: dict[str, Any], capital: Decimal) -> None:
    RiskParityOut.model_validate(body)  # a null in a dict[str, float] fails here
    for field in ("weights", "allocation_pct"):
        assert all(v is not None for v in body[field].values()), body
    assert all(math.isfinite(x) for x in numbers(body))
    weights = body["weights"]
    assert all(w >= 0.0 for w in weights.values())
    assert math.fsum(weights.values()) == pytest.approx(1.0, abs=1e-12)
    usd = [Decimal(v) for v in body["allocation_usd"].values()]
    assert all(u.is_finite() for u in usd)
    # each amount is rounded to the cent: together within a cent per symbol of the capital
    assert abs(sum(usd) - capital) <= Decimal("0.01") * len(usd)


def exact_inverse_volatility(vols: dict[str, float]) -> dict[str, float]:
    """Seed 001's ``(1 / s_i) / sum_j (1 / s_j)`` in exact rational arithmetic."""
    inv = {k: 1 / Fraction(v) for k, v in vols.items()}
    total = sum(inv.values())
    return {k: float(x / total) for k, x in inv.items()}


@pytest.mark.parametrize("vols", [
    {"A": TINY},                          # was null: 1 / 5e-324 is inf, inf / inf is NaN
    {"A": 1e-320, "B": 1e-320},           # was null
    {"A": TINY, "B": 100.0},              # was null for A
    {"A": 1e-308, "B": 1e-308},           # was 0 and 0: the sum of the inverses overflowed
    {"A": 1e-300, "B": 1.0, "C": 2.5e-301},
    {"A": 100.0, "B": 0.025, "C": 3e-200},
], ids=["subnormal", "two-subnormal", "subnormal-and-100", "two-1e-308", "three-tiny",
        "wide-range"])
def test_inverse_volatility_of_extreme_volatilities_is_finite(
        api: Api, vols: dict[str, float]) -> None:
    capital = Decimal(10_000)
    r = post(api, RISK_PARITY, {"volatilities": vols, "capital": str(capital)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert_finite_allocation(body, capital)
    expected = exact_inverse_volatility(vols)
    for k, w in body["weights"].items():
        assert w == pytest.approx(expected[k], rel=1e-12, abs=1e-300)
        assert body["allocation_pct"][k] == pytest.approx(100.0 * expected[k], abs=1e-6)


@pytest.mark.parametrize("capital", ["0", "1e15"])
def test_capital_zero_and_largest_give_finite_amounts(api: Api, capital: str) -> None:
    vols = {"A": TINY, "B": 0.5, "C": 2.0}
    r = post(api, RISK_PARITY, {"volatilities": vols, "capital": capital})
    assert r.status_code == 200, r.text
    assert_finite_allocation(r.json(), Decimal(capital))


@pytest.mark.parametrize(("cov", "expected"), [
    # diagonal: w_i proportional to 1 / s_i (equal budgets); s = sqrt(variance)
    ([[TINY, 0.0], [0.0, TINY]], [0.5, 0.5]),  # was 422: the check underflowed to 0 / 0
    ([[1e-300, 0.0], [0.0, 4e-300]], [2 / 3, 1 / 3]),
    ([[1e-310, 0.0, 0.0], [0.0, 4e-310, 0.0], [0.0, 0.0, 1e-2]], [2 / 3, 1 / 3, 0.0]),
], ids=["subnormal-equal", "1e-300", "subnormal-and-normal"])
def test_equal_risk_on_tiny_variances_is_finite(api: Api, cov: list[list[float]],
                                                expected: list[float]) -> None:
    capital = Decimal(1_000)
    r = post(api, RISK_PARITY, {"symbols": ["A", "B", "C"][:len(cov)], "covariance": cov,
                                "capital": str(capital)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert_finite_allocation(body, capital)
    assert list(body["weights"].values()) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    rc = list(body["risk_contributions"].values())
    assert rc == pytest.approx([1 / len(cov)] * len(cov), rel=1e-9)


UNIT_NOT_PSD = {
    # a correlation of 1.5
    "correlation-above-one": [[1.0, 1.5], [1.5, 1.0]],
    # three correlations of -0.55: the equal portfolio's variance is 3 (1 - 2 x 0.55) < 0
    "three-negative": [[1.0, -0.55, -0.55], [-0.55, 1.0, -0.55], [-0.55, -0.55, 1.0]],
}


@pytest.mark.parametrize("name", list(UNIT_NOT_PSD))
@pytest.mark.parametrize("scales", [[1.0, 1.0, 1.0], [1.0, 1e-20, 1e-20], [1.0, 1e-150, 1e-3]],
                         ids=["unit", "two-small", "one-tiny"])
def test_a_matrix_that_is_not_a_covariance_is_refused_at_any_scale(
        api: Api, name: str, scales: list[float]) -> None:
    # D R D with D = diag(scales): a correlation matrix R that is not positive semi-definite
    # stays so whatever the volatilities; scaled, the PSD test's tolerance (relative to the
    # largest variance) used to let it through and the answer gave weights for it.
    corr = np.array(UNIT_NOT_PSD[name])
    d = np.array(scales[:corr.shape[0]])
    cov = (corr * np.outer(d, d)).tolist()
    r = post(api, RISK_PARITY, {"symbols": ["A", "B", "C"][:len(cov)], "covariance": cov})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert [e["field"] for e in detail] == ["body.covariance"]
    assert "semi-definite" in detail[0]["msg"]


def test_a_singular_covariance_is_refused_naming_the_failure(api: Api) -> None:
    r = post(api, RISK_PARITY, {"symbols": ["A", "B"], "covariance": [[1.0, -1.0], [-1.0, 1.0]]})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["type"] == "computation_failed"


def test_budgets_orders_of_magnitude_apart_are_refused_not_a_server_error(api: Api) -> None:
    # A division by zero in the conjugate-gradient step used to escape as a server error.
    cov = [[1.1292356338205188e-09, -1.1373073143964109e-07, 4.187142204458416e-08],
           [-1.1373073143964109e-07, 1.158451963693666e-05, -3.5682728714172914e-06],
           [4.187142204458416e-08, -3.5682728714172914e-06, 5.213951365537729e-06]]
    budgets = [1.0, 4.222013794580414e-145, 1.4017299092941828e-105]
    r = post(api, RISK_PARITY, {"symbols": ["A", "B", "C"], "covariance": cov,
                                "budgets": budgets})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["type"] == "computation_failed"


def test_a_non_finite_weight_is_refused_never_answered(api: Api,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(vols: Any) -> AllocationResult:
        return AllocationResult(np.array([math.nan, 1.0]), "inverse_volatility", True, 0, 0.0,
                                0.0, math.nan)

    monkeypatch.setattr(_adapters, "inverse_volatility", broken)
    r = post(api, RISK_PARITY, {"volatilities": {"A": 0.1, "B": 0.2}})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["type"] == "computation_failed"
    assert "'A'" in detail["msg"]


def exact_kelly(p: float, b: float) -> float:
    """``p - (1 - p) / b`` clipped to [0, 1] (no edge: 0), in exact rational arithmetic."""
    f = Fraction(p) - (1 - Fraction(p)) / Fraction(b)
    return float(min(max(f, Fraction(0)), Fraction(1)))


@pytest.mark.parametrize(("win_rate", "win_loss_ratio", "heat", "capital"), [
    (1.0, TINY, None, "100000"),          # a sure win: 1 whatever the ratio
    (0.9999999999999999, TINY, 0.0, "0"),  # (1 - p) / b overflows to inf: no edge
    (1.0, 1000.0, 100.0, "1e15"),
    (0.0, 1000.0, 50.0, "1"),
    (0.5, TINY, None, "1e15"),
])
def test_kelly_of_extreme_inputs_is_finite(api: Api, win_rate: float, win_loss_ratio: float,
                                           heat: float | None, capital: str) -> None:
    body: dict[str, Any] = {"win_rate": win_rate, "win_loss_ratio": win_loss_ratio,
                            "capital": capital}
    if heat is not None:
        body["portfolio_heat"] = heat
    r = post(api, KELLY, body)
    assert r.status_code == 200, r.text
    k = r.json()
    KellyOut.model_validate(k)
    assert all(math.isfinite(x) for x in numbers(k))
    assert all(a["before"] is not None and a["after"] is not None for a in k["adjustments"])
    assert k["kelly_pct"] == pytest.approx(100.0 * exact_kelly(win_rate, win_loss_ratio),
                                           abs=1e-6)
    assert k["adjusted_pct"] >= 0.0
    if k["kelly_pct"] == 0.0:  # no edge: nothing to bet, whatever the clip and multipliers
        assert k["adjusted_pct"] == 0.0
    size = Decimal(k["position_size_usd"])
    assert size.is_finite()
    assert Decimal(0) <= size <= Decimal(capital)
