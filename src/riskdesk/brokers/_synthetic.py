"""A synthetic order book for the paper broker: a liquid market simulated around the mark."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from riskdesk.brokers._protocol import OrderBook
from riskdesk.domain import BookLevel, MarketRules, Rounding, quantize_to_step, to_decimal
from riskdesk.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class SyntheticBook:
    """A made-up order book around the mark, for paper trading only.

    A paper account has no market to quote it a book, and desks that guard the spread or size
    against depth would then refuse every order that does not carry its own quote. This book
    stands in for one: best bid and ask ``half_spread_bps`` from the mark, then ``levels``
    levels per side ``level_step_bps`` apart, each resting ``level_notional`` of the quote
    currency. Prices are rounded away from the mark to the market's tick. It is a simulation
    of a liquid market, not a model of any real one.

    Parameters
    ----------
    half_spread_bps
        Distance of the best bid and ask from the mark, in basis points, > 0.
    levels
        Levels per side, >= 1.
    level_step_bps
        Distance between consecutive levels, in basis points, > 0.
    level_notional
        Value resting at each level (quote currency), > 0.
    """

    half_spread_bps: float = 2.0
    levels: int = 10
    level_step_bps: float = 1.0
    level_notional: Decimal = Decimal(250_000)

    def __post_init__(self) -> None:
        for name in ("half_spread_bps", "level_step_bps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not 0 < value < 5000:
                raise InvalidInputError(f"book.{name}", value, "basis points in (0, 5000)")
        if isinstance(self.levels, bool) or not isinstance(self.levels, int) \
                or not 1 <= self.levels <= 500:
            raise InvalidInputError("book.levels", self.levels, "an int in [1, 500]")
        object.__setattr__(self, "level_notional", to_decimal(
            self.level_notional, "book.level_notional", allow_zero=False))

    def quote(self, mark: Decimal, rules: MarketRules, depth: int) -> OrderBook:
        """The book around ``mark``, at most ``depth`` levels per side."""
        # Marks change rarely and the book is immutable: the same one is reused.
        return _quote(self, mark, rules, depth)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the notional as a string)."""
        return {"half_spread_bps": self.half_spread_bps, "levels": self.levels,
                "level_step_bps": self.level_step_bps,
                "level_notional": str(self.level_notional)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SyntheticBook:
        """Inverse of :meth:`to_dict`; missing keys take the defaults."""
        if not isinstance(data, Mapping):
            raise InvalidInputError("book", data, "a synthetic book's settings")
        unknown = set(data) - {"half_spread_bps", "levels", "level_step_bps", "level_notional"}
        if unknown:
            raise InvalidInputError(f"book.{sorted(unknown)[0]}", data, "a known setting")
        return cls(**data)


@lru_cache(maxsize=256)
def _quote(book: SyntheticBook, mark: Decimal, rules: MarketRules, depth: int) -> OrderBook:
    bids: list[BookLevel] = []
    asks: list[BookLevel] = []
    unit = float(book.level_notional) / float(rules.contract_size)
    for k in range(min(depth, book.levels)):
        away = Decimal(repr((book.half_spread_bps + k * book.level_step_bps) / 1e4))
        bid = quantize_to_step(mark * (1 - away), rules.tick, Rounding.FLOOR)
        ask = quantize_to_step(mark * (1 + away), rules.tick, Rounding.CEILING)
        # Coarse ticks can round two levels onto one price: step a tick further out.
        if bids and bid >= Decimal(repr(bids[-1].price)):
            bid = Decimal(repr(bids[-1].price)) - rules.tick
        if asks and ask <= Decimal(repr(asks[-1].price)):
            ask = Decimal(repr(asks[-1].price)) + rules.tick
        if bid > 0:
            bids.append(BookLevel(float(bid), unit / float(bid)))
        asks.append(BookLevel(float(ask), unit / float(ask)))
    return OrderBook(rules.symbol, tuple(bids), tuple(asks))
