"""Invariants of the allocation optimisers on random covariances of 2 to 200 assets."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from riskdesk.allocation import (
    DEFAULT_TIERS,
    kelly_weights,
    max_sharpe,
    mean_variance,
    min_variance,
    rebalance_due,
    risk_contributions,
    risk_parity,
    tier_budgets,
)
from riskdesk.allocation._qp import _threshold, _threshold_exact

_spec = importlib.util.spec_from_file_location(
    "allocation_kkt", Path(__file__).parents[1] / "unit" / "test_allocation_kkt.py")
assert _spec is not None
assert _spec.loader is not None
_kkt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kkt)
kkt_violation = _kkt.kkt_violation
bounds_for = _kkt.bounds_for

SETTINGS = settings(max_examples=30, deadline=None)


def make_cov(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vols = rng.uniform(0.005, 0.06, size=n)
    if kind == "factor":
        k = int(rng.integers(1, 6))
        b = rng.normal(0.8, 0.6, size=(n, k))
        corr = b @ b.T + np.diag(rng.uniform(0.2, 3.0, size=n))
    elif kind == "sample":
        t = n + int(rng.integers(5, 3 * n + 10))
        x = rng.normal(size=(t, n)) + rng.normal(size=(t, 1)) * rng.uniform(0, 1.5)
        corr = np.cov(x, rowvar=False)
    elif kind == "mixed_sign":
        a = rng.normal(size=(n, n))
        corr = a @ a.T / n + 0.05 * np.eye(n)
    else:  # ill-conditioned: strong single factor, tiny idiosyncratic risk
        b = rng.uniform(0.9, 1.1, size=(n, 1))
        corr = b @ b.T + np.diag(rng.uniform(1e-3, 1e-2, size=n))
    d = 1.0 / np.sqrt(np.diag(corr))
    corr = corr * np.outer(d, d)
    cov = corr * np.outer(vols, vols)
    return 0.5 * (cov + cov.T)


covariances = st.tuples(
    st.sampled_from(["factor", "sample", "mixed_sign", "ill"]),
    st.integers(min_value=2, max_value=200),
    st.integers(min_value=0, max_value=2**32 - 1),
)


@SETTINGS
@given(covariances)
def test_risk_parity_equalises_risk_contributions(spec: tuple[str, int, int]) -> None:
    cov = make_cov(*spec)
    n = cov.shape[0]
    res = risk_parity(cov)
    assert res.converged
    assert (res.weights > 0).all()
    assert abs(res.weights.sum() - 1.0) <= 1e-12
    rc = risk_contributions(res.weights, cov)
    assert np.max(np.abs(rc * n - 1.0)) <= 1e-8


@SETTINGS
@given(covariances, st.floats(min_value=1.0, max_value=4.0), st.booleans())
def test_min_variance_is_a_kkt_point(spec: tuple[str, int, int], slack: float,
                                     long_only: bool) -> None:
    cov = make_cov(*spec)
    n = cov.shape[0]
    cap = min(1.0, slack / n)
    gross = None if long_only else 1.0 + slack / 4
    res = min_variance(cov, max_weight=cap, long_only=long_only, gross_cap=gross)
    lo, hi = bounds_for(n, cap, long_only)
    assert kkt_violation(res.weights, cov, np.zeros(n), lo=lo, hi=hi, budget=1.0,
                         gross=gross) < 1e-7
    # no worse than two feasible alternatives
    equal = np.full(n, 1.0 / n)
    assert res.objective <= equal @ cov @ equal * (1 + 1e-12)
    if long_only and cap * n >= 1 and (erc := risk_parity(cov).weights).max() <= cap:
        assert res.objective <= erc @ cov @ erc * (1 + 1e-12)


@SETTINGS
@given(covariances, st.floats(min_value=0.5, max_value=50.0), st.booleans(), st.booleans())
def test_mean_variance_is_a_kkt_point(spec: tuple[str, int, int], gamma: float, long_only: bool,
                                      budgeted: bool) -> None:
    cov = make_cov(*spec)
    n = cov.shape[0]
    mu = np.random.default_rng(spec[2] % 1000).normal(0.0, 0.01, size=n)
    cap = min(1.0, 3.0 / n)
    budget = 1.0 if budgeted else None
    gross = None if long_only else 2.0
    res = mean_variance(mu, cov, risk_aversion=gamma, max_weight=cap, long_only=long_only,
                        gross_cap=gross, budget=budget)
    lo, hi = bounds_for(n, cap, long_only)
    assert kkt_violation(res.weights, cov, mu / gamma, lo=lo, hi=hi, budget=budget,
                         gross=gross) < 1e-7


@settings(max_examples=20, deadline=None)
@given(covariances, st.booleans())
def test_max_sharpe_beats_the_alternatives(spec: tuple[str, int, int], long_only: bool) -> None:
    cov = make_cov(*spec)
    n = cov.shape[0]
    mu = np.abs(np.random.default_rng(spec[2] % 977).normal(0.002, 0.004, size=n))
    cap = min(1.0, 3.0 / n)
    gross = None if long_only else 2.0
    res = max_sharpe(mu, cov, max_weight=cap, long_only=long_only, gross_cap=gross)
    w = res.weights
    k = float(w @ cov @ w / (mu @ w))
    lo, hi = bounds_for(n, cap, long_only)
    assert kkt_violation(w, cov, k * mu, lo=lo, hi=hi, budget=1.0, gross=gross) < 1e-7
    mv = min_variance(cov, max_weight=cap, long_only=long_only, gross_cap=gross).weights
    for other in (mv, np.full(n, 1.0 / n)):
        assert mu @ other / np.sqrt(other @ cov @ other) <= res.objective * (1 + 1e-9)


@SETTINGS
@given(covariances, st.floats(min_value=0.1, max_value=1.0), st.floats(min_value=0.0,
                                                                         max_value=1.0))
def test_kelly_is_a_kkt_point(spec: tuple[str, int, int], fraction: float,
                              shrinkage: float) -> None:
    cov = make_cov(*spec)
    n = cov.shape[0]
    mu = np.random.default_rng(spec[2] % 1009).normal(0.0, 0.002, size=n)
    res = kelly_weights(mu, cov, fraction=fraction, shrinkage=shrinkage, max_weight=0.5,
                        gross_cap=3.0)
    shrunk = (1 - shrinkage) * cov + shrinkage * np.diag(np.diag(cov))
    lo, hi = bounds_for(n, 0.5, long_only=False)
    assert kkt_violation(res.weights, shrunk, fraction * mu, lo=lo, hi=hi, budget=None,
                         gross=3.0) < 1e-7
    assert res.gross_exposure <= 3.0 + 1e-9


@settings(max_examples=50, deadline=None)
@given(
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=-3.0, max_value=3.0),
)
def test_threshold_projection_hits_its_target(n: int, seed: int, share: float,
                                              start: float) -> None:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=n) * rng.choice([1e-3, 1.0, 1e3])
    lo = np.where(rng.random(n) < 0.5, 0.0, -rng.uniform(0.1, 2.0, size=n))
    hi = np.where(rng.random(n) < 0.2, np.inf, rng.uniform(0.1, 2.0, size=n))
    finite_hi = np.where(np.isfinite(hi), hi, 5.0)
    target = float(lo.sum() + share * (finite_hi.sum() - lo.sum()))
    for tau in (_threshold(v, lo, hi, target, start), _threshold_exact(v, lo, hi, target)):
        got = np.clip(v - tau, lo, hi).sum()
        assert abs(got - target) <= 1e-9 * (1 + abs(target))


@settings(max_examples=50, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=3, max_size=3),
)
def test_tier_budgets_never_touch_the_reserve(equity: int, used: list[int]) -> None:
    eq = Decimal(equity) / 100
    usage = {name: Decimal(u) / 100 for name, u in zip(("CORE", "GROWTH", "OPPORTUNITY"), used,
                                                        strict=True)}
    budgets = tier_budgets(eq, usage)
    assert all(b.remaining >= 0 for b in budgets.values())
    total_used = sum(usage.values())
    deployable = eq * Decimal("0.95")
    for b in budgets.values():
        assert b.remaining <= max(Decimal(0), deployable - total_used)
        assert b.used + b.remaining <= max(b.target, b.used)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=3, max_size=3),
    st.integers(min_value=0, max_value=30 * 24 * 3600),
)
def test_rebalance_is_due_at_least_weekly(shares: list[float], seconds: int) -> None:
    weights = dict(zip(("CORE", "GROWTH", "OPPORTUNITY"), shares, strict=True))
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    check = rebalance_due(weights, t0, t0 + timedelta(seconds=seconds), DEFAULT_TIERS)
    if seconds >= 7 * 24 * 3600:
        assert check.due
    if check.cadence == "weekly":
        assert all(d <= 0.20 for d in check.deviations.values())
