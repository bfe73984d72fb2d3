"""A threshold ladder: the zone a value falls in, by ordered lower bounds.

Seed 001's margin zones (GREEN / YELLOW / ORANGE / RED) and its capital status (HEALTHY /
WARNING / CRITICAL / EMERGENCY) are the same kind of ladder over margin used; both read it
here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

from riskdesk.errors import InvalidInputError

Z = TypeVar("Z")


def ladder_zone(value: float, thresholds: Sequence[float], zones: Sequence[Z], floor: Z, *,
                field: str) -> Z:
    """The zone of a fraction on a threshold ladder.

    Parameters
    ----------
    value
        The fraction to place, finite and >= 0.
    thresholds
        Lower bounds, highest first; ``zones[i]`` starts at ``thresholds[i]`` (bound
        included). The first bound ``value`` reaches wins.
    zones
        One zone per threshold, in the same order (same length as ``thresholds``).
    floor
        The zone below every threshold.
    field
        Name of ``value`` in the error.

    Returns
    -------
    Z
        The zone.

    Raises
    ------
    InvalidInputError
        If ``value`` is negative or not finite (naming ``field``).

    Examples
    --------
    >>> ladder_zone(0.8, (0.9, 0.75, 0.5), ("red", "orange", "yellow"), "green", field="x")
    'orange'
    >>> ladder_zone(0.5, (0.9, 0.75, 0.5), ("red", "orange", "yellow"), "green", field="x")
    'yellow'
    """
    if not 0.0 <= value < math.inf:
        raise InvalidInputError(field, value, "a finite fraction >= 0")
    for threshold, zone in zip(thresholds, zones, strict=False):
        if value >= threshold:
            return zone
    return floor
