"""Historical conditional value at risk (expected shortfall) of a return series (seed 002)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from riskdesk.errors import InvalidInputError


def historical_cvar(returns: Sequence[float] | npt.NDArray[np.float64], alpha: float) -> float:
    """Expected loss in the worst ``1 - alpha`` of the observed returns.

    The ``k = ceil((1 - alpha) x n)`` smallest returns are averaged and the sign flipped, so a
    positive result is a loss fraction (0.04 = 4% of the position). A tail that still gains
    gives 0.

    Parameters
    ----------
    returns
        Per-period returns as fractions, one-dimensional, finite, at least one.
    alpha
        Confidence level in (0, 1), for example 0.95.

    Returns
    -------
    float
        The CVaR as a loss fraction, >= 0.

    Raises
    ------
    InvalidInputError
        If ``returns`` is empty, not one-dimensional, not numbers or not finite, or ``alpha``
        is outside (0, 1).

    Examples
    --------
    >>> historical_cvar([0.01, -0.02, 0.03, -0.05, 0.0], 0.6)
    0.035
    """
    if not 0.0 < alpha < 1.0:
        raise InvalidInputError("alpha", alpha, "a confidence level in (0, 1)")
    try:
        r = np.asarray(returns, dtype=np.float64)
    except (TypeError, ValueError):  # text, ragged lists, objects: not a series of numbers
        raise InvalidInputError("returns", returns,
                                "a non-empty one-dimensional series of numbers") from None
    if r.ndim != 1 or r.size == 0:
        raise InvalidInputError("returns", returns, "a non-empty one-dimensional series")
    if not np.isfinite(r).all():
        raise InvalidInputError("returns", returns, "finite returns")
    k = max(1, math.ceil((1.0 - alpha) * r.size - 1e-12))
    tail = np.partition(r, k - 1)[:k]
    return max(0.0, -float(tail.mean()))
