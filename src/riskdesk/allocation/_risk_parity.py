"""Inverse-volatility and equal-risk-contribution (risk budgeting) weights."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from riskdesk.allocation._covariance import _PSD_JITTER, Covariance, as_covariance
from riskdesk.allocation._result import AllocationResult, settle
from riskdesk.allocation._validate import (
    FloatArray,
    OnFailure,
    as_positive_int,
    as_scalar,
    as_vector,
    check_on_failure,
    summarise,
)
from riskdesk.errors import InvalidInputError

_BUDGET_SUM_TOL = 1e-6
# Below this relative residual the Newton iterates are inside the region of quadratic
# convergence and full steps are taken without a line search (where the objective's
# differences would be below rounding anyway).
_FULL_STEP_BELOW = 1e-6
_ARMIJO = 1e-4
_TO_BOUNDARY = 0.95
_WARM_STEPS = 1
_EXACT_BELOW = 1e-2
_FORCING = 0.1
_SINGLE_PRECISION_FROM = 200
# Correlations beyond 1 + _CORRELATION_SLACK are refused. The covariance check bounds them by
# that much already for every asset whose variance is at least _PSD_JITTER / _CORRELATION_SLACK
# of the largest (its tolerance is relative to the largest variance); only the rows of smaller
# variances are checked here.
_CORRELATION_SLACK = 1e-6
_SMALL_VARIANCE = _PSD_JITTER / _CORRELATION_SLACK


def inverse_volatility(vols: ArrayLike) -> AllocationResult:
    """Weights proportional to ``1 / volatility``, summing to one.

    This is the "risk parity" of seed 001: ``w_i = (1 / s_i) / sum_j (1 / s_j)``. It equalises
    risk contributions only when all pairwise correlations are equal; use :func:`risk_parity`
    for the true equal-risk-contribution portfolio.

    Parameters
    ----------
    vols
        Per-asset volatilities (any consistent unit), strictly positive.

    Returns
    -------
    AllocationResult
        ``method="inverse_volatility"``, ``iterations=0``; ``objective`` is NaN (there is no
        objective) and ``risk_contributions`` / ``variance`` are ``None`` (no correlations
        are known).

    Raises
    ------
    InvalidInputError
        If ``vols`` is empty, not finite or not strictly positive.

    Notes
    -----
    The inverses are taken relative to the smallest volatility, ``min(s) / s_i`` in
    ``(0, 1]``, so that no volatility, however small (down to the smallest subnormal float),
    overflows ``1 / s_i``: the weights are finite, non-negative and sum to one for every
    valid input. An asset whose weight is below the smallest float gets 0.
    """
    v = as_vector(vols, "vols", positive=True)
    inv = float(v.min()) / v
    w = inv / inv.sum()
    return AllocationResult(
        weights=w,
        method="inverse_volatility",
        converged=True,
        iterations=0,
        tolerance=0.0,
        residual=0.0,
        objective=math.nan,
    )


def _budgets(budgets: ArrayLike | None, n: int) -> FloatArray:
    if budgets is None:
        return np.full(n, 1.0 / n)
    b = as_vector(budgets, "budgets", size=n, positive=True)
    total = float(b.sum())
    if abs(total - 1.0) > _BUDGET_SUM_TOL:
        raise InvalidInputError("budgets", summarise(b), "risk budgets summing to 1")
    out: FloatArray = b / total
    return out


@np.errstate(divide="ignore", over="ignore", invalid="ignore")
def risk_parity(
    cov: Covariance | ArrayLike,
    budgets: ArrayLike | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
    on_failure: OnFailure = "raise",
) -> AllocationResult:
    """Equal-risk-contribution (or risk-budgeting) weights: long-only, summing to one.

    Finds ``w > 0`` with ``sum(w) = 1`` such that each asset's share of portfolio variance,
    ``w_i (C w)_i / (w' C w)``, equals its budget ``b_i`` (``1 / N`` by default).

    Parameters
    ----------
    cov
        Covariance matrix (``N x N``) or a checked :class:`Covariance`. Every asset needs a
        positive variance.
    budgets
        Risk budgets, one per asset, strictly positive and summing to one. ``None`` means
        equal risk contributions.
    tol
        Required largest relative deviation ``max_i |rc_i / b_i - 1|`` of the achieved risk
        contributions from the budgets.
    max_iter
        Maximum Newton iterations.
    on_failure
        ``"raise"`` (default) raises :class:`~riskdesk.errors.ComputationError` when the
        tolerance is not met; ``"return"`` returns the last iterate flagged
        ``converged=False`` instead.

    Returns
    -------
    AllocationResult
        ``method="risk_parity"``; ``residual`` is the achieved relative deviation,
        ``risk_contributions`` the achieved shares, and ``objective`` the squared distance
        ``sum_i (rc_i - b_i)^2``.

    Raises
    ------
    InvalidInputError
        On a bad covariance (shape, NaN, asymmetric, not PSD, a zero variance) or bad budgets.
    ComputationError
        If the solve does not reach ``tol`` and ``on_failure="raise"``.

    Notes
    -----
    The solver minimises the strictly convex function ``0.5 y' R y - sum_i b_i log y_i`` over
    ``y > 0`` (Spinu 2013; Griveau-Billion, Richard and Roncalli 2013), where ``R`` is the
    correlation matrix; its minimiser satisfies ``y_i (R y)_i = b_i``, and
    ``w = (y / s) / sum(y / s)`` with ``s`` the volatilities. Newton steps are computed by
    conjugate gradients preconditioned with the Hessian's diagonal: the Hessian
    ``R + diag(b / y^2)`` is dominated by its diagonal near the solution, so a few
    matrix-vector products per step suffice and no ``N x N`` factorisation is formed.

    Risk contributions are checked in correlation units, so a covariance of any scale (down
    to subnormal variances) is solved alike. Iterates that leave the finite range are
    detected and reported (the solve fails), so numpy's floating-point warnings are off
    inside the solve. A solve whose contributions match the budgets with a negative
    portfolio variance, or a correlation beyond ``1 + 1e-6`` in the row of an asset whose
    variance is below ``1e-4`` of the largest, is refused as not positive semi-definite.
    """
    mode = check_on_failure(on_failure)
    tolerance = as_scalar(tol, "tol", low=0.0, low_inclusive=False)
    iter_cap = as_positive_int(max_iter, "max_iter")
    c = as_covariance(cov)
    s_mat = c.matrix
    n = c.n_assets
    b = _budgets(budgets, n)
    vols = c.volatilities
    if not (vols > 0).all():
        raise InvalidInputError("cov", summarise(vols), "positive variance for every asset")
    _check_small_variance_correlations(s_mat)
    if n == 1:
        one = np.ones(1)
        return AllocationResult(one, "risk_parity", True, 0, tolerance, 0.0, 0.0, one,
                                float(s_mat[0, 0]))

    inv_s = 1.0 / vols

    def corr_times(v: FloatArray) -> FloatArray:
        out: FloatArray = (s_mat @ (v * inv_s)) * inv_s
        return out

    # Hessian-vector products inside CG only steer the Newton direction (the gradient is always
    # exact), so they run on a single-precision copy: half the memory traffic of the product
    # that dominates the cost. Small problems are not worth the copy.
    if n >= _SINGLE_PRECISION_FROM:
        s32 = s_mat.astype(np.float32)
        inv_s32 = inv_s.astype(np.float32)

        def hessian_times(v: FloatArray) -> FloatArray:
            prod = (s32 @ (v.astype(np.float32) * inv_s32)) * inv_s32
            return prod.astype(np.float64)
    else:
        hessian_times = corr_times

    def objective(y: FloatArray, ry: FloatArray) -> float:
        return 0.5 * float(y @ ry) - float(b @ np.log(y))

    y = np.sqrt(b)
    ry = corr_times(y)
    y, ry = _rescale(y, ry, b)
    f = objective(y, ry)
    # Multiplicative fixed-point steps, y_i <- sqrt(y_i b_i / (R y)_i), land much closer to
    # the solution when correlations are mostly positive; each is kept only if it helps.
    for _ in range(_WARM_STEPS):
        if not (ry > 0).all():
            break
        y1 = np.sqrt(y * b / ry)
        ry1 = corr_times(y1)
        y1, ry1 = _rescale(y1, ry1, b)
        f1 = objective(y1, ry1)
        if not (math.isfinite(f1) and f1 < f):
            break
        y, ry, f = y1, ry1, f1

    iterations = 0
    final: tuple[FloatArray, float, FloatArray, float] | None = None
    note = ""
    while True:
        g = ry - b / y
        err = float(np.max(np.abs(y * g / b)))
        if err <= 0.5 * tolerance:
            final = _finish_weights(y, inv_s, corr_times, b)
            if final[3] <= tolerance:
                break
        if iterations >= iter_cap:
            note = (f"no convergence in {iter_cap} Newton iterations (a singular covariance "
                    "with a riskless long-only portfolio has no risk-parity solution; budgets "
                    "many orders of magnitude apart on an ill-conditioned covariance cannot "
                    "be met to the tolerance in double precision)")
            break
        if not math.isfinite(err):
            note = "iterates left the finite range (is the covariance singular?)"
            break
        iterations += 1
        hd = b / (y * y)
        d, hd_times_d = _newton_direction(hessian_times, g, hd, min(_FORCING, math.sqrt(err)))
        neg = d < 0
        step = 1.0
        if neg.any():
            step = min(1.0, _TO_BOUNDARY * float(np.min(-y[neg] / d[neg])))
        rd = hd_times_d - hd * d  # R d, recovered from the CG residual (approximately)
        if err > _FULL_STEP_BELOW:
            slope = float(g @ d)
            while step > 1e-12:
                y_try = y + step * d
                f_try = objective(y_try, ry + step * rd)
                if f_try <= f + _ARMIJO * step * slope:
                    break
                step *= 0.5
        y = y + step * d
        # Far from the solution R y is updated from R d at no cost; the rounding this
        # accumulates is removed by recomputing it exactly once the iterates are close.
        ry = ry + step * rd if err > _EXACT_BELOW else corr_times(y)
        f = objective(y, ry)

    if final is None or final[3] > tolerance:
        final = _finish_weights(y, inv_s, corr_times, b)
    w, var, rc, residual = final
    converged = residual <= tolerance and math.isfinite(residual)
    # Contributions that match the budgets with a negative portfolio variance are all
    # negative: no positive semi-definite matrix allows that. The up-front check misses it
    # when an asset's variance is below that check's tolerance (it is relative to the largest
    # variance), so the weights would rest on correlations beyond [-1, 1]. copysign also
    # catches a negative variance that underflowed to -0.0.
    if converged and math.copysign(1.0, var) < 0.0:
        raise InvalidInputError(
            "cov", f"portfolio variance {var:.3g} at the risk-parity weights",
            "a positive semi-definite matrix (its correlations give a negative variance)")
    failure = note or f"risk contributions off by {residual:.3g} (tolerance {tolerance:.3g})"
    return settle("risk_parity", w,
                  converged=converged,
                  iterations=iterations, tolerance=tolerance, residual=residual,
                  objective=float(np.sum((rc - b) ** 2)), risk_contributions=rc, variance=var,
                  failure_note=failure, on_failure=mode)


def _check_small_variance_correlations(s_mat: FloatArray) -> None:
    """Refuse a correlation beyond ``1 + _CORRELATION_SLACK`` in a row of a small variance.

    The solver works on the correlation matrix; a correlation of, say, ``1e144`` (a variance
    of ``1e-300`` next to a covariance of ``1e-6``) passes the positive semi-definite check,
    whose tolerance is relative to the largest variance, and would give weights for a matrix
    that no portfolio has. Only rows whose variance is below ``_SMALL_VARIANCE`` times the
    largest can hide such a correlation, so the check costs nothing on ordinary matrices.
    """
    var = np.diagonal(s_mat)
    small = np.flatnonzero(var < _SMALL_VARIANCE * float(var.max()))
    if small.size == 0:
        return
    inv_s = 1.0 / np.sqrt(var)
    corr = (np.abs(s_mat[small]) * inv_s[None, :]) * inv_s[small][:, None]
    at = np.unravel_index(int(np.argmax(corr)), corr.shape)
    worst = float(corr[at])
    if worst > 1.0 + _CORRELATION_SLACK:
        raise InvalidInputError(
            "cov", f"|correlation| {worst:.3g} between assets {int(small[at[0]])} and {int(at[1])}",
            "a positive semi-definite matrix (correlations within [-1, 1])")


def _rescale(y: FloatArray, ry: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Scale ``y`` to the optimal length along its ray: ``t^2 y'Ry = sum(b)``."""
    quad = float(y @ ry)
    if not quad > 0.0:
        return y, ry
    t = math.sqrt(float(b.sum()) / quad)
    return y * t, ry * t


def _finish_weights(
    y: FloatArray,
    inv_s: FloatArray,
    corr_times: Callable[[FloatArray], FloatArray],
    b: FloatArray,
) -> tuple[FloatArray, float, FloatArray, float]:
    """Normalised weights, their variance, risk contributions and relative budget error.

    With ``x = y / s``, ``T = sum(x)`` and ``w = x / T``: ``w_i (C w)_i = y_i (R y)_i / T^2``
    and ``w' C w = y' R y / T^2``. The risk contributions are therefore computed from the
    correlation products, which stay of order one whatever the scale of the covariance; in
    the covariance's own units, products of variances near the bottom of the float range
    lose every digit to underflow.
    """
    x = y * inv_s
    total = np.float64(x.sum())  # numpy scalars: a zero gives inf or NaN, not an exception
    w = x / total
    ry = corr_times(y)
    quad = np.float64(y @ ry)
    rc = y * ry / quad
    var = float(quad / total / total)
    return w, var, rc, float(np.max(np.abs(rc / b - 1.0)))


def _newton_direction(
    corr_times: Callable[[FloatArray], FloatArray],
    g: FloatArray,
    hd: FloatArray,
    forcing: float,
) -> tuple[FloatArray, FloatArray]:
    """Preconditioned CG on ``(R + diag(hd)) d = -g``.

    Returns the direction ``d`` and ``H d``; the latter comes for free from the CG residual
    (``H d = -g - r``) and lets the line search evaluate the objective without another
    product with ``R``.
    """
    n = g.shape[0]
    minv = 1.0 / (1.0 + hd)  # diag(R) = 1
    d = np.zeros(n)
    r = -g
    z = r * minv
    p = z
    rz = float(r @ z)
    stop = forcing * float(np.linalg.norm(g))
    for _ in range(max(10, 2 * n)):
        if not rz > 0.0:
            # r' M^-1 r underflowed (extreme budgets make M^-1 tiny): no usable direction
            # is left, and the next ratio would divide by zero.
            break
        hp = corr_times(p) + hd * p
        php = float(p @ hp)
        if not php > 0.0:
            break
        alpha = rz / php
        d = d + alpha * p
        r = r - alpha * hp
        if float(np.linalg.norm(r)) <= stop:
            break
        z = r * minv
        rz_new = float(r @ z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    hdir: FloatArray = -g - r
    return d, hdir
