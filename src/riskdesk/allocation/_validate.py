"""Input checks shared by the allocation functions.

Every check raises :class:`riskdesk.errors.InvalidInputError` with the field name, the rejected
value (summarised for arrays) and what would have been accepted.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from riskdesk.errors import InvalidInputError

FloatArray = NDArray[np.float64]
OnFailure = Literal["raise", "return"]

_ON_FAILURE = ("raise", "return")


def summarise(value: object) -> object:
    """Return a short stand-in for a large array so error messages stay readable.

    A small array or a numpy scalar becomes plain Python numbers (``[0.5, 0.6]``, not
    ``array([0.5, 0.6])``), as the caller wrote them.
    """
    if isinstance(value, np.ndarray) and value.size > 8:
        return f"<array shape={value.shape} dtype={value.dtype}>"
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    return value


def as_float_array(value: ArrayLike, field: str) -> FloatArray:
    """Convert ``value`` to a float64 array, rejecting objects that are not numeric."""
    try:
        # numpy would drop the imaginary part of a complex array with only a warning
        if np.iscomplexobj(value):
            raise InvalidInputError(field, summarise(value), "an array of real numbers")
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(field, summarise(value), "an array of real numbers") from exc
    return arr


def as_vector(
    value: ArrayLike,
    field: str,
    *,
    size: int | None = None,
    positive: bool = False,
    nonnegative: bool = False,
) -> FloatArray:
    """Return ``value`` as a finite 1-d float64 array (a fresh copy).

    Parameters
    ----------
    value
        Anything ``numpy.asarray`` accepts.
    field
        Name used in error messages.
    size
        Required length, if any.
    positive, nonnegative
        Sign requirements on every element.

    Returns
    -------
    numpy.ndarray
        The checked vector.
    """
    arr = as_float_array(value, field)
    if arr.ndim != 1:
        raise InvalidInputError(field, summarise(arr), "a 1-d array")
    if arr.size == 0:
        raise InvalidInputError(field, summarise(arr), "a non-empty array")
    if size is not None and arr.size != size:
        raise InvalidInputError(field, f"length {arr.size}", f"length {size} (one per asset)")
    if not np.isfinite(arr).all():
        raise InvalidInputError(field, summarise(arr), "finite numbers (no NaN or inf)")
    if positive and not (arr > 0).all():
        raise InvalidInputError(field, summarise(arr), "strictly positive numbers")
    if nonnegative and not (arr >= 0).all():
        raise InvalidInputError(field, summarise(arr), "non-negative numbers")
    return np.array(arr, dtype=np.float64, copy=True)


def as_returns(value: ArrayLike, field: str = "returns") -> FloatArray:
    """Return a finite ``T x N`` returns matrix with ``T >= 2`` and ``N >= 1``."""
    arr = as_float_array(value, field)
    if arr.ndim != 2:
        raise InvalidInputError(field, summarise(arr), "a 2-d array (observations x assets)")
    t, n = arr.shape
    if n < 1:
        raise InvalidInputError(field, f"shape {arr.shape}", "at least one asset (column)")
    if t < 2:
        raise InvalidInputError(field, f"shape {arr.shape}", "at least two observations (rows)")
    if not np.isfinite(arr).all():
        raise InvalidInputError(field, summarise(arr), "finite numbers (no NaN or inf)")
    return arr


def as_scalar(
    value: object,
    field: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a finite float within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise InvalidInputError(field, value, "a real number")
    x = float(value)
    if not math.isfinite(x):
        raise InvalidInputError(field, value, "a finite number")
    if low is not None and (x < low or (x == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise InvalidInputError(field, value, f"a number {op} {low}")
    if high is not None and (x > high or (x == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise InvalidInputError(field, value, f"a number {op} {high}")
    return x


def as_positive_int(value: object, field: str) -> int:
    """Return ``value`` as an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < 1:
        raise InvalidInputError(field, value, "an integer >= 1")
    return int(value)


def check_on_failure(value: object) -> OnFailure:
    """Check the ``on_failure`` switch."""
    if value == "raise":
        return "raise"
    if value == "return":
        return "return"
    raise InvalidInputError("on_failure", value, f"one of {_ON_FAILURE}")


def as_caps(max_weight: ArrayLike | None, n: int, field: str = "max_weight") -> FloatArray:
    """Per-asset caps on ``|weight|`` as a length-``n`` vector (``inf`` where uncapped)."""
    if max_weight is None:
        return np.full(n, np.inf)
    arr = as_float_array(max_weight, field)
    if arr.ndim == 0:
        cap = as_scalar(float(arr), field, low=0.0, low_inclusive=False)
        return np.full(n, cap)
    return as_vector(arr, field, size=n, positive=True)
