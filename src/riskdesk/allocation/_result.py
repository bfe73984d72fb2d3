"""The result type shared by every allocation method, and leverage scaling of a result."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from riskdesk.allocation._covariance import Covariance, as_covariance
from riskdesk.allocation._validate import FloatArray, OnFailure, as_scalar, as_vector, summarise
from riskdesk.errors import ComputationError, InvalidInputError


def _frozen(a: FloatArray) -> FloatArray:
    out = np.array(a, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class AllocationResult:
    """Weights from an allocation method, with the evidence that the solve worked.

    Weights are fractions of equity: ``0.2`` means a position whose notional is 20% of
    equity. Their sum is the net exposure and the sum of their absolute values is the gross
    exposure (the leverage).

    Parameters
    ----------
    weights
        One weight per asset, in the order of the inputs. Stored as a read-only copy.
    method
        The method that produced the weights, for example ``"risk_parity"``.
    converged
        Whether the solve met ``tolerance``. A result with ``converged=False`` is only ever
        returned when the caller asked for it with ``on_failure="return"``.
    iterations
        Iterations the solver used (0 for closed forms).
    tolerance
        The tolerance the solve was asked to meet.
    residual
        The achieved optimality measure the tolerance applies to: the largest relative
        deviation of the risk contributions from the budgets for risk parity, the scaled
        KKT residual for the mean-variance family.
    objective
        The method's objective at ``weights`` before any leverage scaling (each function
        documents its own).
    risk_contributions
        Each asset's share of portfolio variance, ``w_i (C w)_i / (w' C w)``, summing to one;
        ``None`` when no covariance was involved.
    variance
        Portfolio variance ``w' C w`` of ``weights``; ``None`` when no covariance was involved.
    scale
        Product of the leverage scaling factors applied after the solve (1 if none).
    note
        Free-text remark: why a solve did not converge, which limit bound a scaling.
    """

    weights: FloatArray
    method: str
    converged: bool
    iterations: int
    tolerance: float
    residual: float
    objective: float
    risk_contributions: FloatArray | None = None
    variance: float | None = None
    scale: float = 1.0
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _frozen(self.weights))
        if self.risk_contributions is not None:
            object.__setattr__(self, "risk_contributions", _frozen(self.risk_contributions))

    @property
    def n_assets(self) -> int:
        """Number of assets."""
        return int(self.weights.shape[0])

    @property
    def gross_exposure(self) -> float:
        """Sum of absolute weights: the leverage of the allocation."""
        return float(np.abs(self.weights).sum())

    @property
    def net_exposure(self) -> float:
        """Sum of the weights."""
        return float(self.weights.sum())

    @property
    def volatility(self) -> float | None:
        """Portfolio standard deviation, ``sqrt(variance)``."""
        return None if self.variance is None else math.sqrt(max(self.variance, 0.0))


def settle(
    method: str,
    weights: FloatArray,
    *,
    converged: bool,
    iterations: int,
    tolerance: float,
    residual: float,
    objective: float,
    risk_contributions: FloatArray | None,
    variance: float | None,
    failure_note: str,
    on_failure: OnFailure,
) -> AllocationResult:
    """The result of a solve, or its failure raised when the caller asked for that.

    Parameters
    ----------
    method
        The method's name, for the result and the error.
    weights
        The weights the solve produced.
    converged
        Whether the solve met ``tolerance``.
    iterations, tolerance, residual, objective, risk_contributions, variance
        As in :class:`AllocationResult`.
    failure_note
        Why the solve missed ``tolerance``; used only when ``converged`` is false.
    on_failure
        ``"raise"`` or ``"return"`` (already checked).

    Returns
    -------
    AllocationResult
        The result; its ``note`` is ``failure_note`` when not converged, else empty.

    Raises
    ------
    ComputationError
        If the solve did not converge and ``on_failure`` is ``"raise"``; the message is
        ``"<method>: <failure_note>"``.
    """
    if not converged and on_failure == "raise":
        raise ComputationError(f"{method}: {failure_note}")
    return AllocationResult(
        weights=weights,
        method=method,
        converged=converged,
        iterations=iterations,
        tolerance=tolerance,
        residual=residual,
        objective=objective,
        risk_contributions=risk_contributions,
        variance=variance,
        note="" if converged else failure_note,
    )


def risk_contributions(weights: ArrayLike, cov: Covariance | ArrayLike) -> FloatArray:
    """Each asset's share of portfolio variance.

    Parameters
    ----------
    weights
        Portfolio weights, one per asset.
    cov
        Covariance matrix of the asset returns.

    Returns
    -------
    numpy.ndarray
        ``w_i (C w)_i / (w' C w)``; the entries sum to one.

    Raises
    ------
    InvalidInputError
        If the shapes disagree, an input is not finite, or the portfolio has zero variance.
    """
    c = as_covariance(cov)
    w = as_vector(weights, "weights", size=c.n_assets)
    cw = c.matrix @ w
    var = float(w @ cw)
    if not var > 0.0:
        raise InvalidInputError("weights", summarise(w), "a portfolio with positive variance")
    out: FloatArray = w * cw / var
    return out


def scale_leverage(
    result: AllocationResult,
    *,
    target_leverage: float | None = None,
    gross_cap: float | None = None,
    max_weight: float | None = None,
) -> AllocationResult:
    """Scale an allocation proportionally to a target leverage, within caps.

    All weights are multiplied by one factor, so the shape of the portfolio (its relative
    weights and risk contributions) is kept. First the gross exposure is set to
    ``target_leverage`` (if given); then the factor is reduced until the gross exposure is at
    most ``gross_cap`` and every ``|weight|`` is at most ``max_weight``. Weights are never
    clipped one by one.

    Parameters
    ----------
    result
        The allocation to scale.
    target_leverage
        Desired gross exposure (sum of absolute weights), for example ``3.0`` for 3x.
    gross_cap
        Upper limit on the gross exposure after scaling.
    max_weight
        Upper limit on each ``|weight|`` after scaling.

    Returns
    -------
    AllocationResult
        A new result with scaled ``weights`` and ``variance``, ``scale`` multiplied by the
        factor, and ``note`` naming the limit that bound (``target``, ``gross_cap`` or
        ``max_weight``). ``objective`` still refers to the unscaled solve.

    Raises
    ------
    InvalidInputError
        If a limit is not a positive finite number, or the allocation has no exposure to
        scale.
    ComputationError
        If ``result`` did not converge: scaling unverified weights would hide that.
    """
    if not result.converged:
        raise ComputationError(
            f"refusing to scale a non-converged {result.method} result: {result.note}"
        )
    gross = result.gross_exposure
    if not gross > 0.0:
        raise InvalidInputError("result.weights", summarise(result.weights), "some exposure")
    factor = 1.0
    bound = "none"
    cap: float | None = None
    mw: float | None = None
    if target_leverage is not None:
        target = as_scalar(target_leverage, "target_leverage", low=0.0, low_inclusive=False)
        factor = target / gross
        bound = "target"
    if gross_cap is not None:
        cap = as_scalar(gross_cap, "gross_cap", low=0.0, low_inclusive=False)
        if gross * factor > cap:
            factor = cap / gross
            bound = "gross_cap"
    if max_weight is not None:
        mw = as_scalar(max_weight, "max_weight", low=0.0, low_inclusive=False)
        largest = float(np.abs(result.weights).max())
        if largest * factor > mw:
            factor = mw / largest
            bound = "max_weight"
    weights = result.weights * factor
    # cap / gross rounds to nearest, so the scaled sum (or the largest weight) can land one
    # unit in the last place above the cap: step the factor down until the caps hold exactly.
    while factor > 0.0 and (
        (cap is not None and float(np.abs(weights).sum()) > cap)
        or (mw is not None and float(np.abs(weights).max()) > mw)
    ):
        factor = math.nextafter(factor, 0.0)
        weights = result.weights * factor
    note = f"leverage scaled by {factor:.6g} (bound: {bound})"
    if result.note:
        note = f"{result.note}; {note}"
    return dataclasses.replace(
        result,
        weights=weights,
        variance=None if result.variance is None else result.variance * factor * factor,
        scale=result.scale * factor,
        note=note,
    )
