"""A dense convex QP solver for the box-constrained portfolio problems of this package.

Problem::

    minimise    0.5 w' Q w - c' w
    subject to  lo <= w <= hi                  (elementwise; infinite bounds allowed)
                sum(w) == budget               (optional)
                sum(|w|) <= gross              (optional)

with ``Q`` positive semi-definite and either ``lo >= 0`` everywhere (long-only) or
``lo < 0 < hi`` everywhere (long-short).

Method. Accelerated projected gradient (FISTA with adaptive restart) runs until the set of
weights sitting on a bound (or at zero, under an active gross cap) has stayed the same for a
couple of iterations, or every 20 iterations at the latest. Then the guess is polished:

1. a primal-dual active-set iteration (Hintermueller, Ito and Kunisch 2002) solves the KKT
   system exactly on the guessed free set and corrects the whole guess at once, usually in two
   to four steps;
2. if that oscillates, a primal active-set method starts from the (feasible) gradient iterate:
   a ratio test keeps every step feasible and the objective never increases, so it converges,
   one constraint change per step.

A result is accepted only after an explicit KKT check (feasibility, stationarity and the signs
of the bound multipliers); otherwise the projected-gradient phase resumes. At a degenerate
vertex, where no weight is free, the multipliers are the solution of a small linear program.

Projections onto the feasible set reduce to one or two scalar thresholds (the capped-simplex
projection), found by safeguarded Newton steps on a monotone piecewise-linear function, with
an exact sort-based fallback.

All BLAS work goes through NumPy. SciPy's linear algebra ships its own OpenBLAS, and mixing the
two thread pools on a small machine makes each call wait for the other's spinning threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from riskdesk.allocation._validate import FloatArray

FREE = 0
HI = 1
LO = 2
ZERO = 3

_POWER_STEPS = 12
_LIPSCHITZ_MARGIN = 1.05
_STABLE_BEFORE_POLISH = 2
_FORCE_POLISH_EVERY = 20
_PDAS_MAX_ITER = 40
_PDAS_PATIENCE = 3
_MIN_RELEASE = 8
_PRIMAL_MAX_ITER = 200
_EXACT_TOL = 1e-13


@dataclass
class Partition:
    """Which constraints hold with equality: the guess the active-set phase works from."""

    state: NDArray[np.int8]
    sign: FloatArray
    gross_active: bool

    def key(self) -> bytes:
        """Hashable signature of the partition."""
        sign = np.where(self.state == FREE, self.sign, 0.0).astype(np.int8)
        return self.state.tobytes() + sign.tobytes() + bytes([self.gross_active])


@dataclass
class QPSolution:
    """Outcome of :meth:`BoxQP.solve`."""

    w: FloatArray
    nu: float
    theta: float
    converged: bool
    iterations: int
    residual: float
    partition: Partition | None
    note: str = ""


@dataclass
class _Problem:
    q: FloatArray
    lo: FloatArray
    hi: FloatArray
    budget: float | None
    gross: float | None
    long_only: bool
    diag_mean: float
    s_hi: FloatArray = field(init=False)
    s_lo: FloatArray = field(init=False)
    hi_band: FloatArray = field(init=False)
    lo_band: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        # Derivative of |w_i| at each bound, seen from inside the box.
        self.s_hi = np.where(self.hi > 0, 1.0, -1.0)
        self.s_lo = np.where(self.lo >= 0, 1.0, -1.0)
        # Rounding bands around finite bounds (zero width at infinite ones).
        self.hi_band = np.where(np.isfinite(self.hi), 1e-12 * np.maximum(1.0, np.abs(self.hi)),
                                0.0)
        self.lo_band = np.where(np.isfinite(self.lo), 1e-12 * np.maximum(1.0, np.abs(self.lo)),
                                0.0)


# --------------------------------------------------------------------------------------------
# projection


def _phi(v: FloatArray, lo: FloatArray, hi: FloatArray, tau: float) -> tuple[float, int]:
    z = v - tau
    inside = (z > lo) & (z < hi)
    return float(np.clip(z, lo, hi).sum()), int(np.count_nonzero(inside))


def _threshold_exact(v: FloatArray, lo: FloatArray, hi: FloatArray, target: float) -> float:
    """Exact root of ``sum(clip(v - tau, lo, hi)) = target`` by bisection over breakpoints."""
    bps = np.concatenate([v - hi, v - lo])
    bps = np.unique(bps[np.isfinite(bps)])
    if bps.size == 0:
        # every bound is infinite: phi(tau) = sum(v) - n tau
        return (float(v.sum()) - target) / v.size
    lo_i, hi_i = 0, bps.size - 1
    f_lo, _ = _phi(v, lo, hi, float(bps[lo_i]))
    f_hi, _ = _phi(v, lo, hi, float(bps[hi_i]))
    if target > f_lo:  # left of every breakpoint
        anchor = float(bps[0])
        _, slope = _phi(v, lo, hi, anchor - 1.0)
        return anchor - (target - f_lo) / slope if slope else anchor
    if target < f_hi:  # right of every breakpoint
        anchor = float(bps[-1])
        _, slope = _phi(v, lo, hi, anchor + 1.0)
        return anchor + (f_hi - target) / slope if slope else anchor
    while hi_i - lo_i > 1:
        mid = (lo_i + hi_i) // 2
        f_mid, _ = _phi(v, lo, hi, float(bps[mid]))
        if f_mid >= target:
            lo_i, f_lo = mid, f_mid
        else:
            hi_i, f_hi = mid, f_mid
    a, b = float(bps[lo_i]), float(bps[hi_i])
    if f_lo == f_hi:
        return a
    return a + (f_lo - target) * (b - a) / (f_lo - f_hi)


def _threshold(
    v: FloatArray, lo: FloatArray, hi: FloatArray, target: float, tau: float
) -> float:
    """Root of the nonincreasing ``tau -> sum(clip(v - tau, lo, hi)) - target``.

    Newton steps from the warm start ``tau`` inside a shrinking bracket; the function is
    piecewise linear, so Newton lands exactly once the free set is right (usually 1-3 steps).
    """
    left, right = -math.inf, math.inf
    tol = _EXACT_TOL * (abs(target) + 1.0)
    for _ in range(12):
        value, free = _phi(v, lo, hi, tau)
        r = value - target
        if abs(r) <= tol:
            return tau
        if r > 0:
            left = tau
        else:
            right = tau
        if free == 0:
            break
        step = tau + r / free
        if not left < step < right:
            break
        tau = step
    return _threshold_exact(v, lo, hi, target)


@dataclass
class _Projector:
    """Euclidean projection onto the feasible set, with warm-started thresholds."""

    prob: _Problem
    tau: float = 0.0
    alpha: float = 0.0
    beta: float = 0.0
    hi_pos: FloatArray = field(init=False)
    lo_neg: FloatArray = field(init=False)
    zeros: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        self.hi_pos = np.maximum(self.prob.hi, 0.0)
        self.lo_neg = np.maximum(-self.prob.lo, 0.0)
        self.zeros = np.zeros_like(self.prob.hi)

    def __call__(self, y: FloatArray) -> tuple[FloatArray, bool]:
        p = self.prob
        if p.budget is not None:
            self.tau = _threshold(y, p.lo, p.hi, p.budget, self.tau)
            w = np.clip(y - self.tau, p.lo, p.hi)
        else:
            w = np.clip(y, p.lo, p.hi)
        if p.gross is None or float(np.abs(w).sum()) <= p.gross:
            return w, False
        g = p.gross
        if p.long_only:
            self.tau = _threshold(y, p.lo, p.hi, g, self.tau)
            return np.clip(y - self.tau, p.lo, p.hi), True
        if p.budget is not None:
            # sum(w+) = (G + b) / 2 and sum(w-) = (G - b) / 2 decouple into two thresholds
            b = p.budget
            self.alpha = _threshold(y, self.zeros, self.hi_pos, 0.5 * (g + b), self.alpha)
            self.beta = _threshold(-y, self.zeros, self.lo_neg, 0.5 * (g - b), self.beta)
            pos = np.clip(y - self.alpha, 0.0, self.hi_pos)
            neg = np.clip(-y - self.beta, 0.0, self.lo_neg)
            return pos - neg, True
        caps = np.where(y >= 0, self.hi_pos, self.lo_neg)
        ay = np.abs(y)
        self.alpha = _threshold(ay, self.zeros, caps, g, self.alpha)
        return np.sign(y) * np.clip(ay - self.alpha, 0.0, caps), True


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


def _release_violations(
    prob: _Problem, part: Partition, lam: FloatArray, theta: float
) -> FloatArray:
    """How wrong the sign of each bound or zero weight's multiplier is (> 0 means wrong)."""
    st = part.state
    viol = np.zeros(st.shape)
    viol = np.where(st == HI, lam + theta * prob.s_hi, viol)
    viol = np.where(st == LO, -(lam + theta * prob.s_lo), viol)
    return np.where(st == ZERO, np.abs(lam) - theta, viol)


