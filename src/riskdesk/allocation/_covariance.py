"""Validated covariance matrices and the estimators that produce them."""

from __future__ import annotations

import math
from typing import NoReturn

import numpy as np
from numpy.typing import ArrayLike

from riskdesk.allocation._validate import (
    FloatArray,
    as_float_array,
    as_returns,
    as_scalar,
    summarise,
)
from riskdesk.errors import InvalidInputError

# Relative tolerances of the checks on a user-supplied matrix. Entries that differ from their
# mirror by less than _SYMMETRY_RTOL * max|diag| are treated as rounding and averaged; a matrix
# passes the positive semi-definite check when M + _PSD_JITTER * max(diag) * I factors.
_SYMMETRY_RTOL = 1e-8
_PSD_JITTER = 1e-10
_BLOCK = 256


def _max_asymmetry(m: FloatArray) -> float:
    """Largest ``|m[i, j] - m[j, i]|``, compared block by block to stay cache friendly."""
    n = m.shape[0]
    worst = 0.0
    for i in range(0, n, _BLOCK):
        for j in range(i, n, _BLOCK):
            a = m[i : i + _BLOCK, j : j + _BLOCK]
            b = m[j : j + _BLOCK, i : i + _BLOCK]
            worst = max(worst, float(np.max(np.abs(a - b.T))))
    return worst


def _raise_not_psd(field: str, m: FloatArray) -> NoReturn:
    smallest = float(np.linalg.eigvalsh(m)[0])
    raise InvalidInputError(
        field,
        f"smallest eigenvalue {smallest:.3g}",
        "a positive semi-definite matrix",
    )


def check_covariance_matrix(value: ArrayLike, field: str = "cov") -> FloatArray:
    """Return a checked, exactly symmetric, read-only float64 copy of a covariance matrix.

    Parameters
    ----------
    value
        A square matrix.
    field
        Name used in error messages.

    Returns
    -------
    numpy.ndarray
        The checked matrix.

    Raises
    ------
    InvalidInputError
        If the matrix is not square, not finite, not symmetric or not positive semi-definite.
    """
    m = as_float_array(value, field)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise InvalidInputError(field, f"shape {m.shape}", "a non-empty square matrix")
    if not np.isfinite(m).all():
        raise InvalidInputError(field, summarise(m), "finite numbers (no NaN or inf)")
    diag = np.diagonal(m)
    if (diag < 0).any():
        raise InvalidInputError(field, summarise(diag), "non-negative variances on the diagonal")
    scale = float(diag.max())
    if scale == 0.0:
        raise InvalidInputError(field, summarise(m), "at least one positive variance")
    m = np.array(m, dtype=np.float64, order="C", copy=True)
    asym = _max_asymmetry(m)
    if asym > _SYMMETRY_RTOL * scale:
        raise InvalidInputError(
            field, f"max |C[i,j] - C[j,i]| = {asym:.3g}", "a symmetric matrix"
        )
    if asym > 0.0:
        m = 0.5 * (m + m.T)
    try:
        np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        # not positive definite; positive semi-definite up to rounding still passes
        jittered = m.copy()
        jittered[np.diag_indices_from(jittered)] += _PSD_JITTER * scale
        try:
            np.linalg.cholesky(jittered)
        except np.linalg.LinAlgError:
            _raise_not_psd(field, m)
    m.setflags(write=False)
    return m


class Covariance:
    """A covariance matrix that has been checked once and can be reused without re-checking.

    Every allocation function accepts either a plain array (checked on every call) or a
    ``Covariance``. Checking a 1000 x 1000 matrix costs more than an equal-risk-contribution
    solve, so a desk that allocates several times per bar should build one ``Covariance`` per
    estimate. The estimators in this module return ``Covariance`` objects directly.

    Parameters
    ----------
    matrix
        A square, finite, symmetric, positive semi-definite matrix. Asymmetry below
        ``1e-8 * max(diag)`` is treated as rounding and averaged away.
    method
        How the matrix was produced, for the record.
    shrinkage
        Shrinkage intensity applied by the estimator, if any.
    observations
        Number of return observations behind the estimate, if known.

    Raises
    ------
    InvalidInputError
        If the matrix fails a check.

    Notes
    -----
    Instances are immutable; ``matrix`` is a read-only array.
    """

    __slots__ = ("matrix", "method", "observations", "shrinkage")

    matrix: FloatArray
    method: str
    shrinkage: float | None
    observations: int | None

    def __init__(
        self,
        matrix: ArrayLike,
        *,
        method: str = "given",
        shrinkage: float | None = None,
        observations: int | None = None,
    ) -> None:
        checked = check_covariance_matrix(matrix, "cov")
        self._fill(checked, method, shrinkage, observations)

    @classmethod
    def _trusted(
        cls,
        matrix: FloatArray,
        method: str,
        shrinkage: float | None = None,
        observations: int | None = None,
    ) -> Covariance:
        """Wrap a matrix that is symmetric and PSD by construction, skipping the checks."""
        obj = cls.__new__(cls)
        matrix.setflags(write=False)
        obj._fill(matrix, method, shrinkage, observations)
        return obj

    def _fill(
        self,
        matrix: FloatArray,
        method: str,
        shrinkage: float | None,
        observations: int | None,
    ) -> None:
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "shrinkage", shrinkage)
        object.__setattr__(self, "observations", observations)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Covariance is immutable; cannot set {name!r}")

    def __repr__(self) -> str:
        return (
            f"Covariance(n_assets={self.n_assets}, method={self.method!r}, "
            f"shrinkage={self.shrinkage!r}, observations={self.observations!r})"
        )

    @property
    def n_assets(self) -> int:
        """Number of assets (rows of the matrix)."""
        return int(self.matrix.shape[0])

    @property
    def volatilities(self) -> FloatArray:
        """Per-asset standard deviations, ``sqrt(diag(matrix))``."""
        return np.sqrt(np.diagonal(self.matrix))

    def correlation(self) -> FloatArray:
        """Return the correlation matrix.

        Returns
        -------
        numpy.ndarray
            ``C[i, j] = S[i, j] / (s_i s_j)``.

        Raises
        ------
        InvalidInputError
            If an asset has zero variance.
        """
        vols = self.volatilities
        if not (vols > 0).all():
            raise InvalidInputError("cov", summarise(vols), "positive variance for every asset")
        inv = 1.0 / vols
        corr = self.matrix * inv[:, None] * inv[None, :]
        np.fill_diagonal(corr, 1.0)
        return corr


