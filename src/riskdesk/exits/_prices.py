"""Side-aware price comparisons and the one rounding rule for exit prices.

Every comparison is written as ``sign x (a - b)`` with ``sign`` +1 for a long and -1 for a
short, so a short's rule is the long's rule on prices reflected around any pivot.
"""

from __future__ import annotations

from decimal import Decimal

from riskdesk.domain import MarketRules, Rounding, Side, quantize_to_step
from riskdesk.errors import InvalidInputError

_ZERO = Decimal(0)


def favourable_rounding(side: Side) -> Rounding:
    """Round toward the position's profit side: up (CEILING) for a long, down for a short.

    For a stop this is the tighter tick (the risk never exceeds the budget), for a target the
    farther tick (the reward is never less than asked) and for a break-even stop the tick that
    still covers the fees.
    """
    return Rounding.CEILING if side is Side.LONG else Rounding.FLOOR


def to_tick(raw: Decimal, side: Side, rules: MarketRules, field: str) -> Decimal:
    """Quantize an exit price to the tick in the favourable direction.

    Raises
    ------
    InvalidInputError
        Naming ``field`` when the level is not a positive price after rounding.
    """
    q = quantize_to_step(raw, rules.tick, favourable_rounding(side))
    if q <= _ZERO:
        raise InvalidInputError(field, raw, f"a price of at least one tick ({rules.tick})")
    return q


def tick_or_none(raw: Decimal, side: Side, rules: MarketRules) -> Decimal | None:
    """Like :func:`to_tick`, but ``None`` instead of an error when no positive price results.

    Used while managing an open position, where a level that cannot exist is skipped rather
    than allowed to block the exits that come with it.
    """
    if raw <= _ZERO:
        return None
    q = quantize_to_step(raw, rules.tick, favourable_rounding(side))
    return q if q > _ZERO else None


def beyond(side: Side, a: Decimal, b: Decimal) -> bool:
    """True when ``a`` lies strictly on the profit side of ``b`` (above it for a long)."""
    return (a > b) if side is Side.LONG else (a < b)


def reached(side: Side, price: Decimal, level: Decimal) -> bool:
    """True when ``price`` is at or beyond ``level`` on the profit side (a target is touched)."""
    return (price >= level) if side is Side.LONG else (price <= level)


def offset(side: Side, price: Decimal, distance: Decimal) -> Decimal:
    """``price + distance`` toward profit (up for a long, down for a short)."""
    return price + distance if side is Side.LONG else price - distance


def scaled(side: Side, price: Decimal, fraction: Decimal) -> Decimal:
    """``price x (1 + fraction)`` toward profit (``1 - fraction`` for a short)."""
    return price * (1 + fraction) if side is Side.LONG else price * (1 - fraction)


def excursion(side: Side, price: Decimal, entry: Decimal) -> Decimal:
    """Signed move from ``entry`` to ``price``, positive when in profit."""
    return price - entry if side is Side.LONG else entry - price


def tighter(side: Side, a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """The tighter of two stops (the one nearer the profit side); ``None`` means no stop."""
    if a is None:
        return b
    if b is None:
        return a
    return a if beyond(side, a, b) else b
