"""Position accounting for fills: netting, average entry price and realized PnL.

Pure functions shared by the paper broker and the reconciliation book. A fill on the side of
the position (or on a flat symbol) adds to it at the quantity-weighted average price; a fill
against it closes up to its size and realizes ``closed x (price - entry) x contract size`` in the
position's direction; whatever is left over opens a new position on the other side at the fill
price.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from riskdesk.domain import Position, Side, to_decimal
from riskdesk.errors import InvalidInputError

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution reported by a broker.

    Parameters
    ----------
    fill_id
        The broker's execution id; a fill is applied at most once per id.
    symbol
        Instrument.
    side
        ``LONG`` for a buy, ``SHORT`` for a sell (``"BUY"`` and ``"SELL"`` are accepted).
    quantity
        Executed quantity, > 0.
    price
        Execution price, > 0.
    at
        Execution time (timezone-aware).
    fee
        Fee paid in quote currency (negative for a rebate).
    strategy
        Strategy the order belonged to, when known.
    """

    fill_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    at: datetime
    fee: Decimal = _ZERO
    strategy: str | None = None

    def __post_init__(self) -> None:
        s = object.__setattr__
        if not isinstance(self.fill_id, str) or not self.fill_id.strip():
            raise InvalidInputError("fill.fill_id", self.fill_id, "a non-empty id")
        if not isinstance(self.symbol, str) or not self.symbol.strip():
            raise InvalidInputError("fill.symbol", self.symbol, "a non-empty symbol")
        s(self, "side", Side.parse(self.side, "fill.side"))
        s(self, "quantity", to_decimal(self.quantity, "fill.quantity", allow_zero=False))
        s(self, "price", to_decimal(self.price, "fill.price", allow_zero=False))
        s(self, "fee", to_decimal(self.fee, "fill.fee", allow_negative=True))
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise InvalidInputError("fill.at", self.at, "a timezone-aware datetime")


@dataclass(frozen=True, slots=True)
class FillEffect:
    """What a fill did to a position.

    Parameters
    ----------
    position
        The position after the fill, or ``None`` when it closed the position exactly.
    realized_pnl
        Profit or loss realized by the closing part of the fill (fees excluded).
    closed_quantity
        Quantity of the previous position the fill closed.
    """

    position: Position | None
    realized_pnl: Decimal
    closed_quantity: Decimal


def signed_quantity(position: Position | None) -> Decimal:
    """Quantity with the sign of the side (negative for shorts, zero for ``None``)."""
    if position is None:
        return _ZERO
    return position.quantity * position.side.sign


def apply_fill(position: Position | None, fill: Fill, *,
               contract_size: Decimal | None = None, leverage: Decimal | None = None) -> FillEffect:
    """Apply ``fill`` to the position held in its symbol.

    Parameters
    ----------
    position
        The current position in ``fill.symbol`` (one-way netting), or ``None`` when flat.
    fill
        The execution.
    contract_size
        Units per contract for a new position; defaults to the existing position's, else 1.
    leverage
        Leverage of a new position; defaults to the existing position's, else 1.

    Returns
    -------
    FillEffect
        The resulting position (mark set to the fill price), the realized PnL and the closed
        quantity.

    Raises
    ------
    InvalidInputError
        If ``position`` is for another symbol.
    """
    if position is not None and position.symbol != fill.symbol:
        raise InvalidInputError("position.symbol", position.symbol, f"{fill.symbol!r}")
    cs = contract_size if contract_size is not None else (
        position.contract_size if position is not None else Decimal(1))
    lev = leverage if leverage is not None else (
        position.leverage if position is not None else Decimal(1))
    if position is None or position.side is fill.side:
        if position is None:
            new = Position(symbol=fill.symbol, side=fill.side, quantity=fill.quantity,
                           entry_price=fill.price, mark_price=fill.price, leverage=lev,
                           contract_size=cs, strategy=fill.strategy, opened_at=fill.at)
        else:
            qty = position.quantity + fill.quantity
            avg = (position.quantity * position.entry_price + fill.quantity * fill.price) / qty
            new = replace(position, quantity=qty, entry_price=avg, mark_price=fill.price)
        return FillEffect(new, _ZERO, _ZERO)
    closed = min(position.quantity, fill.quantity)
    realized = closed * (fill.price - position.entry_price) * position.contract_size \
        * position.side.sign
    rest = position.quantity - fill.quantity
    if rest > 0:
        after: Position | None = replace(position, quantity=rest, mark_price=fill.price)
    elif rest == 0:
        after = None
    else:
        after = Position(symbol=fill.symbol, side=fill.side, quantity=-rest,
                         entry_price=fill.price, mark_price=fill.price, leverage=lev,
                         contract_size=cs, strategy=fill.strategy or position.strategy,
                         opened_at=fill.at)
    return FillEffect(after, realized, closed)
