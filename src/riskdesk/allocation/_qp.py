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

import numpy as np

from riskdesk.allocation._active_set import _pdas, _primal_active_set
from riskdesk.allocation._kkt import (
    _certify,
    _partition_of,
    _residual,
    _sits_on_a_bound,
    _solve_partition,
)
from riskdesk.allocation._projection import _Projector
from riskdesk.allocation._projection import _threshold as _threshold
from riskdesk.allocation._projection import _threshold_exact as _threshold_exact
from riskdesk.allocation._qp_types import Partition as Partition
from riskdesk.allocation._qp_types import QPSolution as QPSolution
from riskdesk.allocation._qp_types import _Problem
from riskdesk.allocation._validate import FloatArray

_POWER_STEPS = 12
_LIPSCHITZ_MARGIN = 1.05
_STABLE_BEFORE_POLISH = 2
_FORCE_POLISH_EVERY = 20
_PDAS_MAX_ITER = 40
_PRIMAL_MAX_ITER = 200


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
