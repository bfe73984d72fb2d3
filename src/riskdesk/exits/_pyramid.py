"""Pyramiding: add after X R, at most N adds, within the initial risk budget."""

from __future__ import annotations

from decimal import Decimal

from riskdesk.domain import MarketRules, Rounding, Side
from riskdesk.exits._prices import excursion
from riskdesk.exits._state import PositionState

_ZERO = Decimal(0)


def add_due(state: PositionState, price: Decimal, risk_per_unit: Decimal,
            after_r: Decimal, max_adds: int) -> bool:
    """True when ``price`` is ``after_r`` R beyond the latest fill and adds remain.

    No add follows a partial exit: scaling out and back in is left to a new decision.
    """
    if state.adds >= max_adds or state.reduced:
        return False
    return excursion(state.side, price, state.lots[-1].entry) >= after_r * risk_per_unit


def add_quantity(state: PositionState, price: Decimal, stop: Decimal, budget: Decimal,
                 max_quantity: Decimal, rules: MarketRules) -> Decimal:
    """The largest add at ``price`` that keeps the open risk at ``stop`` within ``budget``.

    Open risk after the add is ``sum over lots of qty x max(0, loss per unit at stop) x
    contract size``; the add contributes ``qty x (price - stop) x contract size`` for a long.
    The add is rounded down to the step and capped at ``max_quantity`` (the initial size, so a
    tight stop cannot turn an add into a much larger position).

    Parameters
    ----------
    state
        The position before the add (no partial exit yet).
    price
        The add's price.
    stop
        The stop that will protect every lot after the add; on the loss side of ``price``.
    budget
        The initial risk budget (planned quantity x R x contract size).
    max_quantity
        Upper bound of one add.
    rules
        The market: step, minimum quantity and notional, contract size.

    Returns
    -------
    Decimal
        The add's quantity, zero when no room is left.
    """
    side: Side = state.side
    per_unit = excursion(side, price, stop) * rules.contract_size
    if per_unit <= _ZERO:
        return _ZERO.quantize(rules.step)
    moved = PositionState(state.symbol, side, state.quantity, state.lots, stop, state.extreme)
    existing = moved.open_risk(rules.contract_size)
    assert existing is not None
    room = budget - existing
    if room <= _ZERO:
        return _ZERO.quantize(rules.step)
    qty = rules.quantize_qty(min(room / per_unit, max_quantity), Rounding.DOWN, price=price)
    # the division rounds at 28 digits; step down once if that rounding crossed the budget
    if qty > _ZERO and existing + qty * per_unit > budget:
        qty = rules.quantize_qty(qty - rules.step, Rounding.DOWN, price=price)
    return qty
