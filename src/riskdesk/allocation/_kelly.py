"""Multi-asset Kelly exposures."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from riskdesk.allocation._covariance import Covariance
from riskdesk.allocation._mean_variance import (
    DEFAULT_MAX_ITER,
    DEFAULT_TOL,
    bounds,
    finish,
    gross_limit,
    prepare,
)
from riskdesk.allocation._qp import BoxQP, Partition
from riskdesk.allocation._result import AllocationResult
from riskdesk.allocation._validate import OnFailure, as_scalar, as_vector


def kelly_weights(
    mu: ArrayLike,
    cov: Covariance | ArrayLike,
    *,
    fraction: float = 0.5,
    shrinkage: float = 0.0,
    long_only: bool = False,
    max_weight: ArrayLike | None = None,
    gross_cap: float | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_failure: OnFailure = "raise",
) -> AllocationResult:
    """Fractional multi-asset Kelly exposures, ``f = fraction * C^-1 mu`` when unconstrained.

    With constraints the exposures maximise the fractional-Kelly growth objective
    ``mu'f - f' C f / (2 fraction)`` subject to ``|f_i| <= max_weight`` (``f_i >= 0`` when
    long-only) and ``sum(|f|) <= gross_cap``. This is the constrained optimum, not a clipped
    copy of the unconstrained one: when a cap binds, correlated assets are re-sized around it.

    Parameters
    ----------
    mu
        Expected excess returns per period (over the funding rate), one per asset.
    cov
        Covariance of the returns over the same period.
    fraction
        Kelly fraction in ``(0, 1]``: ``0.5`` is half-Kelly.
    shrinkage
        Weight ``d`` in ``[0, 1]`` of the covariance's diagonal in
        ``(1 - d) C + d diag(C)``. Shrinking the correlations tempers the large offsetting
        long/short positions an inverse covariance produces from noisy estimates.
    long_only
        Forbid short exposures.
    max_weight
        Cap on each ``|f_i|`` (a fraction of equity): a scalar or one value per asset.
    gross_cap
        Cap on the total leverage ``sum(|f|)``.
    tol
        Required scaled KKT residual.
    max_iter
        Iteration budget of the solver.
    on_failure
        ``"raise"`` (default) or ``"return"`` a result flagged ``converged=False``.

    Returns
    -------
    AllocationResult
        ``method="kelly"``; the weights are exposures as fractions of equity and do not sum
        to one. ``objective`` is the expected log-growth rate per period of the exposures to
        second order, ``mu'f - f' C f / 2`` (with the shrunk ``C``).

    Raises
    ------
    InvalidInputError
        On bad inputs.
    ComputationError
        If the solve misses ``tol`` (for example a singular covariance without shrinkage) and
        ``on_failure="raise"``.
    """
    c, tolerance, iters, mode = prepare(cov, tol, max_iter, on_failure)
    n = c.n_assets
    m = as_vector(mu, "mu", size=n)
    frac = as_scalar(fraction, "fraction", low=0.0, high=1.0, low_inclusive=False)
    delta = as_scalar(shrinkage, "shrinkage", low=0.0, high=1.0)
    lo, hi = bounds(n, max_weight, long_only)
    gross = gross_limit(gross_cap)
    s_mat = c.matrix
    if delta > 0.0:
        s_mat = s_mat * (1.0 - delta)
        s_mat.flat[:: n + 1] = np.diagonal(c.matrix)
    qp = BoxQP(s_mat, lo, hi, budget=None, gross=gross)
    warm = None
    if gross is None and not np.isfinite(hi).any() and not long_only:
        warm = Partition(np.zeros(n, dtype=np.int8), np.ones(n), False)
    sol = qp.solve(frac * m, tol=tolerance, max_iter=iters, warm=warm)
    f = sol.w
    growth = float(m @ f) - 0.5 * float(f @ (s_mat @ f))
    return finish("kelly", sol, s_mat, growth, tolerance, mode)
