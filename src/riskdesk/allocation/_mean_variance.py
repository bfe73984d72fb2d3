"""Minimum-variance, mean-variance and maximum-Sharpe portfolios."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from riskdesk.allocation._covariance import Covariance, as_covariance
from riskdesk.allocation._qp import BoxQP, Partition, QPSolution
from riskdesk.allocation._result import AllocationResult, settle
from riskdesk.allocation._validate import (
    FloatArray,
    OnFailure,
    as_caps,
    as_positive_int,
    as_scalar,
    as_vector,
    check_on_failure,
    summarise,
)
from riskdesk.errors import ComputationError, InvalidInputError

DEFAULT_TOL = 1e-9
DEFAULT_MAX_ITER = 5000
_SEARCH_STEPS = 200


def positive_variances(c: Covariance) -> None:
    """Reject a covariance with a zero variance on the diagonal."""
    diag = np.diagonal(c.matrix)
    if not (diag > 0).all():
        raise InvalidInputError("cov", summarise(diag), "positive variance for every asset")


def bounds(
    n: int, max_weight: ArrayLike | None, long_only: bool
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper bounds on each weight."""
    if not isinstance(long_only, bool | np.bool_):
        raise InvalidInputError("long_only", long_only, "True or False")
    hi = as_caps(max_weight, n)
    lo = np.zeros(n) if long_only else -hi
    return lo, hi


def check_feasible(
    lo: FloatArray,
    hi: FloatArray,
    budget: float | None,
    gross: float | None,
    max_weight: object,
) -> None:
    """Raise :class:`InvalidInputError` when no weights satisfy the constraints."""
    if budget is not None:
        top = float(hi.sum())
        bottom = float(lo.sum())
        if budget > top * (1.0 + 1e-12):
            raise InvalidInputError(
                "max_weight", summarise(max_weight),
                f"caps that can hold the budget: sum of caps {top:.6g} < {budget:.6g} "
                "(for a scalar cap, max_weight * N >= budget)")
        if budget < bottom - 1e-12 * abs(bottom):
            raise InvalidInputError(
                "budget", budget, f"a budget >= {bottom:.6g} (the sum of the lower bounds)")
    if gross is not None and budget is not None and gross < abs(budget):
        raise InvalidInputError(
            "gross_cap", gross, f"a gross cap >= |budget| = {abs(budget):.6g}")


def gross_limit(gross_cap: float | None) -> float | None:
    """Check the gross cap (``None`` for no cap)."""
    if gross_cap is None:
        return None
    return as_scalar(gross_cap, "gross_cap", low=0.0, low_inclusive=False)


def finish(
    method: str,
    sol: QPSolution,
    s_mat: FloatArray,
    objective: float,
    tol: float,
    mode: OnFailure,
    extra_residual: float = 0.0,
    note: str = "",
) -> AllocationResult:
    """The result of a QP-family solve: variance and risk contributions under ``s_mat``.

    Converged only if the solver did and ``max(sol.residual, extra_residual) <= tol``; a
    failure's note is ``note``, else the solver's, else the residual against ``tol``. Raises
    :class:`ComputationError` on failure when ``mode`` is ``"raise"`` (see
    :func:`~riskdesk.allocation._result.settle`).
    """
    w = sol.w
    sw = s_mat @ w
    var = float(w @ sw)
    rc = w * sw / var if var > 0.0 else None
    residual = max(sol.residual, extra_residual)
    failure = note or sol.note or f"residual {residual:.3g} above tolerance {tol:.3g}"
    return settle(method, w, converged=sol.converged and residual <= tol,
                  iterations=sol.iterations, tolerance=tol, residual=residual,
                  objective=objective, risk_contributions=rc, variance=var,
                  failure_note=failure, on_failure=mode)


def prepare(
    cov: Covariance | ArrayLike, tol: float, max_iter: int, on_failure: object
) -> tuple[Covariance, float, int, OnFailure]:
    mode = check_on_failure(on_failure)
    tolerance = as_scalar(tol, "tol", low=0.0, low_inclusive=False)
    iters = as_positive_int(max_iter, "max_iter")
    c = as_covariance(cov)
    positive_variances(c)
    return c, tolerance, iters, mode


