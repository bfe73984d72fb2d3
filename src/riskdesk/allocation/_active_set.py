"""Active-set iterations of the box-constrained QP.

A primal-dual active-set iteration (Hintermueller, Ito and Kunisch 2002) and, as the safe
fallback when it oscillates, a primal active-set method with a ratio test.
"""

from __future__ import annotations

import math

import numpy as np

from riskdesk.allocation._kkt import (
    _dual_scale,
    _partition_of,
    _solve_partition,
)
from riskdesk.allocation._qp_types import FREE, HI, LO, ZERO, Partition, _Problem
from riskdesk.allocation._validate import FloatArray

_PDAS_PATIENCE = 3
_MIN_RELEASE = 8


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
