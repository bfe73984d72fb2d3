"""Trailing stops: percent, ATR and chandelier, with an activation threshold in R."""

from __future__ import annotations

from decimal import Decimal

from riskdesk.domain import Side
from riskdesk.exits._prices import excursion, offset, scaled


def trailing_activated(side: Side, entry: Decimal, extreme: Decimal,
                       risk_per_unit: Decimal | None, activation_r: Decimal) -> bool:
    """True once the best price is ``activation_r`` R in profit (always when it is 0).

    ``risk_per_unit`` may be ``None`` only with a zero threshold (the plan checks).
    """
    if activation_r == 0:
        return True
    assert risk_per_unit is not None
    return excursion(side, extreme, entry) >= activation_r * risk_per_unit


def trailing_level(side: Side, mode: str, *, extreme: Decimal, last: Decimal,
                   atr: Decimal | None, pct: Decimal, k: Decimal) -> Decimal | None:
    """The raw (unrounded) trailing stop, or ``None`` when the ATR it needs is unknown.

    - ``percent``: ``extreme x (1 - pct)`` for a long, ``extreme x (1 + pct)`` for a short;
    - ``atr``: ``last - k x ATR`` (mirror for a short), trailing the latest price;
    - ``chandelier``: ``extreme - k x ATR`` (mirror), the highest high since entry less
      ``k`` ATRs for a long, the lowest low plus ``k`` ATRs for a short.

    Parameters
    ----------
    side
        The position's side.
    mode
        ``percent``, ``atr`` or ``chandelier``.
    extreme
        Best price since entry.
    last
        Latest price (the bar's close or the tick).
    atr
        Latest ATR in price units.
    pct, k
        The percent distance and the ATR multiple.
    """
    if mode == "percent":
        return scaled(side, extreme, -pct)
    if atr is None:
        return None
    base = last if mode == "atr" else extreme
    return offset(side, base, -k * atr)