def min_variance(
    cov: Covariance | ArrayLike,
    *,
    max_weight: ArrayLike | None = None,
    long_only: bool = True,
    gross_cap: float | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_failure: OnFailure = "raise",
) -> AllocationResult:
    """Minimum-variance portfolio, fully invested.

    Solves ``min w' C w`` subject to ``sum(w) = 1``, ``|w_i| <= max_weight`` (``0 <= w_i`` when
    long-only) and ``sum(|w|) <= gross_cap``.

    Parameters
    ----------
    cov
        Covariance matrix (``N x N``) or a checked :class:`Covariance`.
    max_weight
        Cap on each ``|w_i|``: a scalar or one value per asset; ``None`` for no cap.
    long_only
        Forbid short positions.
    gross_cap
        Upper limit on the gross exposure ``sum(|w|)``; only binds for long-short portfolios
        (a fully invested long-only portfolio has gross exposure 1).
    tol
        Required scaled KKT residual (stationarity, feasibility and multiplier signs).
    max_iter
        Iteration budget of the solver.
    on_failure
        ``"raise"`` (default) or ``"return"`` a result flagged ``converged=False``.

    Returns
    -------
    AllocationResult
        ``method="min_variance"``; ``objective`` is the portfolio variance.

    Raises
    ------
    InvalidInputError
        On a bad covariance or infeasible constraints (for example ``max_weight * N < 1``).
    ComputationError
        If the solve misses ``tol`` and ``on_failure="raise"``.

    Notes
    -----
    Without caps and shorts allowed, the solution is the closed form
    ``C^-1 1 / (1' C^-1 1)``; the solver reaches it through the same active-set step.
    """
    c, tolerance, iters, mode = prepare(cov, tol, max_iter, on_failure)
    n = c.n_assets
    lo, hi = bounds(n, max_weight, long_only)
    gross = gross_limit(gross_cap)
    check_feasible(lo, hi, 1.0, gross, max_weight)
    qp = BoxQP(c.matrix, lo, hi, budget=1.0, gross=gross)
    sol = qp.solve(np.zeros(n), tol=tolerance, max_iter=iters, warm=_all_free(n, lo, hi, gross))
    var = float(sol.w @ (c.matrix @ sol.w))
    return finish("min_variance", sol, c.matrix, var, tolerance, mode)


def _all_free(
    n: int, lo: FloatArray, hi: FloatArray, gross: float | None
) -> Partition | None:
    """With no finite bound and no gross cap, the all-free partition is exact at once."""
    if gross is None and not np.isfinite(hi).any() and not np.isfinite(lo).any():
        return Partition(np.zeros(n, dtype=np.int8), np.ones(n), False)
    return None


def mean_variance(
    mu: ArrayLike,
    cov: Covariance | ArrayLike,
    *,
    risk_aversion: float,
    max_weight: ArrayLike | None = None,
    long_only: bool = True,
    gross_cap: float | None = None,
    budget: float | None = 1.0,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_failure: OnFailure = "raise",
) -> AllocationResult:
    """Mean-variance (Markowitz) portfolio.

    Solves ``max mu'w - (risk_aversion / 2) w' C w`` subject to ``sum(w) = budget`` (unless
    ``budget`` is ``None``), ``|w_i| <= max_weight`` (``0 <= w_i`` when long-only) and
    ``sum(|w|) <= gross_cap``.

    Parameters
    ----------
    mu
        Expected returns per period, one per asset.
    cov
        Covariance of the returns over the same period.
    risk_aversion
        The coefficient ``gamma > 0``; higher means less risk.
    max_weight
        Cap on each ``|w_i|``: a scalar or one value per asset; ``None`` for no cap.
    long_only
        Forbid short positions.
    gross_cap
        Upper limit on the gross exposure ``sum(|w|)``.
    budget
        Required net exposure ``sum(w)``; ``1`` (default) for a fully invested portfolio,
        ``None`` to let the optimiser choose exposures freely (seed 002's optimiser, where the
        caps and the gross cap are what bound the position sizes).
    tol
        Required scaled KKT residual.
    max_iter
        Iteration budget of the solver.
    on_failure
        ``"raise"`` (default) or ``"return"`` a result flagged ``converged=False``.

    Returns
    -------
    AllocationResult
        ``method="mean_variance"``; ``objective`` is the utility
        ``mu'w - (risk_aversion / 2) w' C w``.

    Raises
    ------
    InvalidInputError
        On bad inputs or infeasible constraints.
    ComputationError
        If the solve misses ``tol`` and ``on_failure="raise"``.
    """
    c, tolerance, iters, mode = prepare(cov, tol, max_iter, on_failure)
    n = c.n_assets
    m = as_vector(mu, "mu", size=n)
    gamma = as_scalar(risk_aversion, "risk_aversion", low=0.0, low_inclusive=False)
    lo, hi = bounds(n, max_weight, long_only)
    gross = gross_limit(gross_cap)
    b = None if budget is None else as_scalar(budget, "budget")
    check_feasible(lo, hi, b, gross, max_weight)
    qp = BoxQP(c.matrix, lo, hi, budget=b, gross=gross)
    # minimise 0.5 w'Cw - (mu / gamma)'w: same minimiser, no scaled copy of C
    sol = qp.solve(m / gamma, tol=tolerance, max_iter=iters, warm=_all_free(n, lo, hi, gross))
    w = sol.w
    utility = float(m @ w) - 0.5 * gamma * float(w @ (c.matrix @ w))
    return finish("mean_variance", sol, c.matrix, utility, tolerance, mode)


