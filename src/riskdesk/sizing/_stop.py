"""Risk-based sizing: a fixed loss at the stop, ATR stops, and volatility targeting."""

from __future__ import annotations

from riskdesk.domain import Side
from riskdesk.sizing._checks import INF, bad


def stop_distance_qty(risk_amount: float, entry: float, stop: float,
                      contract_size: float = 1.0) -> float:
    """Quantity that loses ``risk_amount`` if the stop is hit.

    ``qty = risk_amount / (|entry - stop| x contract_size)``. Wider stops give smaller sizes.
    The result is a raw float; quantize it with the market's rules (rounding down) before use.

    Parameters
    ----------
    risk_amount
        Money to lose at the stop, >= 0.
    entry
        Entry price, > 0.
    stop
        Stop price, > 0 and different from ``entry``.
    contract_size
        Units per contract, > 0.

    Returns
    -------
    float
        Quantity in contracts.

    Raises
    ------
    InvalidInputError
        Naming the argument out of range, or ``stop`` when it equals ``entry``.

    Examples
    --------
    >>> stop_distance_qty(100.0, 50.0, 48.0)
    50.0
    """
    if not 0.0 <= risk_amount < INF:
        bad("risk_amount", risk_amount, "a finite number >= 0")
    if not 0.0 < entry < INF:
        bad("entry", entry, "a finite price > 0")
    if not 0.0 < stop < INF:
        bad("stop", stop, "a finite price > 0")
    if not 0.0 < contract_size < INF:
        bad("contract_size", contract_size, "a finite number > 0")
    distance = abs(entry - stop)
    if distance == 0.0:
        bad("stop", stop, f"a price different from the entry ({entry})")
    return risk_amount / (distance * contract_size)


def atr_stop_price(entry: float, atr: float, multiple: float, side: Side) -> float:
    """A protective stop ``multiple`` ATRs away from the entry, on the losing side.

    Parameters
    ----------
    entry
        Entry price, > 0.
    atr
        Average true range in price units, > 0.
    multiple
        How many ATRs away, > 0.
    side
        ``LONG`` puts the stop below the entry, ``SHORT`` above.

    Returns
    -------
    float
        The stop price, unrounded (round with the market's tick in the safe direction).

    Raises
    ------
    InvalidInputError
        Naming the argument out of range, or ``atr`` when a long's stop would fall to zero or
        below.

    Examples
    --------
    >>> atr_stop_price(100.0, 2.5, 2.0, Side.SHORT)
    105.0
    """
    if not 0.0 < entry < INF:
        bad("entry", entry, "a finite price > 0")
    if not 0.0 < atr < INF:
        bad("atr", atr, "a finite number > 0")
    if not 0.0 < multiple < INF:
        bad("multiple", multiple, "a finite number > 0")
    distance = atr * multiple
    if side is Side.SHORT:
        return entry + distance
    if side is not Side.LONG:
        bad("side", side, "Side.LONG or Side.SHORT")
    if distance >= entry:
        bad("atr", atr, f"atr x multiple below the entry ({entry}) for a long stop")
    return entry - distance


def volatility_target_notional(equity: float, target_vol: float, asset_vol: float) -> float:
    """Notional whose volatility equals ``target_vol`` of equity.

    ``notional = equity x target_vol / asset_vol``. Never grows with ``asset_vol``.

    Parameters
    ----------
    equity
        Account equity, > 0.
    target_vol
        Target volatility of the position as a fraction of equity per period, >= 0.
    asset_vol
        The asset's return volatility over the same period, > 0.

    Returns
    -------
    float
        The notional.

    Raises
    ------
    InvalidInputError
        Naming the argument out of range, or ``asset_vol`` when it is so small that the
        notional is not a finite float.

    Examples
    --------
    >>> volatility_target_notional(10_000.0, 0.01, 0.04)
    2500.0
    """
    if not 0.0 < equity < INF:
        bad("equity", equity, "a finite number > 0")
    if not 0.0 <= target_vol < INF:
        bad("target_vol", target_vol, "a finite number >= 0")
    if not 0.0 < asset_vol < INF:
        bad("asset_vol", asset_vol, "a finite number > 0")
    notional = equity * target_vol / asset_vol
    if not notional < INF:  # a volatility so small that the quotient leaves the floats
        bad("asset_vol", asset_vol, "a volatility for which equity x target_vol / asset_vol "
            "is finite")
    return notional
