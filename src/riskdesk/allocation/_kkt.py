"""KKT machinery of the box-constrained QP: partitions, exact solves, multipliers, residuals.

Given a guess of which constraints hold with equality (a :class:`Partition`), the functions
here solve the resulting equality-constrained problem exactly, find the multipliers (by a small
linear program at a degenerate vertex) and measure the scaled KKT residual.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from riskdesk.allocation._qp_types import FREE, HI, LO, ZERO, Partition, _Problem
from riskdesk.allocation._validate import FloatArray

# --------------------------------------------------------------------------------------------
# active-set phase


def _partition_of(prob: _Problem, w: FloatArray, gross_active: bool) -> Partition:
    state = np.full(w.shape, FREE, dtype=np.int8)
    state[w >= prob.hi] = HI
    state[w <= prob.lo] = LO
    if gross_active and not prob.long_only:
        state[(w == 0.0) & (state == FREE)] = ZERO
    sign = np.where(w < 0, -1.0, 1.0)
    return Partition(state, sign, gross_active)


def _solve_block(q: FloatArray, idx: NDArray[np.intp], rhs: FloatArray) -> FloatArray | None:
    """Solve ``Q[idx, idx] X = rhs``; ``None`` when the block is (numerically) singular."""
    a = q if idx.size == q.shape[0] else q[np.ix_(idx, idx)]
    try:
        x = np.asarray(np.linalg.solve(a, rhs), dtype=np.float64)
    except np.linalg.LinAlgError:
        return None
    if not np.isfinite(x).all():
        return None
    err = float(np.max(np.abs(a @ x - rhs)))
    size = float(np.max(np.abs(a))) * float(np.max(np.abs(x))) + float(np.max(np.abs(rhs)))
    return x if err <= 1e-8 * size else None


def _fixed_values(prob: _Problem, part: Partition) -> FloatArray:
    st = part.state
    w = np.zeros(st.shape)
    w[st == HI] = prob.hi[st == HI]
    w[st == LO] = prob.lo[st == LO]
    return w


def _abs_derivative(prob: _Problem, part: Partition) -> FloatArray:
    """Derivative of ``|w_i|`` used in stationarity for each index under the partition."""
    if prob.long_only:
        return np.ones(part.state.shape)
    st = part.state
    s = part.sign.copy()
    s[st == HI] = prob.s_hi[st == HI]
    s[st == LO] = prob.s_lo[st == LO]
    return s


def _lp_multipliers(
    prob: _Problem, part: Partition, gw: FloatArray, scale: float
) -> tuple[float, float, float]:
    """Multipliers that minimise the largest violation of the dual conditions.

    A linear program in ``(nu, theta >= 0, t >= 0)``: minimise ``t`` subject to
    ``|g_i - nu + theta s_i| <= t`` on free weights, the sign conditions of the bound
    multipliers on weights at a bound and ``|g_i - nu| <= theta + t`` on weights held at zero.
    Used when the free weights do not pin the multipliers down (no or few free weights, a
    degenerate vertex). Rows are divided by ``scale`` so the solver's tolerances are relative.
    Returns ``(nu, theta, t)`` with ``t`` in units of ``scale``.
    """
    use_nu = prob.budget is not None
    use_theta = part.gross_active
    if not (use_nu or use_theta):
        return 0.0, 0.0, 0.0
    st = part.state
    s = _abs_derivative(prob, part)
    g = gw / scale
    rows: list[FloatArray] = []
    rhs: list[FloatArray] = []

    def add(mask: NDArray[np.bool_], a_nu: float, a_theta: FloatArray, b: FloatArray) -> None:
        # one row per index: a_nu * nu + a_theta * theta - t <= b
        k = int(mask.sum())
        if k:
            rows.append(np.column_stack([np.full(k, a_nu), a_theta[mask], -np.ones(k)]))
            rhs.append(b[mask])

    ones = np.ones_like(g)
    free, hi, lo, zero = st == FREE, st == HI, st == LO, st == ZERO
    add(free, -1.0, s, -g)
    add(free, 1.0, -s, g)
    add(hi, -1.0, s, -g)
    add(lo, 1.0, -s, g)
    add(zero, -1.0, -ones, -g)
    add(zero, 1.0, -ones, g)
    if not rows:
        return 0.0, 0.0, 0.0
    # Imported here: the desk imports allocation's tiers and must not pay for SciPy at startup.
    from scipy.optimize import linprog

    res = linprog(
        c=np.array([0.0, 0.0, 1.0]),
        A_ub=np.vstack(rows),
        b_ub=np.concatenate(rhs),
        bounds=[(None, None) if use_nu else (0.0, 0.0),
                (0.0, None) if use_theta else (0.0, 0.0),
                (0.0, None)],
        method="highs-ds",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.x is None:
        return 0.0, 0.0, math.inf
    return float(res.x[0]) * scale, float(res.x[1]) * scale, float(res.x[2])


def _multipliers_without_free(
    prob: _Problem, part: Partition, gw: FloatArray
) -> tuple[float, float]:
    """Multipliers when no weight is free (every weight sits on a bound or at zero)."""
    scale = max(float(np.max(np.abs(gw))), 1e-300)
    nu, theta, _ = _lp_multipliers(prob, part, gw, scale)
    return nu, theta


def _certify(
    prob: _Problem, c: FloatArray, w: FloatArray
) -> tuple[float, FloatArray, float, float, Partition]:
    """Judge ``w`` on its own: read the active set off ``w`` and find the best multipliers.

    The active-set phase labels weights by the partition it is working on; at a degenerate
    vertex a weight labelled free can sit exactly on a bound, and the partition then misjudges
    an optimal point. Here the labels come from the weights themselves.
    """
    w = w.copy()
    near_hi = w >= prob.hi - prob.hi_band
    near_lo = w <= prob.lo + prob.lo_band
    near_lo &= ~near_hi
    w[near_hi] = prob.hi[near_hi]
    w[near_lo] = prob.lo[near_lo]
    gross_active = prob.gross is not None and (
        float(np.abs(w).sum()) >= prob.gross * (1.0 - 1e-12))
    part = _partition_of(prob, w, gross_active)
    if gross_active and not prob.long_only:
        tiny = (part.state == FREE) & (np.abs(w) <= 1e-15)
        w[tiny] = 0.0
        part.state[tiny] = ZERO
    gw = prob.q @ w - c
    scale = _dual_scale(prob, gw, c, w, 0.0, 0.0)
    nu, theta, _ = _lp_multipliers(prob, part, gw, scale)
    return _residual(prob, c, w, gw, nu, theta, part), w, nu, theta, part


def _sits_on_a_bound(prob: _Problem, w: FloatArray, part: Partition) -> bool:
    """Whether a weight labelled free is (numerically) on a bound or at a kink."""
    free = part.state == FREE
    edge = (w >= prob.hi - prob.hi_band) | (w <= prob.lo + prob.lo_band)
    if part.gross_active and not prob.long_only:
        edge |= np.abs(w) <= 1e-15
    return bool((free & edge).any())


def _dual_scale(
    prob: _Problem, gw: FloatArray, c: FloatArray, w: FloatArray, nu: float, theta: float
) -> float:
    """Magnitude the dual residual is measured against.

    ``mean(diag(Q)) * max|w|`` stands in for ``|Q| |w|``; it keeps the scale meaningful when
    ``Q w`` vanishes (a singular covariance with a riskless portfolio).
    """
    return max(float(np.max(np.abs(gw + c))), float(np.max(np.abs(c))),
               prob.diag_mean * float(np.max(np.abs(w))), abs(nu), abs(theta), 1e-300)


def _residual(
    prob: _Problem,
    c: FloatArray,
    w: FloatArray,
    gw: FloatArray,
    nu: float,
    theta: float,
    part: Partition,
) -> float:
    """Largest of the primal infeasibility and the scaled violation of the dual conditions.

    Stationarity with multipliers ``nu`` (budget), ``theta >= 0`` (gross) and sign conditions
    on the bound multipliers implied by ``part``.
    """
    st = part.state
    s = _abs_derivative(prob, part)
    primal = max(float(np.max(w - prob.hi)), float(np.max(prob.lo - w)), 0.0)
    if prob.budget is not None:
        primal = max(primal, abs(float(w.sum()) - prob.budget))
    gross_now = float(np.abs(w).sum())
    if prob.gross is not None:
        primal = max(primal, gross_now - prob.gross)
        if part.gross_active:
            primal = max(primal, abs(gross_now - prob.gross))
    lam = gw - nu + theta * s
    dual = -theta if part.gross_active else abs(theta)
    for mask, values in (
        (st == FREE, np.abs(lam)),
        (st == HI, lam),
        (st == LO, -lam),
        (st == ZERO, np.abs(gw - nu) - theta),
    ):
        if mask.any():
            dual = max(dual, float(np.max(values[mask])))
    return max(primal, dual / _dual_scale(prob, gw, c, w, nu, theta))


def _solve_partition(
    prob: _Problem, c: FloatArray, part: Partition
) -> tuple[FloatArray, float, float, FloatArray]:
    """Exact minimiser of the equality-constrained QP that ``part`` describes.

    Returns the weights, the budget multiplier ``nu``, the gross multiplier ``theta`` and the
    gradient ``Q w - c``.
    """
    free_idx = np.flatnonzero(part.state == FREE)
    w = _fixed_values(prob, part)
    qwb = prob.q @ w
    if not free_idx.size:
        gw = qwb - c
        nu, theta = _multipliers_without_free(prob, part, gw)
        return w, nu, theta, gw
    s = _abs_derivative(prob, part)
    sf = s[free_idx]
    use_nu = prob.budget is not None
    use_theta = part.gross_active and prob.gross is not None
    cols = [c[free_idx] - qwb[free_idx]]
    if use_nu:
        cols.append(np.ones(free_idx.size))
    if use_theta:
        cols.append(sf)
    x = _solve_block(prob.q, free_idx, np.stack(cols, axis=1))
    if x is None:
        return _solve_partition_singular(prob, c, part, free_idx, w, qwb, s)
    # w_F = x0 + nu x1 - theta x2; the active equality constraints fix nu and theta.
    x0 = x[:, 0]
    basis = [x[:, k] * (1.0 if k == 1 and use_nu else -1.0) for k in range(1, x.shape[1])]
    rows: list[list[float]] = []
    rhs: list[float] = []
    if use_nu and prob.budget is not None:
        rows.append([float(v.sum()) for v in basis])
        rhs.append(prob.budget - float(w.sum()) - float(x0.sum()))
    if use_theta and prob.gross is not None:
        rows.append([float(sf @ v) for v in basis])
        rhs.append(prob.gross - float(np.abs(w).sum()) - float(sf @ x0))
    mult: list[float] = []
    degenerate = False
    if rows:
        a = np.array(rows)
        bvec = np.array(rhs)
        sv = np.linalg.svd(a, compute_uv=False)
        degenerate = bool(sv[-1] <= 1e-12 * sv[0]) or not sv[0] > 0.0
        sol = (np.linalg.lstsq(a, bvec, rcond=1e-12)[0] if degenerate
               else np.linalg.solve(a, bvec))
        mult = [float(v) for v in sol]
    wf = x0.copy()
    for coef, v in zip(mult, basis, strict=True):
        wf += coef * v
    w[free_idx] = wf
    nu = mult[0] if use_nu else 0.0
    theta = mult[-1] if use_theta else 0.0
    gw = prob.q @ w - c
    if degenerate:
        # Dependent constraint rows on the free set (every free weight has the same sign, so
        # the budget and gross rows coincide): the weights are determined but the multipliers
        # only up to a direction; pick the ones that best satisfy the sign conditions.
        nu, theta, _ = _lp_multipliers(prob, part, gw, _dual_scale(prob, gw, c, w, nu, theta))
    return w, nu, theta, gw


def _solve_partition_singular(
    prob: _Problem,
    c: FloatArray,
    part: Partition,
    free_idx: NDArray[np.intp],
    w: FloatArray,
    qwb: FloatArray,
    s: FloatArray,
) -> tuple[FloatArray, float, float, FloatArray]:
    """The partition's KKT system solved as one saddle-point system by least squares.

    Used when the free block of ``Q`` is singular: the budget and gross rows then have to be
    solved together with the stationarity rows (the minimum-norm solution is one minimiser).
    """
    f = free_idx.size
    use_nu = prob.budget is not None
    use_theta = part.gross_active and prob.gross is not None
    m = f + int(use_nu) + int(use_theta)
    kkt = np.zeros((m, m))
    kkt[:f, :f] = prob.q[np.ix_(free_idx, free_idx)]
    rhs = np.zeros(m)
    rhs[:f] = c[free_idx] - qwb[free_idx]
    row = f
    if use_nu and prob.budget is not None:
        kkt[:f, row] = -1.0
        kkt[row, :f] = 1.0
        rhs[row] = prob.budget - float(w.sum())
        row += 1
    if use_theta and prob.gross is not None:
        kkt[:f, row] = s[free_idx]
        kkt[row, :f] = s[free_idx]
        rhs[row] = prob.gross - float(np.abs(w).sum())
    sol = np.asarray(np.linalg.lstsq(kkt, rhs, rcond=None)[0], dtype=np.float64)
    w = w.copy()
    w[free_idx] = sol[:f]
    nu = float(sol[f]) if use_nu else 0.0
    theta = float(sol[-1]) if use_theta else 0.0
    return w, nu, theta, prob.q @ w - c
