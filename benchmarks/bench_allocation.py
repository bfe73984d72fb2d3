"""Allocation suite: ``python -m benchmarks.runner allocation``.

Problems come from a K-factor model simulated over T = 1000 periods with a seeded RNG: the
covariance is the model covariance ``B F B' + D`` with ``F`` and ``D`` estimated from the
simulated factor and residual returns, so it is positive definite at every N (a plain sample
covariance of 1000 observations would be singular at N = 1000). The simulated asset returns
feed the Ledoit-Wolf timing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.runner import Bench
from riskdesk.allocation import (
    Covariance,
    kelly_weights,
    ledoit_wolf,
    max_sharpe,
    mean_variance,
    min_variance,
    risk_parity,
)

SIZES = (20, 100, 500, 1000)
OBSERVATIONS = 1000
FACTORS = 5
RISK_AVERSION = 5.0
KELLY_FRACTION = 0.5
KELLY_CAP = 0.2
KELLY_GROSS = 3.0


@dataclass(frozen=True)
class Problem:
    """One benchmark instance."""

    n: int
    returns: np.ndarray  # T x N simulated asset returns
    cov: np.ndarray  # N x N factor-model covariance
    mu: np.ndarray  # expected returns per period
    max_weight: float


def max_weight_for(n: int) -> float:
    """5% cap, loosened for small N so that the cap leaves room to optimise."""
    return max(0.05, 2.0 / n)


def make_problem(n: int, seed: int = 20240601) -> Problem:
    rng = np.random.default_rng(seed + n)
    loadings = rng.normal(1.0, 0.4, size=(n, FACTORS))
    loadings[:, 1:] = rng.normal(0.0, 0.5, size=(n, FACTORS - 1))
    factor_vol = np.array([0.010, 0.006, 0.005, 0.004, 0.003])
    factors = rng.normal(0.0, 1.0, size=(OBSERVATIONS, FACTORS)) * factor_vol
    idio_vol = rng.uniform(0.008, 0.03, size=n)
    residuals = rng.normal(0.0, 1.0, size=(OBSERVATIONS, n)) * idio_vol
    premia = np.array([3e-4, 1e-4, 0.0, -1e-4, 5e-5])
    alpha = rng.normal(0.0, 2e-4, size=n)
    returns = (factors + premia) @ loadings.T + residuals + alpha
    f_cov = np.cov(factors, rowvar=False)
    cov = loadings @ f_cov @ loadings.T + np.diag(residuals.var(axis=0, ddof=1))
    cov = 0.5 * (cov + cov.T)
    mu = loadings @ premia + alpha
    return Problem(n, returns, cov, mu, max_weight_for(n))


def main(bench: Bench) -> None:
    for n in SIZES:
        p = make_problem(n)
        checked = Covariance(p.cov)
        bench.time(f"check covariance N={n}", lambda p=p: Covariance(p.cov),
                   note="symmetry + Cholesky PSD test, once per estimate")
        bench.time(f"risk_parity N={n}", lambda c=checked: risk_parity(c),
                   note="ERC, checked Covariance")
        bench.time(f"risk_parity raw N={n}", lambda p=p: risk_parity(p.cov),
                   note="ERC incl. checking the array")
        bench.time(f"min_variance N={n}",
                   lambda c=checked, p=p: min_variance(c, max_weight=p.max_weight),
                   note=f"long-only, max_weight {p.max_weight:g}")
        bench.time(f"mean_variance N={n}",
                   lambda c=checked, p=p: mean_variance(p.mu, c, risk_aversion=RISK_AVERSION,
                                                        max_weight=p.max_weight),
                   note=f"long-only, gamma {RISK_AVERSION:g}, max_weight {p.max_weight:g}")
        bench.time(f"max_sharpe N={n}",
                   lambda c=checked, p=p: max_sharpe(p.mu, c, max_weight=p.max_weight),
                   note=f"long-only, max_weight {p.max_weight:g}")
        bench.time(f"ledoit_wolf N={n}", lambda p=p: ledoit_wolf(p.returns),
                   note=f"T={OBSERVATIONS}")
        bench.time(f"kelly N={n}", lambda c=checked, p=p: kelly_weights(p.mu, c,
                                                                        fraction=KELLY_FRACTION),
                   note="unconstrained half-Kelly")
        bench.time(f"kelly capped N={n}",
                   lambda c=checked, p=p: kelly_weights(p.mu, c, fraction=KELLY_FRACTION,
                                                        max_weight=KELLY_CAP,
                                                        gross_cap=KELLY_GROSS),
                   note=f"long-short, |f| <= {KELLY_CAP:g}, gross <= {KELLY_GROSS:g}")
