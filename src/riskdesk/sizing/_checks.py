"""Input checks shared by the sizing models.

Each check is a single chained comparison, which is false for NaN, so finite-ness and range
are tested in one step. They raise :class:`~riskdesk.errors.InvalidInputError` naming the field.
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Context, Decimal
from typing import NoReturn

from riskdesk.errors import InvalidInputError

INF = math.inf

# Sixty digits hold the exact product of three float reprs (17 significant digits each), so
# products computed here are exact and only the final integer division truncates. The context's
# flags are written by every operation and never read.
EXACT = Context(prec=60, rounding=ROUND_FLOOR)


def bad(field: str, value: object, expected: str) -> NoReturn:
    """Raise :class:`InvalidInputError` for ``field``."""
    raise InvalidInputError(field, value, expected)


def positive(value: float, field: str) -> float:
    """Return ``value`` if it is finite and > 0, else raise naming ``field``."""
    if not 0.0 < value < INF:
        bad(field, value, "a finite number > 0")
    return value


def non_negative(value: float, field: str) -> float:
    """Return ``value`` if it is finite and >= 0, else raise naming ``field``."""
    if not 0.0 <= value < INF:
        bad(field, value, "a finite number >= 0")
    return value


def finite(value: float, field: str) -> float:
    """Return ``value`` if it is finite, else raise naming ``field``."""
    if not -INF < value < INF:
        bad(field, value, "a finite number")
    return value


def unit_fraction(value: float, field: str) -> float:
    """Return ``value`` if it lies in [0, 1], else raise naming ``field``."""
    if not 0.0 <= value <= 1.0:
        bad(field, value, "a fraction in [0, 1]")
    return value


def exact(value: float) -> Decimal:
    """The float as the Decimal of its shortest representation (``0.1`` -> ``0.1``)."""
    return Decimal(repr(float(value)))
