"""Decimal conversion and quantization: the one place numbers cross into exact money."""

from __future__ import annotations

import math
import re
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_UP,
    Decimal,
    InvalidOperation,
)
from enum import StrEnum

from riskdesk.errors import InvalidInputError

Number = Decimal | int | float | str


class Rounding(StrEnum):
    """Named rounding modes for quantization.

    ``DOWN`` rounds toward zero (an opener's quantity: never past a cap), ``UP`` away from
    zero, ``FLOOR`` toward minus infinity, ``CEILING`` toward plus infinity, ``HALF_EVEN`` to
    the nearest step with ties to even.
    """

    DOWN = "down"
    UP = "up"
    FLOOR = "floor"
    CEILING = "ceiling"
    HALF_EVEN = "half_even"


_DECIMAL_MODES = {
    Rounding.DOWN: ROUND_DOWN,
    Rounding.UP: ROUND_UP,
    Rounding.FLOOR: ROUND_FLOOR,
    Rounding.CEILING: ROUND_CEILING,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
}

#: Absolute magnitude above which a money, price or quantity value is rejected as absurd.
MAX_MAGNITUDE = Decimal("1e15")
#: A decimal number as text: ASCII digits, an optional sign, one point, an optional exponent.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def is_decimal_text(text: str) -> bool:
    """Whether ``text`` (stripped) is a plain decimal number.

    ASCII digits, one point, an optional sign and exponent; not ``4_30``, non-ASCII digits,
    ``NaN`` or ``Infinity``, which Python's ``Decimal`` also reads.
    """
    return _DECIMAL_TEXT.fullmatch(text.strip()) is not None


def to_decimal(value: object, field: str, *, allow_negative: bool = False,
               allow_zero: bool = True) -> Decimal:
    """Convert ``value`` to a finite ``Decimal`` or raise naming ``field``.

    Parameters
    ----------
    value
        A ``Decimal``, ``int``, ``float`` or numeric string. Floats are converted through their
        shortest decimal representation, so ``0.1`` becomes ``Decimal("0.1")``.
    field
        Name of the field, used in the error message.
    allow_negative
        Accept values below zero.
    allow_zero
        Accept zero.

    Returns
    -------
    Decimal
        The finite decimal value.

    Raises
    ------
    InvalidInputError
        If the value is not a number, is NaN or infinite, is negative or zero where that is not
        allowed, or exceeds ``MAX_MAGNITUDE``.
    """
    if type(value) is Decimal:
        # The common case, a Decimal within bounds, in one test.
        if value.is_finite() and (value >= 0 or allow_negative) and (value or allow_zero) \
                and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
            return value
        d = value
    elif isinstance(value, Decimal):
        d = value
    elif isinstance(value, bool):
        raise InvalidInputError(field, value, "a number, not a boolean")
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(field, value, "a finite number")
        d = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not is_decimal_text(text):
            # Python's Decimal also reads "4_30", non-ASCII digits, "NaN" and "Infinity".
            raise InvalidInputError(field, value, "a decimal number (digits 0-9, one '.', "
                                    "an optional sign and exponent)")
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise InvalidInputError(field, value, "a decimal number") from None
    else:
        raise InvalidInputError(field, value, "a number")
    if not d.is_finite():
        raise InvalidInputError(field, value, "a finite number")
    if not allow_negative and d < 0:
        raise InvalidInputError(field, value, "a number >= 0")
    if not allow_zero and d == 0:
        raise InvalidInputError(field, value, "a number > 0")
    if abs(d) > MAX_MAGNITUDE:
        raise InvalidInputError(field, value, f"a magnitude <= {MAX_MAGNITUDE:E}")
    return d


def quantize_to_step(value: Decimal, step: Decimal, mode: Rounding) -> Decimal:
    """Round ``value`` to an integer multiple of ``step`` in the named direction.

    Parameters
    ----------
    value
        The value to round.
    step
        The increment, strictly positive.
    mode
        The rounding direction.

    Returns
    -------
    Decimal
        ``k * step`` for an integer ``k`` chosen by ``mode``.
    """
    units = (value / step).to_integral_value(rounding=_DECIMAL_MODES[mode])
    result = units * step
    # Keep the exponent of the step so that 0.0010 * 3 prints as 0.0030, not 3.0E-3.
    return result.quantize(step) if result != 0 else Decimal(0).quantize(step)
