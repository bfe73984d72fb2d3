"""An independent KKT checker for the box/budget/gross QPs, and its own sanity tests.

The checker knows nothing about the solver: it reads the active constraints off the weights,
fits the budget and gross multipliers by least squares on the free weights, and measures every
violated condition. The property tests load this module by path.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog


def kkt_violation(
    w: np.ndarray,
    q: np.ndarray,
    c: np.ndarray,
    *,
    lo: np.ndarray,
    hi: np.ndarray,
    budget: float | None,
    gross: float | None,
    eps: float = 1e-9,
) -> float:
    """Largest violation of the KKT conditions of ``min 0.5 w'Qw - c'w`` (scaled).

    Constraints: ``lo <= w <= hi``, ``sum(w) == budget`` (if given), ``sum|w| <= gross``.
    """
    w = np.asarray(w, dtype=float)
    n = w.size
    long_only = bool((lo >= 0).all())
    g = q @ w - c
    scale = max(np.abs(q @ w).max(), np.abs(c).max(), np.mean(np.diag(q)) * np.abs(w).max())
    at_hi = w >= hi - eps
    at_lo = (w <= lo + eps) & ~at_hi
    gross_now = float(np.abs(w).sum())
    gross_active = gross is not None and gross_now >= gross - eps
    zero = np.zeros(n, dtype=bool)
    if gross_active and not long_only:
        zero = (np.abs(w) <= eps) & ~at_hi & ~at_lo
    free = ~(at_hi | at_lo | zero)
    sign = np.ones(n) if long_only else np.where(w < 0, -1.0, 1.0)
    s_hi = np.where(hi > 0, 1.0, -1.0)
    s_lo = np.ones(n) if long_only else np.where(lo >= 0, 1.0, -1.0)

    # Best multipliers: minimise the largest dual violation t over (nu, theta >= 0) by LP.
    # Each row: a_nu * nu + a_theta * theta - t <= b.
    rows, rhs = [], []

    def add(mask: np.ndarray, a_nu: float, a_theta: np.ndarray, b: np.ndarray) -> None:
        k = int(mask.sum())
        if k:
            rows.append(np.column_stack([np.full(k, a_nu), a_theta[mask], -np.ones(k)]))
            rhs.append(b[mask])

    lam_s = sign
    add(free, -1.0, lam_s, -g)  # g - nu + theta s <= t
    add(free, 1.0, -lam_s, g)  # -(g - nu + theta s) <= t
    add(at_hi, -1.0, s_hi, -g)
    add(at_lo, 1.0, -s_lo, g)
    add(zero, -1.0, -np.ones(n), -g)  # g - nu - theta <= t
    add(zero, 1.0, -np.ones(n), g)  # nu - g - theta <= t
    res = linprog(
        c=[0.0, 0.0, 1.0],
        A_ub=np.vstack(rows),
        b_ub=np.concatenate(rhs),
        bounds=[(None, None) if budget is not None else (0.0, 0.0),
                (0.0, None) if gross_active else (0.0, 0.0),
                (0.0, None)],
        method="highs",
    )
    assert res.status == 0, res.message
    dual = float(res.x[2])

    viol = [0.0]
    viol.append(float(np.max(w - hi, initial=0.0)))
    viol.append(float(np.max(lo - w, initial=0.0)))
    if budget is not None:
        viol.append(abs(float(w.sum()) - budget))
    if gross is not None:
        viol.append(gross_now - gross)
    return max(max(viol), dual / scale)


def bounds_for(n: int, max_weight: float | None, long_only: bool) -> tuple[np.ndarray, np.ndarray]:
    hi = np.full(n, np.inf if max_weight is None else max_weight)
    lo = np.zeros(n) if long_only else -hi
    return lo, hi


def test_checker_accepts_the_closed_form_min_variance() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(6, 6))
    q = a @ a.T + np.eye(6)
    x = np.linalg.solve(q, np.ones(6))
    w = x / x.sum()
    lo, hi = bounds_for(6, None, long_only=False)
    assert kkt_violation(w, q, np.zeros(6), lo=lo, hi=hi, budget=1.0, gross=None) < 1e-12


def test_checker_rejects_a_suboptimal_point() -> None:
    q = np.diag([1.0, 2.0, 4.0])
    w = np.full(3, 1.0 / 3.0)
    lo, hi = bounds_for(3, None, long_only=True)
    assert kkt_violation(w, q, np.zeros(3), lo=lo, hi=hi, budget=1.0, gross=None) > 0.1


def test_checker_rejects_an_infeasible_point() -> None:
    q = np.eye(3)
    w = np.array([0.5, 0.5, 0.5])
    lo, hi = bounds_for(3, None, long_only=True)
    assert kkt_violation(w, q, np.zeros(3), lo=lo, hi=hi, budget=1.0, gross=None) == pytest.approx(
        0.5
    )


def test_checker_accepts_a_bound_active_solution() -> None:
    # min-variance of two assets where the low-variance one is capped at 0.6
    q = np.diag([1.0, 4.0])
    w = np.array([0.6, 0.4])
    lo, hi = bounds_for(2, 0.6, long_only=True)
    assert kkt_violation(w, q, np.zeros(2), lo=lo, hi=hi, budget=1.0, gross=None) < 1e-12