def _pdas(
    prob: _Problem, c: FloatArray, part: Partition, max_iter: int
) -> tuple[FloatArray, float, float, FloatArray, Partition, bool, int]:
    """Primal-dual active-set iterations from ``part``; ``ok=True`` on a fixed point."""
    mixed = not prob.long_only
    seen: set[bytes] = set()
    last_changes = math.inf
    growing = 0
    for it in range(1, max_iter + 1):
        st = part.state
        w, nu, theta, gw = _solve_partition(prob, c, part)
        lam = gw - nu
        scale = _dual_scale(prob, gw, c, w, nu, theta)
        # Tolerances keep rounding noise from flipping weights that sit exactly on a bound.
        eps_d = 1e-12 * scale
        new_state = st.copy()
        new_sign = part.sign.copy()
        free = st == FREE
        new_state[free & (w > prob.hi + prob.hi_band)] = HI
        new_state[free & (w < prob.lo - prob.lo_band)] = LO
        gross_active = part.gross_active
        if gross_active and mixed:
            crossed = free & (new_state == FREE) & (w * part.sign < -1e-12)
            new_state[crossed] = ZERO
        # Bound and zero weights whose multiplier has the wrong sign are released. Far from
        # the solution a wrong multiplier can flag hundreds at once and the next solve swings
        # wildly, so only the worst offenders are released per step (removals are not capped).
        viol = _release_violations(prob, part, lam, theta)
        zero = st == ZERO
        release = viol > eps_d
        n_release = int(np.count_nonzero(release))
        limit = max(_MIN_RELEASE, int(np.count_nonzero(free)))
        if n_release > limit:
            cut = np.partition(viol[release], n_release - limit)[n_release - limit]
            release &= viol >= cut
        if not free.any() and prob.budget is not None:
            # with nothing free the budget row cannot be met: free the most attractive weight
            gap = float(w.sum()) - prob.budget
            if abs(gap) > 1e-12 * max(1.0, abs(prob.budget)):
                pool = (st == LO) if gap < 0 else (st == HI)
                if pool.any():
                    idx = np.flatnonzero(pool)
                    pick = idx[np.argmin(gw[idx])] if gap < 0 else idx[np.argmax(gw[idx])]
                    release[pick] = True
        new_state[release] = FREE
        rel_hi = release & (st == HI)
        new_sign[rel_hi] = prob.s_hi[rel_hi]
        rel_lo = release & (st == LO)
        new_sign[rel_lo] = prob.s_lo[rel_lo]
        rel_zero = release & zero
        new_sign[rel_zero] = np.where(lam[rel_zero] < 0, 1.0, -1.0)
        if gross_active and theta < -eps_d:
            gross_active = False
            new_state[new_state == ZERO] = FREE
        elif (
            not gross_active
            and prob.gross is not None
            and float(np.abs(w).sum()) > prob.gross * (1.0 + 1e-12)
        ):
            gross_active = True
            fr = new_state == FREE
            new_sign[fr] = np.where(w[fr] < 0, -1.0, 1.0)
            if mixed:
                new_state[fr & (w == 0.0)] = ZERO
        new_part = Partition(new_state, new_sign, gross_active)
        key = new_part.key()
        if key == part.key():
            w = np.where(new_state == FREE, np.clip(w, prob.lo, prob.hi), w)
            return w, nu, theta, gw, part, True, it
        if key in seen:
            return w, nu, theta, gw, part, False, it
        seen.add(key)
        # Far from the solution the simultaneous updates can swing back and forth; when the
        # number of changed indices stops shrinking, hand back to the other methods.
        changes = int(np.count_nonzero(new_state != st)) + int(gross_active != part.gross_active)
        growing = growing + 1 if changes >= last_changes else 0
        if growing >= _PDAS_PATIENCE:
            return w, nu, theta, gw, part, False, it
        last_changes = changes
        part = new_part
    w, nu, theta, gw = _solve_partition(prob, c, part)
    return w, nu, theta, gw, part, False, max_iter


