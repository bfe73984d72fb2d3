"""The local book: what the desk believes it holds, built from fills applied once each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from riskdesk.brokers import Fill, apply_fill
from riskdesk.domain import Position, Side, to_decimal
from riskdesk.errors import InvalidInputError
from riskdesk.reconcile._model import position_from_dict, position_to_dict

PositionKey = tuple[str, Side]


def position_key(p: Position) -> PositionKey:
    """``(symbol, side)``: positions are matched by both, which also covers hedge mode."""
    return (p.symbol, p.side)


def index_positions(positions: Iterable[Position], field_name: str) -> dict[PositionKey, Position]:
    """Positions by key; two positions with the same key are an input error."""
    out: dict[PositionKey, Position] = {}
    for i, p in enumerate(positions):
        if not isinstance(p, Position):
            raise InvalidInputError(f"{field_name}[{i}]", p, "a Position")
        key = position_key(p)
        if key in out:
            raise InvalidInputError(f"{field_name}[{i}]", f"{p.symbol} {p.side.value}",
                                    "one position per symbol and side")
        out[key] = p
    return out


@dataclass(frozen=True, slots=True)
class Book:
    """The desk's own record of its positions and cash.

    Parameters
    ----------
    positions
        Open positions, at most one per symbol and side (hedge mode holds both sides).
    cash
        Wallet balance the desk believes it has (equity without unrealized PnL), or ``None``
        when the book does not track cash (the first reconciliation then takes the broker's).
    fill_ids
        Ids of the fills already applied; applying one of them again changes nothing.
    """

    positions: tuple[Position, ...] = ()
    cash: Decimal | None = None
    fill_ids: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(index_positions(self.positions, "book.positions").values(),
                               key=lambda p: (p.symbol, p.side.value)))
        object.__setattr__(self, "positions", ordered)
        if self.cash is not None:
            object.__setattr__(self, "cash",
                               to_decimal(self.cash, "book.cash", allow_negative=True))
        object.__setattr__(self, "fill_ids", frozenset(self.fill_ids))

    def position(self, symbol: str, side: Side) -> Position | None:
        """The position in ``symbol`` on ``side``, or ``None``."""
        for p in self.positions:
            if p.symbol == symbol and p.side is side:
                return p
        return None

    def apply_fill(self, fill: Fill, *,
                   contract_size: Decimal | int | str | None = None) -> Book:
        """The book after ``fill``; the same book when the fill id was applied before.

        The fill nets against the position held in its symbol; realized PnL minus the fee is
        added to cash when cash is tracked. A position the fill opens takes ``contract_size``
        (where the paper broker takes it: the market's ``MarketRules.contract_size``); a fill
        into a held position keeps that position's contract size, and so does the position a
        flip opens.

        Parameters
        ----------
        fill
            The execution.
        contract_size
            Units per contract of the fill's market, > 0. Needed when the fill opens a
            position in a market whose contract is not one unit (0.01 BTC per contract, 100
            shares per option); without it a new position has contract size 1.

        Raises
        ------
        InvalidInputError
            If the book holds both sides of the symbol (a hedge-mode book cannot net a fill),
            or ``contract_size`` is not positive or differs from the held position's.
        """
        return self._apply(fill, contract_size, "contract_size")

    def apply_fills(self, fills: Iterable[Fill], *,
                    contract_sizes: Mapping[str, Decimal | int | str] | None = None) -> Book:
        """Apply fills in order; repeated ids are applied once.

        ``contract_sizes`` maps a symbol to its contract size, as ``contract_size`` does for
        :meth:`apply_fill`; symbols it does not name behave as without it.
        """
        sizes = contract_sizes or {}
        book = self
        for f in fills:
            book = book._apply(f, sizes.get(f.symbol), f"contract_sizes[{f.symbol}]")
        return book

    def _apply(self, fill: Fill, contract_size: Decimal | int | str | None,
               field_name: str) -> Book:
        size = None if contract_size is None else to_decimal(contract_size, field_name,
                                                             allow_zero=False)
        if fill.fill_id in self.fill_ids:
            return self
        held = [p for p in self.positions if p.symbol == fill.symbol]
        if len(held) > 1:
            raise InvalidInputError("fill.symbol", fill.symbol,
                                    "a symbol held on one side only (the book is hedged)")
        current = held[0] if held else None
        check_contract_size(current, size, contract_size, field_name)
        effect = apply_fill(current, fill, contract_size=size)
        rest = [p for p in self.positions if p.symbol != fill.symbol]
        if effect.position is not None:
            rest.append(effect.position)
        cash = None if self.cash is None else self.cash + effect.realized_pnl - fill.fee
        return replace(self, positions=tuple(rest), cash=cash,
                       fill_ids=self.fill_ids | {fill.fill_id})

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (fill ids sorted)."""
        return {"cash": None if self.cash is None else str(self.cash),
                "positions": [position_to_dict(p) for p in self.positions],
                "fill_ids": sorted(self.fill_ids)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Book:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict):
            raise InvalidInputError("book", data, "a book document")
        raw_positions = data.get("positions", [])
        if not isinstance(raw_positions, list):
            raise InvalidInputError("book.positions", raw_positions, "a list")
        ids = data.get("fill_ids", [])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise InvalidInputError("book.fill_ids", ids, "a list of ids")
        return cls(positions=tuple(position_from_dict(p, f"book.positions[{i}]")
                                   for i, p in enumerate(raw_positions)),
                   cash=data.get("cash"), fill_ids=frozenset(ids))


def check_contract_size(current: Position | None, size: Decimal | None, given: object,
                        field_name: str) -> None:
    """Refuse a fill's contract size (``given``, read as ``size``) unlike the held one's."""
    if current is not None and size is not None and size != current.contract_size:
        raise InvalidInputError(field_name, given, f"the contract size {current.contract_size} "
                                f"of the {current.symbol} position held")