def max_sharpe(
    mu: ArrayLike,
    cov: Covariance | ArrayLike,
    *,
    risk_free: float = 0.0,
    max_weight: ArrayLike | None = None,
    long_only: bool = True,
    gross_cap: float | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_failure: OnFailure = "raise",
) -> AllocationResult:
    """Maximum-Sharpe (tangency) portfolio, fully invested.

    Solves ``max (mu - risk_free)'w / sqrt(w' C w)`` subject to ``sum(w) = 1``,
    ``|w_i| <= max_weight`` (``0 <= w_i`` when long-only) and ``sum(|w|) <= gross_cap``.

    Parameters
    ----------
    mu
        Expected returns per period, one per asset.
    cov
        Covariance of the returns over the same period.
    risk_free
        Risk-free return per period.
    max_weight
        Cap on each ``|w_i|``: a scalar or one value per asset; ``None`` for no cap.
    long_only
        Forbid short positions.
    gross_cap
        Upper limit on the gross exposure ``sum(|w|)``.
    tol
        Required residual: the scaled KKT residual of the underlying mean-variance problem and
        the relative mismatch of the tangency condition.
    max_iter
        Iteration budget of each inner solve.
    on_failure
        ``"raise"`` (default) or ``"return"`` a result flagged ``converged=False``.

    Returns
    -------
    AllocationResult
        ``method="max_sharpe"``; ``objective`` is the Sharpe ratio per period.

    Raises
    ------
    InvalidInputError
        On bad inputs, infeasible constraints, or when no feasible portfolio earns more than
        ``risk_free``.
    ComputationError
        If the search misses ``tol`` and ``on_failure="raise"``.

    Notes
    -----
    The maximiser is the mean-variance portfolio ``w(k) = argmin 0.5 w'Cw - k a'w``
    (``a = mu - risk_free``, same constraints) at the ``k > 0`` where
    ``k a'w(k) = w(k)' C w(k)``, which is the first-order condition of the Sharpe ratio. On a
    fixed set of active bounds ``w(k)`` is affine in ``k``, so the condition is a quadratic;
    the search alternates a warm-started solve with the exact root on the current active set,
    inside a bisection bracket.
    """
    c, tolerance, iters, mode = prepare(cov, tol, max_iter, on_failure)
    n = c.n_assets
    m = as_vector(mu, "mu", size=n)
    rf = as_scalar(risk_free, "risk_free")
    a = m - rf
    lo, hi = bounds(n, max_weight, long_only)
    gross = gross_limit(gross_cap)
    check_feasible(lo, hi, 1.0, gross, max_weight)
    s_mat = c.matrix
    no_excess = InvalidInputError(
        "mu", summarise(m), "at least one feasible portfolio earning more than risk_free")
    if not long_only and gross is None and not np.isfinite(hi).any():
        return _tangency_closed_form(s_mat, a, tolerance, mode, no_excess)
    if long_only and not (a > 0).any():
        raise no_excess
    qp = BoxQP(s_mat, lo, hi, budget=1.0, gross=gross)

    def solve_at(k: float, warm: Partition | None) -> QPSolution:
        sol = qp.solve(k * a, tol=tolerance, max_iter=iters, warm=warm)
        if not sol.converged:
            raise ComputationError(f"max_sharpe: inner solve failed at k={k:.3g}: {sol.note}")
        return sol

    def h(sol: QPSolution, k: float) -> float:
        w = sol.w
        return k * float(a @ w) - float(w @ (s_mat @ w))

    sol0 = solve_at(0.0, None)
    if not h(sol0, 0.0) < 0.0:
        raise InvalidInputError("cov", "a zero-variance portfolio", "a covariance with no "
                                "riskless combination of the assets")
    total_iter = sol0.iterations
    best, best_k = sol0, 0.0
    k_lo, k_hi = 0.0, math.inf
    k_first = float(np.mean(np.diagonal(s_mat))) / float(np.max(np.abs(a)))
    root = _exact_root(qp, a, s_mat, sol0.partition, 0.0) if sol0.partition else None
    k = root if root is not None else k_first
    for _ in range(_SEARCH_STEPS):
        sol = solve_at(k, best.partition)
        total_iter += sol.iterations
        hv = h(sol, k)
        var = float(sol.w @ (s_mat @ sol.w))
        best, best_k = sol, k
        if abs(hv) / var <= tolerance:
            break
        if hv > 0.0:
            k_hi = k
        else:
            k_lo = k
            if math.isinf(k_hi) and k > 1e15 * k_first:
                raise no_excess  # the return never pays for the risk: no positive excess
        if math.isfinite(k_hi) and k_hi - k_lo <= 1e-15 * k_hi:
            break
        root = _exact_root(qp, a, s_mat, sol.partition, k) if sol.partition else None
        if math.isinf(k_hi):
            # no upper bracket yet: follow the root of the current active set, but grow by at
            # most a factor 4 per step (a root far out comes from an active set that will
            # change on the way)
            grow = 4.0 * max(k, k_first)
            k = root if root is not None and k_lo < root < grow else grow
        elif root is not None and k_lo < root < k_hi:
            k = root
        else:
            k = 0.5 * (k_lo + k_hi)
    w = best.w
    var = float(w @ (s_mat @ w))
    mismatch = abs(h(best, best_k)) / var
    sharpe = float(a @ w) / math.sqrt(var)
    result_sol = QPSolution(w, best.nu, best.theta, best.converged, total_iter, best.residual,
                            best.partition, best.note)
    note = "" if mismatch <= tolerance else f"tangency condition off by {mismatch:.3g}"
    return finish("max_sharpe", result_sol, s_mat, sharpe, tolerance, mode,
                   extra_residual=mismatch, note=note)


