from __future__ import annotations

import importlib.util
import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize

from riskdesk.allocation import Covariance, max_sharpe, mean_variance, min_variance
from riskdesk.errors import ComputationError, InvalidInputError

_spec = importlib.util.spec_from_file_location(
    "allocation_kkt", Path(__file__).with_name("test_allocation_kkt.py"))
assert _spec is not None
assert _spec.loader is not None
_kkt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kkt)
kkt_violation = _kkt.kkt_violation
bounds_for = _kkt.bounds_for


def factor_cov(n: int, seed: int = 0, k: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    b = rng.normal(1.0, 0.5, size=(n, k))
    f = np.diag(rng.uniform(1e-5, 4e-4, size=k))
    return b @ f @ b.T + np.diag(rng.uniform(1e-4, 9e-4, size=n))


def expected_returns(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + 100).normal(5e-4, 1e-3, size=n)


def enumerate_box_qp(
    q: np.ndarray, c: np.ndarray, lo: np.ndarray, hi: np.ndarray, budget: float
) -> np.ndarray:
    """Global optimum of a small box + budget QP by trying every active set."""
    n = c.size
    best, best_w = np.inf, None
    for states in itertools.product((0, 1, 2), repeat=n):
        st = np.array(states)
        free = st == 0
        w = np.where(st == 1, hi, np.where(st == 2, lo, 0.0))
        if not np.isfinite(w[~free]).all():
            continue
        if free.any():
            f = np.flatnonzero(free)
            kkt = np.zeros((f.size + 1, f.size + 1))
            kkt[: f.size, : f.size] = q[np.ix_(f, f)]
            kkt[: f.size, -1] = -1.0
            kkt[-1, : f.size] = 1.0
            rhs = np.append(c[f] - q[np.ix_(f, ~free)] @ w[~free], budget - w[~free].sum())
            w[f] = np.linalg.solve(kkt, rhs)[:-1]
        elif abs(w.sum() - budget) > 1e-12:
            continue
        if (w < lo - 1e-12).any() or (w > hi + 1e-12).any() or abs(w.sum() - budget) > 1e-9:
            continue
        val = 0.5 * w @ q @ w - c @ w
        if val < best:
            best, best_w = val, w
    assert best_w is not None
    return best_w


# --- minimum variance ----------------------------------------------------------------------


def test_unconstrained_min_variance_is_the_closed_form() -> None:
    cov = factor_cov(40, seed=1)
    res = min_variance(cov, long_only=False)
    x = np.linalg.solve(cov, np.ones(40))
    np.testing.assert_allclose(res.weights, x / x.sum(), rtol=1e-9, atol=1e-12)
    assert res.weights.min() < 0  # shorts appear without the constraint
    assert res.objective == pytest.approx(1.0 / x.sum(), rel=1e-10)


@pytest.mark.parametrize(("n", "cap"), [(4, None), (5, 0.3), (6, 0.25), (6, 0.5)])
def test_long_only_min_variance_matches_enumeration(n: int, cap: float | None) -> None:
    cov = factor_cov(n, seed=n)
    res = min_variance(cov, max_weight=cap)
    lo, hi = bounds_for(n, cap, long_only=True)
    ref = enumerate_box_qp(cov, np.zeros(n), lo, hi, 1.0)
    np.testing.assert_allclose(res.weights, ref, atol=1e-10)


@pytest.mark.parametrize(("n", "cap"), [(30, 0.1), (200, 0.05), (400, 0.02)])
def test_capped_min_variance_satisfies_kkt(n: int, cap: float) -> None:
    cov = factor_cov(n, seed=n)
    res = min_variance(cov, max_weight=cap)
    assert res.converged
    assert res.weights.min() >= 0.0
    assert res.weights.max() <= cap + 1e-15
    assert res.weights.sum() == pytest.approx(1.0, abs=1e-12)
    lo, hi = bounds_for(n, cap, long_only=True)
    assert kkt_violation(res.weights, cov, np.zeros(n), lo=lo, hi=hi, budget=1.0,
                         gross=None) < 1e-8
    assert res.objective == pytest.approx(res.weights @ cov @ res.weights, rel=1e-12)


def test_min_variance_matches_slsqp() -> None:
    n, cap = 15, 0.15
    cov = factor_cov(n, seed=11)
    res = min_variance(cov, max_weight=cap)
    ref = minimize(
        lambda w: w @ cov @ w,
        np.full(n, 1.0 / n),
        jac=lambda w: 2 * cov @ w,
        bounds=[(0.0, cap)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    assert res.objective <= ref.fun * (1 + 1e-9)
    assert res.objective == pytest.approx(ref.fun, rel=1e-6)


def test_min_variance_matches_clarabel() -> None:
    import cvxpy as cp
    n, cap = 150, 0.05
    cov = factor_cov(n, seed=5)
    res = min_variance(cov, max_weight=cap)
    x = cp.Variable(n)
    prob = cp.Problem(cp.Minimize(cp.quad_form(x, cp.psd_wrap(cov))),
                      [cp.sum(x) == 1, x >= 0, x <= cap])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-14, tol_gap_rel=1e-14, tol_feas=1e-12)
    assert res.objective == pytest.approx(prob.value, rel=1e-6)
    np.testing.assert_allclose(res.weights, x.value, atol=1e-5)


def test_long_short_with_gross_cap_satisfies_kkt() -> None:
    n = 60
    cov = factor_cov(n, seed=4)
    free = min_variance(cov, long_only=False)
    assert free.gross_exposure > 1.5
    res = min_variance(cov, long_only=False, max_weight=0.2, gross_cap=1.5)
    assert res.gross_exposure == pytest.approx(1.5, abs=1e-10)
    assert res.net_exposure == pytest.approx(1.0, abs=1e-12)
    lo, hi = bounds_for(n, 0.2, long_only=False)
    assert kkt_violation(res.weights, cov, np.zeros(n), lo=lo, hi=hi, budget=1.0,
                         gross=1.5) < 1e-8


def test_gross_cap_with_long_only_is_redundant_when_feasible() -> None:
    cov = factor_cov(10)
    a = min_variance(cov, gross_cap=2.0)
    b = min_variance(cov)
    np.testing.assert_allclose(a.weights, b.weights, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_weight": 0.09}, "max_weight"),  # 10 assets * 0.09 < 1
        ({"max_weight": 0.0}, "max_weight"),
        ({"max_weight": -0.1}, "max_weight"),
        ({"max_weight": [0.5] * 9}, "max_weight"),
        ({"max_weight": float("nan")}, "max_weight"),
        ({"gross_cap": 0.5}, "gross_cap"),
        ({"gross_cap": 0.0}, "gross_cap"),
        ({"long_only": "yes"}, "long_only"),
        ({"tol": -1.0}, "tol"),
    ],
)
def test_min_variance_rejects_bad_constraints(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        min_variance(factor_cov(10), **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_per_asset_caps() -> None:
    cov = factor_cov(8, seed=2)
    caps = np.array([0.05, 0.05, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3])
    res = min_variance(cov, max_weight=caps)
    assert (res.weights <= caps + 1e-15).all()
    lo, hi = np.zeros(8), caps
    np.testing.assert_allclose(res.weights, enumerate_box_qp(cov, np.zeros(8), lo, hi, 1.0),
                               atol=1e-10)


def test_singular_covariance_is_handled() -> None:
    # two identical assets: the covariance is singular and the split between the twins is
    # not unique, but the portfolio variance and the KKT conditions are
    base = factor_cov(9, seed=6)
    cov = np.zeros((10, 10))
    cov[:9, :9] = base
    cov[9, :9] = cov[:9, 9] = base[0]
    cov[9, 9] = base[0, 0]
    res = min_variance(cov, max_weight=0.3)
    lo, hi = bounds_for(10, 0.3, long_only=True)
    assert kkt_violation(res.weights, cov, np.zeros(10), lo=lo, hi=hi, budget=1.0,
                         gross=None) < 1e-8
    merged = res.weights[:9].copy()
    merged[0] += res.weights[9]
    ref = enumerate_box_qp(base, np.zeros(9), np.zeros(9), np.r_[0.6, np.full(8, 0.3)], 1.0)
    assert res.objective == pytest.approx(ref @ base @ ref, rel=1e-9)


def test_failure_raises_or_is_flagged() -> None:
    cov = factor_cov(300, seed=9)
    with pytest.raises(ComputationError, match="min_variance"):
        min_variance(cov, max_weight=0.01, max_iter=2)
    res = min_variance(cov, max_weight=0.01, max_iter=2, on_failure="return")
    assert not res.converged
    assert res.note


# --- mean-variance -------------------------------------------------------------------------


def test_mean_variance_unconstrained_closed_forms() -> None:
    n, gamma = 25, 7.0
    cov = factor_cov(n, seed=3)
    mu = expected_returns(n, seed=3)
    free = mean_variance(mu, cov, risk_aversion=gamma, long_only=False, budget=None)
    np.testing.assert_allclose(free.weights, np.linalg.solve(cov, mu) / gamma, rtol=1e-9)
    budgeted = mean_variance(mu, cov, risk_aversion=gamma, long_only=False)
    inv_mu = np.linalg.solve(cov, mu)
    inv_one = np.linalg.solve(cov, np.ones(n))
    nu = (gamma - inv_mu.sum()) / inv_one.sum()
    np.testing.assert_allclose(budgeted.weights, (inv_mu + nu * inv_one) / gamma, rtol=1e-9,
                               atol=1e-12)
    w = budgeted.weights
    assert budgeted.objective == pytest.approx(mu @ w - 0.5 * gamma * w @ cov @ w, rel=1e-12)


@pytest.mark.parametrize("n", [4, 6])
def test_mean_variance_long_only_matches_enumeration(n: int) -> None:
    cov = factor_cov(n, seed=n + 1)
    mu = expected_returns(n, seed=n)
    gamma = 2.0
    res = mean_variance(mu, cov, risk_aversion=gamma, max_weight=0.4)
    lo, hi = bounds_for(n, 0.4, long_only=True)
    ref = enumerate_box_qp(cov, mu / gamma, lo, hi, 1.0)
    np.testing.assert_allclose(res.weights, ref, atol=1e-10)


@pytest.mark.parametrize(
    ("long_only", "cap", "gross", "budget"),
    [
        (True, 0.1, None, 1.0),
        (False, 0.1, 2.0, 1.0),
        (False, 0.2, 3.0, None),
        (True, 0.2, 1.5, None),
        (False, None, 4.0, 0.5),
    ],
)
def test_mean_variance_satisfies_kkt(
    long_only: bool, cap: float | None, gross: float | None, budget: float | None
) -> None:
    n, gamma = 120, 3.0
    cov = factor_cov(n, seed=8)
    mu = expected_returns(n, seed=8) * 50
    res = mean_variance(mu, cov, risk_aversion=gamma, max_weight=cap, long_only=long_only,
                        gross_cap=gross, budget=budget)
    lo, hi = bounds_for(n, cap, long_only)
    assert kkt_violation(res.weights, cov, mu / gamma, lo=lo, hi=hi, budget=budget,
                         gross=gross) < 1e-8
    if gross is not None:
        assert res.gross_exposure <= gross + 1e-10


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"risk_aversion": 0.0}, "risk_aversion"),
        ({"risk_aversion": float("inf")}, "risk_aversion"),
        ({"risk_aversion": 1.0, "budget": float("nan")}, "budget"),
        ({"risk_aversion": 1.0, "budget": 2.0, "gross_cap": 1.5}, "gross_cap"),
        ({"risk_aversion": 1.0, "budget": -0.5}, "budget"),
    ],
)
def test_mean_variance_rejects_bad_inputs(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        mean_variance(expected_returns(5), factor_cov(5), **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize("mu", [[0.1, 0.2], [0.1, 0.2, np.nan, 0.0, 0.0], [[0.1] * 5]])
def test_mean_variance_rejects_bad_mu(mu: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        mean_variance(mu, factor_cov(5), risk_aversion=1.0)  # type: ignore[arg-type]
    assert info.value.field == "mu"


# --- maximum Sharpe ------------------------------------------------------------------------


def sharpe(w: np.ndarray, a: np.ndarray, cov: np.ndarray) -> float:
    return float(a @ w / np.sqrt(w @ cov @ w))


def test_max_sharpe_closed_form_long_short() -> None:
    n = 30
    cov = factor_cov(n, seed=12)
    mu = expected_returns(n, seed=12) + 2e-4
    rf = 1e-4
    res = max_sharpe(mu, cov, risk_free=rf, long_only=False)
    x = np.linalg.solve(cov, mu - rf)
    np.testing.assert_allclose(res.weights, x / x.sum(), rtol=1e-9, atol=1e-12)
    assert res.objective == pytest.approx(np.sqrt((mu - rf) @ x), rel=1e-9)


@pytest.mark.parametrize(
    ("n", "cap", "long_only", "gross"),
    [(10, None, True, None), (50, 0.1, True, None), (200, 0.03, True, None),
     (80, 0.1, False, 2.0)],
)
def test_max_sharpe_first_order_conditions(
    n: int, cap: float | None, long_only: bool, gross: float | None
) -> None:
    cov = factor_cov(n, seed=n)
    mu = expected_returns(n, seed=n)
    res = max_sharpe(mu, cov, max_weight=cap, long_only=long_only, gross_cap=gross)
    w = res.weights
    # the tangency portfolio solves the mean-variance problem with k = w'Cw / a'w
    k = float(w @ cov @ w / (mu @ w))
    lo, hi = bounds_for(n, cap, long_only)
    assert kkt_violation(w, cov, k * mu, lo=lo, hi=hi, budget=1.0, gross=gross) < 1e-8
    assert res.objective == pytest.approx(sharpe(w, mu, cov), rel=1e-12)
    # and it beats other feasible portfolios
    rng = np.random.default_rng(0)
    for _ in range(20):
        other = min_variance(cov + np.diag(rng.uniform(0, 1e-3, n)), max_weight=cap,
                             long_only=long_only, gross_cap=gross).weights
        assert sharpe(other, mu, cov) <= res.objective + 1e-12


def test_max_sharpe_matches_slsqp() -> None:
    n = 12
    cov = factor_cov(n, seed=21)
    mu = expected_returns(n, seed=21)
    res = max_sharpe(mu, cov, max_weight=0.3)
    ref = minimize(
        lambda w: -sharpe(w, mu, cov),
        np.full(n, 1.0 / n),
        bounds=[(0.0, 0.3)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 2000},
    )
    assert res.objective >= -ref.fun - 1e-9
    assert res.objective == pytest.approx(-ref.fun, rel=1e-6)


def test_max_sharpe_needs_positive_excess_return() -> None:
    cov = factor_cov(5)
    with pytest.raises(InvalidInputError) as info:
        max_sharpe(np.full(5, 0.01), cov, risk_free=0.02)
    assert info.value.field == "mu"
    with pytest.raises(InvalidInputError):
        max_sharpe(np.full(5, 0.01), cov, risk_free=0.02, long_only=False)


def test_max_sharpe_with_a_checked_covariance() -> None:
    cov = factor_cov(20, seed=2)
    mu = expected_returns(20, seed=2)
    a = max_sharpe(mu, Covariance(cov), max_weight=0.2)
    b = max_sharpe(mu, cov, max_weight=0.2)
    np.testing.assert_allclose(a.weights, b.weights)
    assert a.method == "max_sharpe"
    assert a.risk_contributions is not None
    assert a.risk_contributions.sum() == pytest.approx(1.0)
