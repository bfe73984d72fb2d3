"""Time the allocation problems through the portfolio libraries a user would otherwise use.

Run ``python -m benchmarks.peers_allocation [N ...]`` with the optional ``peers`` extra
installed (riskparityportfolio, skfolio, PyPortfolioOpt, Riskfolio-Lib; cvxpy and Clarabel
come with them). Missing libraries are listed and skipped; with none installed the script
exits 0.

Every problem is the one ``bench_allocation`` times (same factor-model covariance, same
expected returns, same caps) and each library is timed in the same process run. For each
peer the table shows its time, the ratio to riskdesk's time and the largest absolute weight
difference. Libraries that estimate moments from returns themselves (skfolio) are given a
synthetic return matrix whose sample mean and covariance equal the problem's exactly, so
they solve the same problem; Riskfolio-Lib and PyPortfolioOpt accept the matrices directly.
"""

from __future__ import annotations

import importlib
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmarks.bench_allocation import RISK_AVERSION, SIZES, make_problem
from riskdesk.allocation import (
    Covariance,
    ledoit_wolf,
    mean_variance,
    min_variance,
    risk_parity,
)

PEERS = {
    "riskparityportfolio": "riskparityportfolio",
    "skfolio": "skfolio",
    "pyportfolioopt": "pypfopt",
    "riskfolio-lib": "riskfolio",
    "cvxpy+clarabel": "clarabel",
}
# A single solve of the slowest peers takes seconds at N = 1000; time them fewer times.
SLOW_REPEATS = 1
FAST_REPEATS = 7


@dataclass
class Row:
    problem: str
    n: int
    library: str
    seconds: float
    ours: float
    max_abs_dw: float | None
    note: str = ""


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    out = fn()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def available() -> dict[str, bool]:
    found = {}
    for name, module in PEERS.items():
        try:
            importlib.import_module(module)
        except ImportError:
            found[name] = False
        else:
            found[name] = True
    return found


def exact_returns(cov: np.ndarray, mu: np.ndarray, rows: int, seed: int = 7) -> np.ndarray:
    """Returns whose sample mean is ``mu`` and sample covariance (ddof=1) is ``cov``."""
    n = cov.shape[0]
    z = np.random.default_rng(seed).normal(size=(rows, n))
    z -= z.mean(axis=0)
    q, _ = np.linalg.qr(z)
    white = q * np.sqrt(rows - 1)
    return white @ np.linalg.cholesky(cov).T + mu


def dw(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=float).ravel() - np.asarray(b).ravel())))