def as_covariance(cov: Covariance | ArrayLike, field: str = "cov") -> Covariance:
    """Return ``cov`` unchanged if it is a :class:`Covariance`, otherwise check and wrap it."""
    if isinstance(cov, Covariance):
        return cov
    return Covariance._trusted(check_covariance_matrix(cov, field), "given")


def _gram(x: FloatArray) -> FloatArray:
    # ``x.T @ x`` on the same buffer runs as a symmetric rank-k update, so the result is
    # exactly symmetric.
    g: FloatArray = np.ascontiguousarray(x.T @ x)
    return g


def sample_covariance(returns: ArrayLike, *, ddof: int = 1) -> Covariance:
    """Sample covariance of a returns matrix.

    Parameters
    ----------
    returns
        ``T x N`` matrix of per-period returns, one row per observation, one column per asset.
    ddof
        Delta degrees of freedom: the divisor is ``T - ddof``.

    Returns
    -------
    Covariance
        The estimate. It is singular when ``T <= N``.

    Raises
    ------
    InvalidInputError
        If ``returns`` is not a finite 2-d array with more than ``ddof`` rows.
    """
    r = as_returns(returns)
    t = r.shape[0]
    if isinstance(ddof, bool) or not isinstance(ddof, int) or ddof < 0 or ddof >= t:
        raise InvalidInputError("ddof", ddof, f"an integer in [0, {t - 1}]")
    x = r - r.mean(axis=0)
    s = _gram(x) / (t - ddof)
    return Covariance._trusted(s, "sample", None, t)


def ledoit_wolf(returns: ArrayLike) -> Covariance:
    """Ledoit-Wolf shrinkage of the sample covariance towards a scaled identity.

    The estimate is ``(1 - d) S + d m I`` where ``S`` is the maximum-likelihood sample
    covariance (divisor ``T``), ``m = trace(S) / N`` and ``d`` is the optimal intensity of
    Ledoit and Wolf (2004), "A well-conditioned estimator for large-dimensional covariance
    matrices".

    Parameters
    ----------
    returns
        ``T x N`` matrix of per-period returns.

    Returns
    -------
    Covariance
        The estimate, with ``shrinkage`` set to ``d``. It is positive definite whenever
        ``d > 0``.

    Raises
    ------
    InvalidInputError
        If ``returns`` is not a finite 2-d array with at least two rows.
    """
    r = as_returns(returns)
    t, n = r.shape
    x = r - r.mean(axis=0)
    s = _gram(x) / t
    mu = float(np.trace(s)) / n
    s_sq = float(np.einsum("ij,ij->", s, s))
    delta = s_sq - 2.0 * mu * float(np.trace(s)) + n * mu * mu
    row_sq = np.einsum("ij,ij->i", x, x)
    beta = (float(row_sq @ row_sq) / t - s_sq) / t
    beta = min(max(beta, 0.0), delta)
    shrinkage = 0.0 if delta <= 0.0 else beta / delta
    out = s * (1.0 - shrinkage)
    out.flat[:: n + 1] += shrinkage * mu
    return Covariance._trusted(out, "ledoit_wolf", shrinkage, t)


def ewma_covariance(
    returns: ArrayLike, *, decay: float = 0.94, demean: bool = False
) -> Covariance:
    """Exponentially weighted covariance (RiskMetrics style).

    Observation ``t`` (0 = oldest) gets weight proportional to ``decay ** (T - 1 - t)``;
    the weights are normalised to sum to one, so the estimate is exact for short histories too.

    Parameters
    ----------
    returns
        ``T x N`` matrix of per-period returns, oldest row first.
    decay
        The RiskMetrics lambda, in ``(0, 1)``. 0.94 is the classic daily value; the half-life
        in periods is ``log(0.5) / log(decay)``.
    demean
        Subtract the weighted mean first. RiskMetrics assumes a zero mean (the default).

    Returns
    -------
    Covariance
        The estimate.

    Raises
    ------
    InvalidInputError
        If ``returns`` is not a finite 2-d array with two or more rows or ``decay`` is not in
        ``(0, 1)``.
    """
    r = as_returns(returns)
    lam = as_scalar(decay, "decay", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    t = r.shape[0]
    w = np.exp(np.arange(t - 1, -1, -1, dtype=np.float64) * math.log(lam))
    w /= w.sum()
    x = r - w @ r if demean else r
    y = x * np.sqrt(w)[:, None]
    s = _gram(y)
    return Covariance._trusted(s, "ewma", None, t)
