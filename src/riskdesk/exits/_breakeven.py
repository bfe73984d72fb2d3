"""Break-even: move the stop to the entry plus a fee offset after a gain of X R."""

from __future__ import annotations

from decimal import Decimal

from riskdesk.domain import Side
from riskdesk.exits._prices import excursion, scaled


def break_even_due(side: Side, entry: Decimal, extreme: Decimal, risk_per_unit: Decimal,
                   after_r: Decimal) -> bool:
    """True once the best price since entry is ``after_r`` R beyond the planned entry."""
    return excursion(side, extreme, entry) >= after_r * risk_per_unit


def break_even_level(side: Side, average_entry: Decimal, fee_offset: Decimal) -> Decimal:
    """Raw break-even stop: ``average entry x (1 + fee offset)`` (``1 - offset`` for a short).

    The average entry covers pyramid adds; the offset pays the round trip's fees, so a stop
    filled there loses nothing.
    """
    return scaled(side, average_entry, fee_offset)