def run_size(n: int, found: dict[str, bool], rows: list[Row]) -> None:
    p = make_problem(n)
    cov = Covariance(p.cov)
    cap = p.max_weight
    slow = SLOW_REPEATS if n >= 500 else FAST_REPEATS
    budgets = np.full(n, 1.0 / n)

    t_erc, erc = best_of(lambda: risk_parity(cov), FAST_REPEATS)
    t_mv, mv = best_of(lambda: min_variance(cov, max_weight=cap), FAST_REPEATS)
    t_mvo, mvo = best_of(
        lambda: mean_variance(p.mu, cov, risk_aversion=RISK_AVERSION, max_weight=cap),
        FAST_REPEATS)
    t_lw, lw = best_of(lambda: ledoit_wolf(p.returns), FAST_REPEATS)
    w_erc = erc.weights  # type: ignore[attr-defined]
    w_mv = mv.weights  # type: ignore[attr-defined]
    w_mvo = mvo.weights  # type: ignore[attr-defined]
    m_lw = lw.matrix  # type: ignore[attr-defined]

    def variance(w: np.ndarray) -> float:
        return float(w @ p.cov @ w)

    def utility(w: np.ndarray) -> float:
        return float(p.mu @ w) - 0.5 * RISK_AVERSION * variance(w)

    def rc_spread(w: np.ndarray) -> float:
        rc = w * (p.cov @ w)
        return float(np.max(np.abs(rc / rc.mean() - 1.0)))

    def violation(w: np.ndarray) -> float:
        # total (L1) bound violation plus the budget error: many tiny violations add up
        return (float(np.maximum(w - cap, 0.0).sum()) + float(np.maximum(-w, 0.0).sum())
                + abs(float(w.sum()) - 1.0))

    def quality(problem: str, w: np.ndarray) -> str:
        if problem == "erc":
            return f"peer RC spread {rc_spread(w):.1e} (ours {rc_spread(w_erc):.1e})"
        if problem == "min_variance":
            rel = (variance(w) - variance(w_mv)) / variance(w_mv)
            return (f"peer variance {rel:+.1e} rel. to ours; "
                    f"peer total infeasibility {violation(w):.0e}")
        if problem == "mean_variance":
            gap = (utility(w_mvo) - utility(w)) / abs(utility(w_mvo))
            return (f"peer utility {-gap:+.1e} rel. to ours; "
                    f"peer total infeasibility {violation(w):.0e}")
        return ""

    def add(problem: str, library: str, fn: Callable[[], object], ours: float,
            reference: np.ndarray | None, repeats: int, note: str = "") -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                seconds, out = best_of(fn, repeats)
        except Exception as exc:  # noqa: BLE001 - a failing peer is reported, not fatal
            print(f"  {library} {problem} N={n} failed: {exc!r}", file=sys.stderr)
            return
        diff = None
        if reference is not None:
            w = np.asarray(out, dtype=float).ravel()
            diff = dw(w, reference)
            note = "; ".join(x for x in (note, quality(problem, w)) if x)
        rows.append(Row(problem, n, library, seconds, ours, diff, note))
        print(f"  {problem:14s} N={n:5d} {library:28s} {seconds * 1e3:10.2f} ms", file=sys.stderr,
              flush=True)

    if found["riskparityportfolio"]:
        from riskparityportfolio import vanilla

        add("erc", "riskparityportfolio tol=1e-4",
            lambda: vanilla.design(p.cov, budgets), t_erc, w_erc, FAST_REPEATS,
            "library default tolerance")
        add("erc", "riskparityportfolio tol=1e-12",
            lambda: vanilla.design(p.cov, budgets, 1e-12, 10_000), t_erc, w_erc, FAST_REPEATS)

    need_returns = found["skfolio"]
    returns = exact_returns(p.cov, p.mu, max(1000, 2 * n)) if need_returns else None

    if found["skfolio"] and returns is not None:
        from skfolio import RiskMeasure
        from skfolio.optimization import MeanRisk, ObjectiveFunction, RiskBudgeting

        def sk_erc() -> np.ndarray:
            return RiskBudgeting(risk_measure=RiskMeasure.VARIANCE).fit(returns).weights_

        def sk_mv() -> np.ndarray:
            return MeanRisk(risk_measure=RiskMeasure.VARIANCE, max_weights=cap).fit(
                returns).weights_

        def sk_mvo() -> np.ndarray:
            return MeanRisk(risk_measure=RiskMeasure.VARIANCE, max_weights=cap,
                            objective_function=ObjectiveFunction.MAXIMIZE_UTILITY,
                            risk_aversion=RISK_AVERSION / 2).fit(returns).weights_

        add("erc", "skfolio", sk_erc, t_erc, w_erc, slow)
        add("min_variance", "skfolio", sk_mv, t_mv, w_mv, slow)
        add("mean_variance", "skfolio", sk_mvo, t_mvo, w_mvo, slow)

    if found["pyportfolioopt"]:
        import pandas as pd
        from pypfopt import EfficientFrontier, risk_models

        def ppo_mv() -> np.ndarray:
            ef = EfficientFrontier(None, p.cov, weight_bounds=(0.0, cap))
            ef.min_volatility()
            return np.asarray(ef.weights)

        def ppo_mvo() -> np.ndarray:
            ef = EfficientFrontier(p.mu, p.cov, weight_bounds=(0.0, cap))
            ef.max_quadratic_utility(risk_aversion=RISK_AVERSION)
            return np.asarray(ef.weights)

        frame = pd.DataFrame(p.returns)

        def ppo_lw() -> np.ndarray:
            return risk_models.CovarianceShrinkage(frame, returns_data=True,
                                                   frequency=1).ledoit_wolf().to_numpy()

        def ppo_mv_clarabel() -> np.ndarray:
            ef = EfficientFrontier(None, p.cov, weight_bounds=(0.0, cap), solver="CLARABEL")
            ef.min_volatility()
            return np.asarray(ef.weights)

        add("min_variance", "pyportfolioopt", ppo_mv, t_mv, w_mv, slow,
            "default solver (OSQP)")
        add("min_variance", "pyportfolioopt + clarabel", ppo_mv_clarabel, t_mv, w_mv, slow)
        add("mean_variance", "pyportfolioopt", ppo_mvo, t_mvo, w_mvo, slow)
        add("ledoit_wolf", "pyportfolioopt", ppo_lw, t_lw, None, FAST_REPEATS,
            f"max abs dC {dw(ppo_lw(), m_lw):.1e}")

    if found["riskfolio-lib"]:
        import pandas as pd
        import riskfolio as rp

        names = [f"a{i}" for i in range(n)]
        cov_df = pd.DataFrame(p.cov, index=names, columns=names)
        mu_df = pd.DataFrame(p.mu[None, :], columns=names)
        ret_df = pd.DataFrame(p.returns, columns=names)

        def rf_port() -> rp.Portfolio:
            port = rp.Portfolio(returns=ret_df)
            port.mu = mu_df
            port.cov = cov_df
            return port

        def rf_erc() -> np.ndarray:
            return rf_port().rp_optimization(model="Classic", rm="MV", b=None).to_numpy()

        def rf_mv() -> np.ndarray:
            port = rf_port()
            port.upperlng = cap
            return port.optimization(model="Classic", rm="MV", obj="MinRisk").to_numpy()

        def rf_mvo() -> np.ndarray:
            port = rf_port()
            port.upperlng = cap
            return port.optimization(model="Classic", rm="MV", obj="Utility",
                                     l=RISK_AVERSION / 2).to_numpy()

        add("erc", "riskfolio-lib", rf_erc, t_erc, w_erc, slow)
        add("min_variance", "riskfolio-lib", rf_mv, t_mv, w_mv, slow)
        add("mean_variance", "riskfolio-lib", rf_mvo, t_mvo, w_mvo, slow)

    if found["cvxpy+clarabel"]:
        import clarabel
        from scipy import sparse

        def clarabel_mv() -> np.ndarray:
            # scaled to unit mean variance and tight tolerances: the reference solve
            scaled = p.cov / float(np.mean(np.diag(p.cov)))
            pmat = sparse.triu(sparse.csc_matrix(scaled), format="csc")
            amat = sparse.vstack([sparse.csc_matrix(np.ones((1, n))), -sparse.identity(n),
                                  sparse.identity(n)], format="csc")
            bvec = np.concatenate([[1.0], np.zeros(n), np.full(n, cap)])
            settings = clarabel.DefaultSettings()
            settings.verbose = False
            settings.tol_gap_abs = settings.tol_gap_rel = 1e-10
            settings.tol_feas = 1e-10
            solver = clarabel.DefaultSolver(pmat, np.zeros(n), amat, bvec,
                                            [clarabel.ZeroConeT(1),
                                             clarabel.NonnegativeConeT(2 * n)], settings)
            return np.asarray(solver.solve().x)

        add("min_variance", "clarabel direct", clarabel_mv, t_mv, w_mv, slow,
            "scaled, tolerances 1e-10")

    try:
        from sklearn.covariance import ledoit_wolf as sk_lw
    except ImportError:
        pass
    else:
        add("ledoit_wolf", "scikit-learn", lambda: sk_lw(p.returns)[0], t_lw, None,
            FAST_REPEATS, f"max abs dC {dw(sk_lw(p.returns)[0], m_lw):.1e}")


def render(rows: list[Row]) -> str:
    out = ["| problem | N | library | peer ms | riskdesk ms | peer / riskdesk | max abs dw "
           "| note |", "|---|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        diff = "" if r.max_abs_dw is None else f"{r.max_abs_dw:.1e}"
        out.append(f"| {r.problem} | {r.n} | {r.library} | {r.seconds * 1e3:,.2f} | "
                   f"{r.ours * 1e3:,.2f} | {r.seconds / r.ours:,.3g}x | {diff} | {r.note} |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    found = available()
    missing = [name for name, ok in found.items() if not ok]
    if missing:
        print("missing peers (install the 'peers' extra): " + ", ".join(missing))
    if not any(found.values()):
        return 0
    sizes = [int(a) for a in argv] or list(SIZES)
    rows: list[Row] = []
    for n in sizes:
        run_size(n, found, rows)
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