def _gross_step(w: FloatArray, d: FloatArray, gross: float, limit: float) -> float:
    """Smallest ``a`` in ``[0, limit]`` with ``sum|w + a d| = gross`` (``inf`` if none).

    ``sum|w + a d|`` is convex and piecewise linear in ``a`` and starts at or below
    ``gross``, so it crosses the level once: bisect over its kinks, then interpolate.
    """

    def total(a: float) -> float:
        return float(np.abs(w + a * d).sum())

    if total(limit) <= gross:
        return math.inf
    moving = d != 0
    kinks = np.unique(-w[moving] / d[moving])
    points = np.concatenate([[0.0], kinks[(kinks > 0) & (kinks < limit)], [limit]])
    lo_i, hi_i = 0, points.size - 1
    while hi_i - lo_i > 1:
        mid = (lo_i + hi_i) // 2
        if total(float(points[mid])) > gross:
            hi_i = mid
        else:
            lo_i = mid
    lo_a, hi_a = float(points[lo_i]), float(points[hi_i])
    f_lo, f_hi = total(lo_a), total(hi_a)
    if f_hi == f_lo:
        return lo_a
    return lo_a + (gross - f_lo) * (hi_a - lo_a) / (f_hi - f_lo)


def _primal_active_set(
    prob: _Problem, c: FloatArray, w: FloatArray, gross_active: bool, max_iter: int
) -> tuple[FloatArray, float, float, FloatArray, Partition, bool, int]:
    """Primal active-set iterations from the feasible point ``w``.

    Each step moves towards the minimiser on the current working set as far as feasibility
    allows (a ratio test); a blocking bound joins the working set, and at a working-set
    minimiser the weights whose multipliers have the wrong sign leave it. The objective never
    increases, which makes this the safe fallback when the primal-dual steps oscillate.
    """
    mixed = not prob.long_only
    part = _partition_of(prob, w, gross_active)
    w = w.copy()
    nu = theta = 0.0
    gw = prob.q @ w - c
    for it in range(1, max_iter + 1):
        target, nu, theta, gw_t = _solve_partition(prob, c, part)
        st = part.state
        free = st == FREE
        d = np.where(free, target - w, 0.0)
        step, block, kind = 1.0, -1, FREE
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio_hi = np.where(free & (d > 0), (prob.hi - w) / d, np.inf)
            ratio_lo = np.where(free & (d < 0), (prob.lo - w) / d, np.inf)
            ratio_zero = np.full(w.shape, np.inf)
            if part.gross_active and mixed:
                # a free weight may not pass through zero against its sign (|w| kinks there)
                ratio_zero = np.where(free & (part.sign * d < 0), np.maximum(-w / d, 0.0),
                                      np.inf)
        for ratios, label in ((ratio_hi, HI), (ratio_lo, LO), (ratio_zero, ZERO)):
            i = int(np.argmin(ratios))
            if ratios[i] < step:
                step, block, kind = max(float(ratios[i]), 0.0), i, label
        if not part.gross_active and prob.gross is not None:
            a_g = _gross_step(w, d, prob.gross, step)
            if a_g < step or (a_g == step and block < 0 and a_g < 1.0):
                step, block, kind = a_g, -2, FREE
        if block == -1:
            w = target
            gw = gw_t
            lam = gw - nu
            scale = _dual_scale(prob, gw, c, w, nu, theta)
            viol = _release_violations(prob, part, lam, theta)
            new_state = st.copy()
            new_sign = part.sign.copy()
            gross_now = part.gross_active
            if gross_now and theta < -1e-12 * scale:
                gross_now = False
                new_state[new_state == ZERO] = FREE
            else:
                worst = int(np.argmax(viol))
                if viol[worst] <= 1e-12 * scale:
                    return w, nu, theta, gw, part, True, it
                # release only the worst offender: releasing many at once sends the next
                # direction far off and the ratio test then re-adds them one by one
                release = np.zeros(st.shape, dtype=bool)
                release[worst] = True
                new_state[release] = FREE
                new_sign[release & (st == HI)] = prob.s_hi[release & (st == HI)]
                new_sign[release & (st == LO)] = prob.s_lo[release & (st == LO)]
                rel_zero = release & (st == ZERO)
                new_sign[rel_zero] = np.where(lam[rel_zero] < 0, 1.0, -1.0)
            part = Partition(new_state, new_sign, gross_now)
            continue
        w = w + step * d
        new_state = st.copy()
        new_sign = part.sign.copy()
        gross_now = part.gross_active
        if block >= 0:
            if kind == HI:
                w[block] = prob.hi[block]
            elif kind == LO:
                w[block] = prob.lo[block]
            else:
                w[block] = 0.0
            new_state[block] = kind
        else:
            gross_now = True
            fr = new_state == FREE
            new_sign[fr] = np.where(w[fr] < 0, -1.0, 1.0)
            if mixed:
                new_state[fr & (w == 0.0)] = ZERO
        part = Partition(new_state, new_sign, gross_now)
        gw = prob.q @ w - c
    return w, nu, theta, gw, part, False, max_iter


