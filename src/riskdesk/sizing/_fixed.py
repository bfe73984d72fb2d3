"""Fixed fraction of equity and the margin a notional ties up."""

from __future__ import annotations

from riskdesk.sizing._checks import INF, bad, non_negative, positive


def fixed_fraction_notional(equity: float, fraction: float) -> float:
    """Notional of a fixed fraction of equity: ``equity x fraction``.

    Parameters
    ----------
    equity
        Account equity, > 0.
    fraction
        Fraction of equity to commit as notional, in [0, 1] (0.01 = 1%).

    Returns
    -------
    float
        The notional in the account's currency.

    Raises
    ------
    InvalidInputError
        If ``equity`` is not finite and positive or ``fraction`` lies outside [0, 1].

    Examples
    --------
    Seed 001's small account risks 3% of $500:

    >>> fixed_fraction_notional(500.0, 0.03)
    15.0
    """
    if not 0.0 < equity < INF:
        bad("equity", equity, "a finite number > 0")
    if not 0.0 <= fraction <= 1.0:
        bad("fraction", fraction, "a fraction in [0, 1]")
    return equity * fraction


def margin_required(notional: float, leverage: float) -> float:
    """Initial margin a position of ``notional`` ties up at ``leverage``: ``notional / leverage``.

    Parameters
    ----------
    notional
        Position value, >= 0.
    leverage
        Leverage, >= 1.

    Returns
    -------
    float
        The margin.

    Examples
    --------
    Seed 001: a $15 position at 8x needs $1.875 of margin.

    >>> margin_required(15.0, 8.0)
    1.875
    """
    non_negative(notional, "notional")
    positive(leverage, "leverage")
    if leverage < 1.0:
        bad("leverage", leverage, "a number >= 1")
    return notional / leverage
