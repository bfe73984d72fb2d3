from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from riskdesk.allocation import kelly_weights
from riskdesk.errors import InvalidInputError

_spec = importlib.util.spec_from_file_location(
    "allocation_kkt", Path(__file__).with_name("test_allocation_kkt.py"))
assert _spec is not None
assert _spec.loader is not None
_kkt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kkt)
kkt_violation = _kkt.kkt_violation
bounds_for = _kkt.bounds_for


def factor_cov(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    b = rng.normal(1.0, 0.5, size=(n, 2))
    return b @ np.diag([2e-4, 5e-5]) @ b.T + np.diag(rng.uniform(1e-4, 9e-4, size=n))


def edges(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + 50).normal(3e-4, 6e-4, size=n)


def test_unconstrained_kelly_is_fraction_times_inverse_covariance_times_mu() -> None:
    cov, mu = factor_cov(30, 1), edges(30, 1)
    res = kelly_weights(mu, cov, fraction=0.5)
    np.testing.assert_allclose(res.weights, 0.5 * np.linalg.solve(cov, mu), rtol=1e-9)
    assert res.method == "kelly"
    f = res.weights
    assert res.objective == pytest.approx(mu @ f - 0.5 * f @ cov @ f, rel=1e-12)


def test_single_asset_kelly_is_mu_over_variance() -> None:
    # the continuous Kelly fraction mu / sigma^2 (seed 002's kelly_mu_sigma), times the fraction
    res = kelly_weights([0.001], [[0.0004]], fraction=1.0)
    assert res.weights[0] == pytest.approx(2.5)


def test_full_shrinkage_ignores_correlations() -> None:
    cov, mu = factor_cov(10, 2), edges(10, 2)
    res = kelly_weights(mu, cov, fraction=0.25, shrinkage=1.0)
    np.testing.assert_allclose(res.weights, 0.25 * mu / np.diag(cov), rtol=1e-10)


def test_partial_shrinkage_blends_towards_the_diagonal() -> None:
    cov, mu = factor_cov(10, 3), edges(10, 3)
    d = 0.3
    shrunk = (1 - d) * cov + d * np.diag(np.diag(cov))
    res = kelly_weights(mu, cov, fraction=1.0, shrinkage=d)
    np.testing.assert_allclose(res.weights, np.linalg.solve(shrunk, mu), rtol=1e-9)


def test_long_only_kelly_satisfies_kkt() -> None:
    n = 40
    cov, mu = factor_cov(n, 4), edges(n, 4)
    res = kelly_weights(mu, cov, fraction=0.5, long_only=True)
    assert res.weights.min() >= 0
    lo, hi = bounds_for(n, None, long_only=True)
    assert kkt_violation(res.weights, cov, 0.5 * mu, lo=lo, hi=hi, budget=None,
                         gross=None) < 1e-8


@pytest.mark.parametrize(("long_only", "cap", "gross"), [(False, 0.2, 3.0), (True, 0.1, 1.0),
                                                          (False, 0.5, None)])
def test_capped_kelly_is_the_constrained_optimum_not_a_clip(
    long_only: bool, cap: float, gross: float | None
) -> None:
    n = 50
    cov, mu = factor_cov(n, 5), edges(n, 5) * 3
    res = kelly_weights(mu, cov, fraction=0.5, long_only=long_only, max_weight=cap,
                        gross_cap=gross)
    lo, hi = bounds_for(n, cap, long_only)
    assert kkt_violation(res.weights, cov, 0.5 * mu, lo=lo, hi=hi, budget=None,
                         gross=gross) < 1e-8
    assert np.abs(res.weights).max() <= cap + 1e-12
    if gross is not None:
        assert res.gross_exposure <= gross + 1e-10
    clipped = np.clip(0.5 * np.linalg.solve(cov, mu), lo, hi)
    if gross is not None and np.abs(clipped).sum() > gross:
        clipped *= gross / np.abs(clipped).sum()

    def growth(f: np.ndarray) -> float:
        return float(mu @ f - f @ cov @ f / (2 * 0.5))

    assert growth(res.weights) >= growth(clipped) - 1e-15


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fraction": 0.0}, "fraction"),
        ({"fraction": 1.5}, "fraction"),
        ({"shrinkage": -0.1}, "shrinkage"),
        ({"shrinkage": 1.1}, "shrinkage"),
        ({"gross_cap": -1.0}, "gross_cap"),
        ({"max_weight": 0.0}, "max_weight"),
    ],
)
def test_kelly_rejects_bad_parameters(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        kelly_weights(edges(5), factor_cov(5), **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_kelly_rejects_mismatched_shapes() -> None:
    with pytest.raises(InvalidInputError) as info:
        kelly_weights(edges(4), factor_cov(5))
    assert info.value.field == "mu"
