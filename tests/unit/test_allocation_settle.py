"""The one place an allocation result is assembled from a solve."""

from __future__ import annotations

import numpy as np
import pytest

from riskdesk.allocation import AllocationResult
from riskdesk.allocation._result import settle
from riskdesk.allocation._validate import OnFailure
from riskdesk.errors import ComputationError

W = np.array([0.25, 0.75])
RC = np.array([0.1, 0.9])


def _settle(converged: bool, on_failure: OnFailure = "raise") -> AllocationResult:
    return settle("demo", W, converged=converged, iterations=7, tolerance=1e-9, residual=2e-3,
                  objective=0.5, risk_contributions=RC, variance=0.04,
                  failure_note="residual too high", on_failure=on_failure)


def test_converged_result_carries_every_figure_and_no_note() -> None:
    res = _settle(True)
    assert res.weights.tolist() == [0.25, 0.75]
    assert (res.method, res.converged, res.iterations) == ("demo", True, 7)
    assert (res.tolerance, res.residual, res.objective, res.variance) == (1e-9, 2e-3, 0.5, 0.04)
    assert res.risk_contributions is not None
    assert res.risk_contributions.tolist() == [0.1, 0.9]
    assert res.scale == 1.0
    assert res.note == ""


def test_failure_raises_naming_the_method_and_why() -> None:
    with pytest.raises(ComputationError, match=r"^demo: residual too high$"):
        _settle(False, "raise")


def test_failure_returned_on_request_keeps_the_note() -> None:
    res = _settle(False, "return")
    assert res.converged is False
    assert res.note == "residual too high"


def test_result_does_not_share_the_solver_array() -> None:
    w = W.copy()
    res = settle("demo", w, converged=True, iterations=0, tolerance=1.0, residual=0.0,
                 objective=0.0, risk_contributions=None, variance=None, failure_note="",
                 on_failure="raise")
    w[0] = 9.0
    assert res.weights[0] == 0.25
    assert res.risk_contributions is None
