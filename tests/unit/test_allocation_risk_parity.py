from __future__ import annotations

import numpy as np
import pytest

from riskdesk.allocation import (
    Covariance,
    inverse_volatility,
    ledoit_wolf,
    risk_contributions,
    risk_parity,
)
from riskdesk.errors import ComputationError, InvalidInputError


def factor_cov(n: int, seed: int = 0, k: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    b = rng.normal(1.0, 0.5, size=(n, k))
    f = np.diag(rng.uniform(1e-5, 4e-4, size=k))
    return b @ f @ b.T + np.diag(rng.uniform(1e-4, 9e-4, size=n))


def uniform_corr_cov(vols: np.ndarray, rho: float) -> np.ndarray:
    n = vols.size
    corr = np.full((n, n), rho)
    np.fill_diagonal(corr, 1.0)
    return corr * np.outer(vols, vols)


def ccd_reference(cov: np.ndarray, budgets: np.ndarray, sweeps: int = 2000) -> np.ndarray:
    """Cyclical coordinate descent (Griveau-Billion et al. 2013), one coordinate at a time."""
    n = cov.shape[0]
    x = 1.0 / np.sqrt(np.diag(cov))
    for _ in range(sweeps):
        for i in range(n):
            c = cov[i] @ x - cov[i, i] * x[i]
            x[i] = (-c + np.sqrt(c * c + 4.0 * cov[i, i] * budgets[i])) / (2.0 * cov[i, i])
    return x / x.sum()


# --- inverse volatility --------------------------------------------------------------------


def test_inverse_volatility_follows_the_seed_formula() -> None:
    # Seed 001's example: BTC 2.5%, ETH 3.2%, SOL 5.8%. The seed prints 42/35/23; its own
    # formula gives 45.2/35.3/19.5, which is what we implement (documented discrepancy).
    res = inverse_volatility([0.025, 0.032, 0.058])
    np.testing.assert_allclose(res.weights, [0.45198, 0.35311, 0.19482], atol=5e-5)
    assert res.weights.sum() == pytest.approx(1.0)
    assert res.method == "inverse_volatility"
    assert res.converged
    assert res.risk_contributions is None
    assert res.variance is None
    assert res.volatility is None
    assert np.isnan(res.objective)


@pytest.mark.parametrize("vols", [[], [0.1, 0.0], [0.1, -0.2], [0.1, np.nan], [[0.1, 0.2]]])
def test_inverse_volatility_rejects_bad_vols(vols: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        inverse_volatility(vols)  # type: ignore[arg-type]
    assert info.value.field == "vols"


# --- equal risk contribution ---------------------------------------------------------------


@pytest.mark.parametrize("rho", [-0.9, -0.3, 0.0, 0.5, 0.95])
def test_two_assets_is_inverse_volatility_for_any_correlation(rho: float) -> None:
    vols = np.array([0.02, 0.05])
    res = risk_parity(uniform_corr_cov(vols, rho))
    np.testing.assert_allclose(res.weights, inverse_volatility(vols).weights, rtol=1e-10)


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.8])
def test_uniform_correlation_is_inverse_volatility(rho: float) -> None:
    vols = np.array([0.01, 0.02, 0.03, 0.05, 0.08])
    res = risk_parity(uniform_corr_cov(vols, rho))
    np.testing.assert_allclose(res.weights, inverse_volatility(vols).weights, rtol=1e-10)


@pytest.mark.parametrize("n", [3, 10, 50, 300, 800])
def test_risk_contributions_are_equal(n: int) -> None:
    cov = factor_cov(n, seed=n)
    res = risk_parity(cov)
    assert res.converged
    assert res.weights.min() > 0
    assert res.weights.sum() == pytest.approx(1.0, abs=1e-14)
    rc = risk_contributions(res.weights, cov)
    assert np.max(np.abs(rc * n - 1.0)) <= 1e-8
    assert res.risk_contributions is not None
    np.testing.assert_allclose(res.risk_contributions, rc, rtol=1e-12)
    assert res.residual <= 1e-8
    assert res.variance == pytest.approx(res.weights @ cov @ res.weights, rel=1e-12)
    assert res.objective <= 1e-16


