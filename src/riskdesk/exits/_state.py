"""The managed position: lots, remaining quantity, current stop and rule bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from riskdesk.domain import Side
from riskdesk.errors import InvalidInputError
from riskdesk.exits._actions import Add, Close, ExitAction, MoveStop, Reduce
from riskdesk.exits._prices import beyond, excursion

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Lot:
    """One opening fill: the initial entry or a pyramid add."""

    quantity: Decimal
    entry: Decimal


@dataclass(frozen=True, slots=True)
class PositionState:
    """Where a managed position stands; the engine returns a new one after every call.

    Parameters
    ----------
    symbol, side
        The position.
    quantity
        Quantity still open (0 once closed).
    lots
        Every opening fill, initial entry first. Reductions are pro rata: they lower
        ``quantity`` and leave the lots (and so the average entry) as they were.
    stop
        The protective stop now, or ``None`` when the plan has none.
    extreme
        Best price seen since entry: highest high for a long, lowest low for a short.
    atr
        Latest ATR seen (from the plan, then from bars and ticks).
    targets_done
        Ladder levels already passed (filled, or skipped for a zero quantity).
    adds
        Pyramid adds made.
    break_even_done
        The break-even move has been made (or a tighter stop made it moot).
    trailing_active
        The trailing stop's activation threshold has been reached.
    last_ts
        Time of the last bar or tick processed.
    opened_at
        When the position was opened.
    """

    symbol: str
    side: Side
    quantity: Decimal
    lots: tuple[Lot, ...]
    stop: Decimal | None
    extreme: Decimal
    atr: Decimal | None = None
    targets_done: int = 0
    adds: int = 0
    break_even_done: bool = False
    trailing_active: bool = False
    last_ts: datetime | None = None
    opened_at: datetime | None = None

    @property
    def closed(self) -> bool:
        """True once nothing is open."""
        return self.quantity <= _ZERO

    @property
    def held(self) -> Decimal:
        """Total quantity ever opened (initial entry plus adds)."""
        return sum((lot.quantity for lot in self.lots), _ZERO)

    @property
    def reduced(self) -> bool:
        """True once part of the position has been taken off."""
        return self.quantity < self.held

    @property
    def average_entry(self) -> Decimal:
        """Quantity-weighted entry of the lots."""
        return sum((lot.quantity * lot.entry for lot in self.lots), _ZERO) / self.held

    def open_risk(self, contract_size: Decimal = Decimal(1)) -> Decimal | None:
        """Loss if the stop were hit now: the sum over lots of ``qty x loss per unit x size``.

        A lot's loss per unit is ``max(0, entry - stop)`` for a long (mirror for a short): a
        lot whose stop already sits in profit adds nothing. Lots are scaled pro rata by
        ``quantity / held`` after reductions.

        Returns
        -------
        Decimal or None
            The open risk, 0 when closed, ``None`` when there is no stop (risk unbounded).
        """
        if self.closed:
            return _ZERO
        if self.stop is None:
            return None
        stop = self.stop
        per_lot = sum((lot.quantity * max(_ZERO, excursion(self.side, lot.entry, stop))
                       for lot in self.lots), _ZERO)
        held = self.held
        if self.quantity != held:
            per_lot = per_lot * self.quantity / held
        return per_lot * contract_size

    def apply(self, action: ExitAction) -> PositionState:
        """The state after ``action`` is filled at its price.

        Raises
        ------
        InvalidInputError
            When the action does not fit: a stop that would loosen, a reduction larger than
            the position, a close of another quantity, an add after a reduction.
        """
        if self.closed:
            raise InvalidInputError("state.quantity", self.quantity, "an open position")
        if isinstance(action, MoveStop):
            if self.stop is not None and not beyond(self.side, action.stop, self.stop):
                raise InvalidInputError("action.stop", action.stop,
                                        f"tighter than the current stop {self.stop}")
            return replace(self, stop=action.stop)
        if isinstance(action, Reduce):
            if not _ZERO < action.quantity < self.quantity:
                raise InvalidInputError("action.quantity", action.quantity,
                                        f"> 0 and < the open quantity {self.quantity}")
            return replace(self, quantity=self.quantity - action.quantity,
                           targets_done=max(self.targets_done, action.level + 1))
        if isinstance(action, Close):
            if action.quantity != self.quantity:
                raise InvalidInputError("action.quantity", action.quantity,
                                        f"the open quantity {self.quantity}")
            done = self.targets_done if action.level is None \
                else max(self.targets_done, action.level + 1)
            return replace(self, quantity=_ZERO.quantize(self.quantity), targets_done=done)
        if not isinstance(action, Add):
            raise InvalidInputError("action", action, "a MoveStop, Reduce, Close or Add")
        if self.reduced:
            raise InvalidInputError("action", action, "no add after a partial exit")
        if action.quantity <= _ZERO:
            raise InvalidInputError("action.quantity", action.quantity, "> 0")
        return replace(self, quantity=self.quantity + action.quantity,
                       lots=(*self.lots, Lot(action.quantity, action.price)),
                       adds=self.adds + 1)
