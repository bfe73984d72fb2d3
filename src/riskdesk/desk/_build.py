"""Building decisions: one place that turns the pipeline's floats into a Decision."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from riskdesk.domain import (
    Action,
    Adjustment,
    Decision,
    ExecutionMethod,
    Intent,
    ReasonCode,
    Side,
)

ZERO = Decimal(0)
ONE = Decimal(1)
#: Margin is reported to 1e-8 of the quote currency, rounded up: never understated.
MARGIN_QUANTUM = Decimal("0.00000001")
_LEVERAGES = {i: Decimal(i) for i in range(1, 201)}


def leverage_decimal(lev: int) -> Decimal:
    """The leverage as a Decimal (cached for the usual whole values)."""
    d = _LEVERAGES.get(lev)
    return Decimal(lev) if d is None else d


def margin_of(notional: Decimal, leverage: Decimal) -> Decimal:
    """``notional / leverage``, rounded up to :data:`MARGIN_QUANTUM`."""
    if leverage == ONE:
        return notional
    return (notional / leverage).quantize(MARGIN_QUANTUM, ROUND_CEILING)


def denied(action: Action, symbol: str, side: Side, intent: Intent, price: Decimal,
           trail: list[Adjustment], reasons: tuple[ReasonCode, ...], now: datetime, *,
           leverage: Decimal = ONE, binding: ReasonCode | None = None,
           method: ExecutionMethod = ExecutionMethod.LIMIT) -> Decision:
    """A decision that lets no order through (REJECT or HOLD): quantity and notional zero."""
    return Decision(action, symbol, side, intent, ZERO, price, ZERO, leverage, ZERO, method,
                    binding, tuple(trail), reasons, 0.0, (), now)


def reject_at(step: str, code: ReasonCode, note: str, symbol: str, side: Side, intent: Intent,
              price: Decimal, trail: list[Adjustment], now: datetime, size: float = 0.0,
              reasons: tuple[ReasonCode, ...] | None = None,
              leverage: Decimal = ONE) -> Decision:
    """Record a denial at ``step`` in the trail and return the REJECT decision."""
    trail.append(Adjustment(step, code, size, 0.0, note))
    return denied(Action.REJECT, symbol, side, intent, price, trail,
                  (code,) if reasons is None else reasons, now, leverage=leverage)