# --------------------------------------------------------------------------------------------
# driver


def _lipschitz(q: FloatArray, start: FloatArray) -> float:
    """Largest eigenvalue of ``q`` by a few power steps, with a margin (checked later)."""
    v = np.abs(start) + 1.0 / start.size
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(_POWER_STEPS):
        qv = q @ v
        lam = float(v @ qv)
        nrm = float(np.linalg.norm(qv))
        if nrm == 0.0:
            break
        v = qv / nrm
    trace = float(np.trace(q))
    return max(min(lam * _LIPSCHITZ_MARGIN, trace), 1e-12 * trace, 1e-300)


class BoxQP:
    """The QP of the module docstring for a fixed ``Q``, bounds and constraints.

    The linear term ``c`` is passed per solve, so one instance serves a sequence of related
    problems (the max-Sharpe search) with warm starts.

    Parameters
    ----------
    q
        Positive semi-definite matrix with a positive diagonal.
    lo, hi
        Bounds; either all ``lo >= 0`` or all ``lo < 0 < hi``.
    budget
        Required ``sum(w)``, or ``None``.
    gross
        Upper limit on ``sum(|w|)``, or ``None``.

    Notes
    -----
    The caller guarantees feasibility. ``Q`` is used in place, never copied.
    """

    def __init__(
        self,
        q: FloatArray,
        lo: FloatArray,
        hi: FloatArray,
        *,
        budget: float | None,
        gross: float | None,
    ) -> None:
        long_only = bool((lo >= 0).all())
        diag_mean = float(np.mean(np.diagonal(q)))
        self._prob = _Problem(q, lo, hi, budget, gross, long_only, diag_mean)
        self._lip: float | None = None

    def _start_point(self, c: FloatArray) -> FloatArray:
        prob = self._prob
        d = np.diagonal(prob.q)
        x = c / d
        if prob.budget is not None:
            inv = 1.0 / d
            x = x + (prob.budget - float(np.clip(x, prob.lo, prob.hi).sum())) * inv / inv.sum()
        out: FloatArray = x
        return out

    def residual(
        self, c: FloatArray, w: FloatArray, nu: float, theta: float, part: Partition
    ) -> float:
        """Scaled KKT residual of ``w`` with multipliers ``nu`` and ``theta``."""
        gw = self._prob.q @ w - c
        return _residual(self._prob, c, w, gw, nu, theta, part)

    def solve_partition(
        self, c: FloatArray, part: Partition
    ) -> tuple[FloatArray, float, float]:
        """Weights and multipliers of the equality-constrained problem that ``part`` fixes."""
        w, nu, theta, _ = _solve_partition(self._prob, c, part)
        return w, nu, theta

    def solve(
        self,
        c: FloatArray,
        *,
        tol: float,
        max_iter: int,
        warm: Partition | None = None,
        start: FloatArray | None = None,
    ) -> QPSolution:
        """Minimise ``0.5 w'Qw - c'w`` over the feasible set.

        Parameters
        ----------
        c
            Linear term.
        tol
            Required scaled KKT residual.
        max_iter
            Budget of projected-gradient plus active-set iterations.
        warm
            A partition to try first (from a neighbouring problem).
        start
            A starting point for the projected-gradient phase.

        Returns
        -------
        QPSolution
            The best point found; ``converged`` tells whether it met ``tol``.
        """
        prob = self._prob
        cs = c
        project = _Projector(prob)
        total = 0
        best: tuple[float, FloatArray, float, float, Partition | None] = (
            math.inf, np.zeros_like(cs), 0.0, 0.0, None)
        tried: set[bytes] = set()

        def attempt(
            part: Partition, feasible: tuple[FloatArray, bool] | None = None
        ) -> QPSolution | None:
            nonlocal best, total
            tried.add(part.key())
            w, nu, theta, gw, fin, ok, its = _pdas(prob, cs, part, _PDAS_MAX_ITER)
            total += its
            res = _residual(prob, cs, w, gw, nu, theta, fin)
            if not (ok and res <= tol) and _sits_on_a_bound(prob, w, fin):
                res2, w2, nu2, th2, fin2 = _certify(prob, cs, w)
                if res2 < res:
                    res, w, nu, theta, fin, ok = res2, w2, nu2, th2, fin2, True
            if not (ok and res <= tol) and feasible is not None:
                w, nu, theta, gw, fin, ok, its = _primal_active_set(
                    prob, cs, feasible[0], feasible[1], _PRIMAL_MAX_ITER)
                total += its
                res = _residual(prob, cs, w, gw, nu, theta, fin)
            if res < best[0]:
                best = (res, w, nu, theta, fin)
            if ok and res <= tol:
                return QPSolution(w, nu, theta, True, total, res, fin)
            return None

        if warm is not None and warm.state.shape == cs.shape:
            done = attempt(warm)
            if done is not None:
                return done

        w, gross_active = project(start if start is not None else self._start_point(cs))
        qw = prob.q @ w
        if self._lip is None:
            self._lip = _lipschitz(prob.q, w)
        lip = self._lip
        y, qy = w, qw
        t = 1.0
        last_key = b""
        stable = 0
        k = 0
        while total < max_iter:
            k += 1
            total += 1
            g = qy - cs
            w_new, gross_new = project(y - g / lip)
            qw_new = prob.q @ w_new
            diff = w_new - y
            f_new = 0.5 * float(w_new @ qw_new) - float(cs @ w_new)
            f_y = 0.5 * float(y @ qy) - float(cs @ y)
            bound = f_y + float(g @ diff) + 0.5 * lip * float(diff @ diff)
            if f_new > bound + 1e-12 * (abs(f_y) + abs(f_new)):
                lip *= 1.5
                self._lip = lip
                continue
            if float((y - w_new) @ (w_new - w)) > 0.0:
                t = 1.0  # adaptive restart: momentum points uphill
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            mom = (t - 1.0) / t_new
            y = w_new + mom * (w_new - w)
            qy = qw_new + mom * (qw_new - qw)
            w, qw, t, gross_active = w_new, qw_new, t_new, gross_new

            part = _partition_of(prob, w, gross_active)
            key = part.key()
            stable = stable + 1 if key == last_key else 0
            last_key = key
            due = stable >= _STABLE_BEFORE_POLISH or k % _FORCE_POLISH_EVERY == 0
            if due and key not in tried:
                done = attempt(part, (w, gross_active))
                if done is not None:
                    return done

        res, wb, nub, thb, partb = best
        res_w, w_c, nu_w, th_w, part_w = _certify(prob, cs, w)
        if res_w < res:
            res, wb, nub, thb, partb = res_w, w_c, nu_w, th_w, part_w
        converged = res <= tol
        note = "" if converged else (
            f"no KKT point within tolerance after {total} iterations "
            f"(best scaled residual {res:.3g})")
        return QPSolution(wb, nub, thb, converged, total, res, partb,
                          note)