def test_matches_coordinate_descent_reference() -> None:
    cov = factor_cov(12, seed=7)
    budgets = np.random.default_rng(2).uniform(0.5, 2.0, size=12)
    budgets /= budgets.sum()
    res = risk_parity(cov, budgets)
    np.testing.assert_allclose(res.weights, ccd_reference(cov, budgets), rtol=1e-9)


def test_custom_budgets_are_met() -> None:
    cov = factor_cov(6, seed=1)
    budgets = np.array([0.4, 0.2, 0.1, 0.1, 0.1, 0.1])
    res = risk_parity(cov, budgets)
    assert res.risk_contributions is not None
    np.testing.assert_allclose(res.risk_contributions, budgets, rtol=1e-9)


def test_negative_correlations() -> None:
    cov = np.array([[0.04, -0.01, 0.002], [-0.01, 0.09, -0.02], [0.002, -0.02, 0.01]])
    res = risk_parity(cov)
    rc = risk_contributions(res.weights, cov)
    np.testing.assert_allclose(rc, np.full(3, 1 / 3), rtol=1e-9)


def test_single_asset() -> None:
    res = risk_parity([[0.04]])
    np.testing.assert_array_equal(res.weights, [1.0])


def test_accepts_a_checked_covariance() -> None:
    r = np.random.default_rng(0).normal(0, 0.01, size=(400, 20))
    cov = ledoit_wolf(r)
    res = risk_parity(cov)
    np.testing.assert_allclose(res.weights, risk_parity(np.array(cov.matrix)).weights)


@pytest.mark.parametrize(
    ("budgets", "field"),
    [
        ([0.5, 0.5], "budgets"),
        ([0.5, 0.5, 0.5], "budgets"),
        ([0.5, 0.6, -0.1], "budgets"),
        ([0.5, 0.5, 0.0], "budgets"),
        ([0.5, 0.5, np.nan], "budgets"),
    ],
)
def test_bad_budgets(budgets: list[float], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        risk_parity(factor_cov(3), budgets)
    assert info.value.field == field


def test_zero_variance_asset_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="positive variance"):
        risk_parity(np.diag([0.04, 0.0]))


def test_not_psd_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="semi-definite"):
        risk_parity([[1.0, 1.5], [1.5, 1.0]])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"tol": 0.0}, "tol"), ({"max_iter": 0}, "max_iter"), ({"on_failure": "ignore"},
                                                             "on_failure")],
)
def test_bad_options(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        risk_parity(factor_cov(3), **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_non_convergence_raises_or_is_flagged() -> None:
    cov = factor_cov(50, seed=3)
    with pytest.raises(ComputationError, match="risk_parity"):
        risk_parity(cov, max_iter=1, tol=1e-14)
    res = risk_parity(cov, max_iter=1, tol=1e-14, on_failure="return")
    assert not res.converged
    assert res.residual > 1e-14
    assert "Newton" in res.note or "risk contributions" in res.note


def test_checked_covariance_is_not_rechecked() -> None:
    cov = Covariance(factor_cov(5))
    assert risk_parity(cov).converged


def test_large_mixed_sign_covariance() -> None:
    # above 200 assets the CG products run in single precision; the result must not care
    rng = np.random.default_rng(11)
    a = rng.normal(size=(600, 600))
    corr = a @ a.T / 600 + 0.05 * np.eye(600)
    d = 1.0 / np.sqrt(np.diag(corr))
    vols = rng.uniform(0.01, 0.05, size=600)
    cov = corr * np.outer(d * vols, d * vols)
    res = risk_parity(cov)
    rc = risk_contributions(res.weights, cov)
    assert np.max(np.abs(rc * 600 - 1.0)) <= 1e-8
