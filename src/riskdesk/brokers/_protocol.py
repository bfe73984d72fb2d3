"""The one small interface every broker implements, and the few types it returns.

Account state, positions and market rules come back as :mod:`riskdesk.domain` types; only open
orders and order books have their own small frozen types here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any, Protocol, runtime_checkable

from riskdesk.domain import (
    AccountState,
    BookLevel,
    MarketRules,
    MarketSnapshot,
    Position,
    Side,
    to_decimal,
)
from riskdesk.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order resting at the broker.

    Parameters
    ----------
    order_id
        The broker's id.
    symbol
        Instrument.
    side
        ``LONG`` for a buy, ``SHORT`` for a sell.
    quantity
        Ordered quantity (contracts or units), > 0.
    filled
        Quantity already filled, between 0 and ``quantity``.
    price
        Limit price, or ``None`` for market and stop-market orders.
    order_type
        The broker's order type in lower case (``"limit"``, ``"market"``, ``"stop_market"``...).
    reduce_only
        The order can only reduce a position.
    client_order_id
        The id the client chose, when there is one.
    created_at
        When the order was placed, when known (timezone-aware).
    """

    order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    filled: Decimal = Decimal(0)
    price: Decimal | None = None
    order_type: str = "limit"
    reduce_only: bool = False
    client_order_id: str | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        s = object.__setattr__
        if not self.order_id:
            raise InvalidInputError("order.order_id", self.order_id, "a non-empty id")
        if not isinstance(self.symbol, str) or not self.symbol.strip():
            raise InvalidInputError("order.symbol", self.symbol, "a non-empty symbol")
        s(self, "side", Side.parse(self.side, "order.side"))
        s(self, "quantity", to_decimal(self.quantity, "order.quantity", allow_zero=False))
        s(self, "filled", to_decimal(self.filled, "order.filled"))
        if self.filled > self.quantity:
            raise InvalidInputError("order.filled", self.filled,
                                    f"<= order.quantity ({self.quantity})")
        if self.price is not None:
            s(self, "price", to_decimal(self.price, "order.price", allow_zero=False))
        if self.created_at is not None and self.created_at.tzinfo is None:
            raise InvalidInputError("order.created_at", self.created_at,
                                    "a timezone-aware datetime")

    @property
    def remaining(self) -> Decimal:
        """Quantity still to fill."""
        return self.quantity - self.filled


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Both sides of an order book, best level first.

    Parameters
    ----------
    symbol
        Instrument.
    bids, asks
        Price levels; bids descending, asks ascending.
    as_of
        When the exchange produced the book, when it says (timezone-aware).
    """

    symbol: str
    bids: tuple[BookLevel, ...] = field(default_factory=tuple)
    asks: tuple[BookLevel, ...] = field(default_factory=tuple)
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        bids, asks = tuple(self.bids), tuple(self.asks)
        if any(a.price <= b.price for a, b in pairwise(bids)):
            raise InvalidInputError("book.bids", bids, "prices strictly descending")
        if any(b.price <= a.price for a, b in pairwise(asks)):
            raise InvalidInputError("book.asks", asks, "prices strictly ascending")
        if bids and asks and bids[0].price > asks[0].price:
            raise InvalidInputError("book.bids", bids[0].price, f"<= best ask ({asks[0].price})")
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise InvalidInputError("book.as_of", self.as_of, "a timezone-aware datetime")
        object.__setattr__(self, "bids", bids)
        object.__setattr__(self, "asks", asks)

    @property
    def best_bid(self) -> Decimal | None:
        """Highest bid, or ``None`` when the bid side is empty."""
        return Decimal(repr(self.bids[0].price)) if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        """Lowest ask, or ``None`` when the ask side is empty."""
        return Decimal(repr(self.asks[0].price)) if self.asks else None

    def snapshot(self, rules: MarketRules, price: Decimal, as_of: datetime) -> MarketSnapshot:
        """The market snapshot the desk takes, built from this book.

        Parameters
        ----------
        rules
            The market's rules (from :meth:`Broker.market_rules`).
        price
            Last or mark price.
        as_of
            When the price and book were observed.

        Returns
        -------
        MarketSnapshot
            With best bid and ask and every level of the book.
        """
        return MarketSnapshot(rules=rules, price=price, as_of=as_of, bid=self.best_bid,
                              ask=self.best_ask, bids=self.bids, asks=self.asks)


@runtime_checkable
class Broker(Protocol):
    """What riskdesk needs from a broker: read-only views of the account and its markets.

    Every method either returns trustworthy, validated values or raises: a
    :class:`~riskdesk.errors.BrokerError` when the broker failed or sent unusable data, an
    :class:`~riskdesk.errors.UnknownSymbolError` for a symbol it does not list.
    """

    name: str

    def account(self, now: datetime) -> AccountState:
        """The account, with its open positions, stamped ``as_of=now``."""
        ...

    def positions(self) -> list[Position]:
        """Open positions (never a zero quantity)."""
        ...

    def open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        """Orders resting at the broker, for one symbol or all."""
        ...

    def market_rules(self, symbol: str) -> MarketRules:
        """Trading rules of ``symbol``."""
        ...

    def order_book(self, symbol: str, depth: int = 20) -> OrderBook:
        """Up to ``depth`` levels of each side of the book."""
        ...

    def last_price(self, symbol: str) -> Decimal | None:
        """Last trade or mark price, or ``None`` when the broker has none."""
        ...


class KeyValueStore(Protocol):
    """The part of the store the paper broker persists itself through."""

    def get_kv(self, key: str) -> dict[str, Any] | None:
        """The JSON document stored under ``key``, or ``None``."""
        ...

    def put_kv(self, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` (a JSON document) under ``key``, replacing what was there."""
        ...


def check_depth(depth: int) -> int:
    """Validate an order-book depth argument (an int between 1 and 5000)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 5000:
        raise InvalidInputError("depth", depth, "an int between 1 and 5000")
    return depth


def check_symbol(symbol: object) -> str:
    """Validate a symbol argument (a non-empty string)."""
    if not isinstance(symbol, str) or not symbol.strip():
        raise InvalidInputError("symbol", symbol, "a non-empty symbol")
    return symbol


def levels(raw: object, field_name: str, depth: int) -> tuple[BookLevel, ...]:
    """Convert ``[[price, size], ...]`` rows into validated book levels (at most ``depth``)."""
    if not isinstance(raw, list | tuple):
        raise InvalidInputError(field_name, raw, "a list of [price, size] rows")
    out = []
    for i, row in enumerate(raw[:depth]):
        if not isinstance(row, list | tuple | Mapping) or len(row) < 2:
            raise InvalidInputError(f"{field_name}[{i}]", row, "a [price, size] row")
        p, z = (row["price"], row["size"]) if isinstance(row, Mapping) else (row[0], row[1])
        price = to_decimal(p, f"{field_name}[{i}].price", allow_zero=False)
        size = to_decimal(z, f"{field_name}[{i}].size")
        out.append(BookLevel(float(price), float(size)))
    return tuple(out)
