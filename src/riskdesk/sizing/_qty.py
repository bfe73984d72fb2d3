"""From a fraction or a notional to an executable quantity, rounded down exactly once.

The quantity is a whole number of market steps: ``floor(amount / (price x contract_size x
step))``. That floor is taken in float when the quotient is clearly away from an integer (float
error here is below 1e-14 relative, the margin used is 1e-9), and otherwise recomputed exactly in
Decimal from the floats' shortest representations, so that float noise never adds or drops a
step. The market's rules then apply ``max_qty``, ``min_qty`` and ``min_notional``. The result
never exceeds the notional (or margin) it was sized under.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from riskdesk.domain import MAX_MAGNITUDE, MarketRules, Rounding
from riskdesk.sizing._checks import EXACT, INF, bad, exact

# Relative distance from an integer below which the float floor is not trusted.
_NEAR = 1e-9
_ONE = Decimal(1)
# The domain's largest magnitude: a larger quantity is an input error, not a size.
_MAX_UNITS = float(MAX_MAGNITUDE)


def whole_steps(amount: float, price: float, rules: MarketRules | None,
                exact_amount: Callable[[], Decimal]) -> Decimal:
    """``floor(amount / (price x contract_size x step)) x step``, never one step too many.

    Parameters
    ----------
    amount
        Notional to fill, finite and >= 0.
    price
        Price, finite and > 0.
    rules
        The market's rules, or ``None`` for whole shares (step 1, contract size 1).
    exact_amount
        Returns ``amount`` as an exact Decimal; called only when the float quotient is within
        ``1e-9`` (relative) of a whole number of steps.

    Returns
    -------
    Decimal
        A non-negative multiple of the step, before the market's limits.
    """
    if rules is None:
        step, size, step_f, den_f = _ONE, _ONE, 1.0, price
    else:
        step, size = rules.step, rules.contract_size
        step_f = float(step)
        den_f = price * float(size) * step_f
    if not den_f > 0.0:
        bad("price", price, "a price for which price x contract_size x step is a positive float")
    ratio = amount / den_f
    if not ratio * step_f <= _MAX_UNITS:
        bad("quantity", ratio * step_f, f"at most {_MAX_UNITS:g} units at price {price!r}")
    whole = math.floor(ratio)
    margin = _NEAR * (ratio if ratio > 1.0 else 1.0)
    if ratio - whole > margin and whole + 1 - ratio > margin:
        return Decimal(whole) * step
    den = EXACT.multiply(EXACT.multiply(exact(price), size), step)
    return EXACT.multiply(EXACT.divide_int(exact_amount(), den), step)


def market_limits(qty: Decimal, price: float, rules: MarketRules) -> Decimal:
    """Apply the market's maximum and minimums (the one quantization, in MarketRules)."""
    return rules.quantize_qty(qty, Rounding.DOWN,
                              price=exact(price) if rules.min_notional > 0 else None)


def notional_to_qty(notional: float, price: float, rules: MarketRules) -> Decimal:
    """The largest executable quantity whose value does not exceed ``notional``.

    Parameters
    ----------
    notional
        Order value in quote currency, >= 0.
    price
        Reference price, > 0.
    rules
        The market's rules (step, limits, contract size).

    Returns
    -------
    Decimal
        A multiple of ``rules.step``; zero, or at least ``min_qty`` with a value of at least
        ``min_notional``; at most ``max_qty``.

    Raises
    ------
    InvalidInputError
        If ``notional`` is negative or not finite, or ``price`` is not finite and positive.
    """
    if not 0.0 <= notional < INF:
        bad("notional", notional, "a finite number >= 0")
    if not 0.0 < price < INF:
        bad("price", price, "a finite number > 0")
    qty = whole_steps(notional, price, rules, lambda: exact(notional))
    return market_limits(qty, price, rules)


def fraction_to_qty(fraction: float, equity: float, price: float, leverage: float,
                    rules: MarketRules, *, available_margin: float | None = None) -> Decimal:
    """Quantity for committing ``fraction`` of equity as margin at ``leverage`` (seed 002).

    ``margin = fraction x equity``, clipped to ``available_margin`` when given;
    ``notional = margin x leverage``; ``qty = notional / (price x contract_size)``, rounded
    down onto the market's step and checked against its minimums.

    Parameters
    ----------
    fraction
        Fraction of equity committed as margin, in [0, 1] (a Kelly fraction).
    equity
        Account equity, > 0.
    price
        Reference price, > 0.
    leverage
        Leverage, >= 1. A value above ``rules.max_leverage`` is lowered to it, which can only
        shrink the quantity.
    rules
        The market's rules.
    available_margin
        Free margin; the margin committed never exceeds it. ``None`` for no limit.

    Returns
    -------
    Decimal
        The executable quantity: a multiple of the step, zero or at least the minimums, and
        with ``qty x price x contract_size <= margin x leverage`` exactly.

    Raises
    ------
    InvalidInputError
        Naming the first argument that is not finite or out of range.

    Examples
    --------
    Seed 001's $500 account putting a $15 position on at 8x commits 0.375% of equity as
    margin ($1.875); at a BTC price of $50,000 that is 0.0003 BTC:

    >>> from riskdesk.domain import MarketRules
    >>> btc = MarketRules("BTCUSDT", step="0.0001", tick="0.1", max_leverage=125)
    >>> fraction_to_qty(0.00375, 500.0, 50_000.0, 8.0, btc)
    Decimal('0.0003')
    """
    if not 0.0 <= fraction <= 1.0:
        bad("fraction", fraction, "a fraction in [0, 1]")
    if not 0.0 < equity < INF:
        bad("equity", equity, "a finite number > 0")
    if not 0.0 < price < INF:
        bad("price", price, "a finite number > 0")
    if not 1.0 <= leverage < INF:
        bad("leverage", leverage, "a finite number >= 1")
    if available_margin is not None and not 0.0 <= available_margin < INF:
        bad("available_margin", available_margin, "a finite number >= 0")
    lev = leverage if leverage <= rules.max_leverage else float(rules.max_leverage)
    margin = fraction * equity
    if available_margin is not None and available_margin < margin:
        margin = available_margin

    def exact_notional() -> Decimal:
        m = EXACT.multiply(exact(fraction), exact(equity))
        if available_margin is not None:
            m = min(m, exact(available_margin))
        return EXACT.multiply(m, min(exact(leverage), rules.max_leverage))

    qty = whole_steps(margin * lev, price, rules, exact_notional)
    return market_limits(qty, price, rules)