def _exact_root(
    qp: BoxQP, a: FloatArray, s_mat: FloatArray, part: Partition, k_ref: float
) -> float | None:
    """Root of ``k a'w(k) = w(k)'Cw(k)`` when ``w(k)`` follows the active set ``part``."""
    w0, _, _ = qp.solve_partition(np.zeros_like(a), part)
    w1k, _, _ = qp.solve_partition(a, part)
    w1 = w1k - w0  # w(k) = w0 + k w1 on this active set
    sw0 = s_mat @ w0
    sw1 = s_mat @ w1
    qa = float(a @ w1) - float(w1 @ sw1)
    qb = float(a @ w0) - 2.0 * float(w0 @ sw1)
    qc = -float(w0 @ sw0)
    roots: list[float] = []
    if abs(qa) <= 1e-14 * (abs(qb) + abs(qc)):
        if qb != 0.0:
            roots.append(-qc / qb)
    else:
        disc = qb * qb - 4.0 * qa * qc
        if disc >= 0.0:
            sq = math.sqrt(disc)
            q = -0.5 * (qb + math.copysign(sq, qb))
            if q != 0.0:
                roots.extend([q / qa, qc / q])
    positive = [r for r in roots if r > 0.0 and math.isfinite(r)]
    if not positive:
        return None
    return min(positive, key=lambda r: abs(r - k_ref))


def _tangency_closed_form(
    s_mat: FloatArray,
    a: FloatArray,
    tol: float,
    mode: OnFailure,
    no_excess: InvalidInputError,
) -> AllocationResult:
    n = a.size
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    qp = BoxQP(s_mat, lo, hi, budget=None, gross=None)
    part = Partition(np.zeros(n, dtype=np.int8), np.ones(n), False)
    x, _, _ = qp.solve_partition(a, part)  # x = C^-1 a
    denom = float(x.sum())
    if not denom > 0.0 or not float(a @ x) > 0.0:
        raise no_excess
    w = x / denom
    res = qp.residual(a / denom, w, 0.0, 0.0, part)
    sol = QPSolution(w, 0.0, 0.0, res <= tol, 0, res, part,
                     "" if res <= tol else "singular covariance")
    var = float(w @ (s_mat @ w))
    return finish("max_sharpe", sol, s_mat, float(a @ w) / math.sqrt(var), tol, mode)
