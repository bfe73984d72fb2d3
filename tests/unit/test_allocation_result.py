from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from riskdesk.allocation import (
    AllocationResult,
    inverse_volatility,
    min_variance,
    risk_contributions,
    risk_parity,
    scale_leverage,
)
from riskdesk.errors import ComputationError, InvalidInputError

COV = np.array([[0.04, 0.006, -0.002], [0.006, 0.09, 0.01], [-0.002, 0.01, 0.0225]])


def test_result_is_frozen_and_its_arrays_read_only() -> None:
    res = risk_parity(COV)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.method = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.weights[0] = 1.0
    assert res.risk_contributions is not None
    with pytest.raises(ValueError, match="read-only"):
        res.risk_contributions[0] = 1.0


def test_result_copies_its_input() -> None:
    w = np.array([0.5, 0.5])
    res = AllocationResult(w, "manual", True, 0, 0.0, 0.0, 0.0)
    w[0] = 9.0
    assert res.weights[0] == 0.5
    assert res.n_assets == 2
    assert res.gross_exposure == 1.0
    assert res.net_exposure == 1.0


def test_exposures_and_volatility() -> None:
    res = min_variance(COV, long_only=False)
    assert res.net_exposure == pytest.approx(1.0)
    assert res.volatility == pytest.approx(np.sqrt(res.weights @ COV @ res.weights))


def test_risk_contributions_sum_to_one() -> None:
    rc = risk_contributions([0.2, 0.5, 0.3], COV)
    assert rc.sum() == pytest.approx(1.0)
    w = np.array([0.2, 0.5, 0.3])
    np.testing.assert_allclose(rc, w * (COV @ w) / (w @ COV @ w))


@pytest.mark.parametrize("weights", [[0.0, 0.0, 0.0], [0.5, 0.5], [0.1, np.nan, 0.2]])
def test_risk_contributions_rejects_bad_weights(weights: list[float]) -> None:
    with pytest.raises(InvalidInputError) as info:
        risk_contributions(weights, COV)
    assert info.value.field == "weights"


def test_scale_to_target_leverage_keeps_the_shape() -> None:
    base = risk_parity(COV)
    scaled = scale_leverage(base, target_leverage=3.0)
    assert scaled.gross_exposure == pytest.approx(3.0)
    np.testing.assert_allclose(scaled.weights / 3.0, base.weights)
    assert scaled.scale == pytest.approx(3.0)
    assert base.variance is not None
    assert scaled.variance == pytest.approx(9.0 * base.variance)
    assert scaled.risk_contributions is not None
    assert base.risk_contributions is not None
    np.testing.assert_allclose(scaled.risk_contributions, base.risk_contributions)
    assert "target" in scaled.note


def test_gross_cap_binds_after_the_target() -> None:
    scaled = scale_leverage(risk_parity(COV), target_leverage=10.0, gross_cap=4.0)
    assert scaled.gross_exposure == pytest.approx(4.0)
    assert "gross_cap" in scaled.note


def test_gross_cap_alone_only_scales_down() -> None:
    base = risk_parity(COV)
    same = scale_leverage(base, gross_cap=2.0)
    np.testing.assert_allclose(same.weights, base.weights)
    down = scale_leverage(scale_leverage(base, target_leverage=5.0), gross_cap=2.0)
    assert down.gross_exposure == pytest.approx(2.0)
    assert down.scale == pytest.approx(2.0)


def test_max_weight_binds_proportionally() -> None:
    base = inverse_volatility([0.02, 0.03, 0.05])
    scaled = scale_leverage(base, target_leverage=3.0, max_weight=1.0)
    assert np.abs(scaled.weights).max() == pytest.approx(1.0)
    np.testing.assert_allclose(scaled.weights / scaled.weights.sum(), base.weights)
    assert "max_weight" in scaled.note


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"target_leverage": 0.0}, "target_leverage"), ({"gross_cap": -1.0}, "gross_cap"),
     ({"max_weight": float("inf")}, "max_weight")],
)
def test_scale_rejects_bad_limits(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        scale_leverage(risk_parity(COV), **kwargs)
    assert info.value.field == field


def test_scale_refuses_unconverged_results_and_empty_portfolios() -> None:
    bad = risk_parity(COV, max_iter=1, tol=1e-15, on_failure="return")
    assert not bad.converged
    with pytest.raises(ComputationError, match="non-converged"):
        scale_leverage(bad, target_leverage=2.0)
    empty = AllocationResult(np.zeros(3), "manual", True, 0, 0.0, 0.0, 0.0)
    with pytest.raises(InvalidInputError):
        scale_leverage(empty, target_leverage=2.0)
