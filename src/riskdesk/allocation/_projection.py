"""Capped-simplex projection onto the feasible set of the box-constrained QP.

Projections reduce to one or two scalar thresholds, found by safeguarded Newton steps on a
monotone piecewise-linear function, with an exact sort-based fallback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from riskdesk.allocation._qp_types import _Problem
from riskdesk.allocation._validate import FloatArray

_EXACT_TOL = 1e-13


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
