"""Market rules and market snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from riskdesk.domain._numbers import Rounding, quantize_to_step, to_decimal
from riskdesk.errors import InvalidInputError

_ZERO = Decimal(0)
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class MarketRules:
    """The exchange's trading rules for one symbol.

    Parameters
    ----------
    symbol
        The instrument, as the broker names it.
    step
        Quantity increment (lot step), > 0.
    tick
        Price increment, > 0.
    min_qty
        Smallest tradable quantity (0 when the market has none).
    max_qty
        Largest quantity of one order, or ``None`` for no limit.
    min_notional
        Smallest order value in quote currency (0 when none).
    contract_size
        Units of the underlying per contract (1 for spot and linear perpetuals quoted per coin,
        100 for equity options).
    max_leverage
        Highest leverage the market allows (1 for cash markets).
    """

    symbol: str
    step: Decimal
    tick: Decimal
    min_qty: Decimal = _ZERO
    max_qty: Decimal | None = None
    min_notional: Decimal = _ZERO
    contract_size: Decimal = _ONE
    max_leverage: Decimal = _ONE

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol.strip():
            raise InvalidInputError("rules.symbol", self.symbol, "a non-empty symbol")
        s = object.__setattr__
        s(self, "step", to_decimal(self.step, "rules.step", allow_zero=False))
        s(self, "tick", to_decimal(self.tick, "rules.tick", allow_zero=False))
        s(self, "min_qty", to_decimal(self.min_qty, "rules.min_qty"))
        if self.max_qty is not None:
            s(self, "max_qty", to_decimal(self.max_qty, "rules.max_qty", allow_zero=False))
            if self.max_qty < self.min_qty:
                raise InvalidInputError("rules.max_qty", self.max_qty, ">= rules.min_qty")
        s(self, "min_notional", to_decimal(self.min_notional, "rules.min_notional"))
        s(self, "contract_size",
          to_decimal(self.contract_size, "rules.contract_size", allow_zero=False))
        s(self, "max_leverage",
          to_decimal(self.max_leverage, "rules.max_leverage", allow_zero=False))
        if self.max_leverage < 1:
            raise InvalidInputError("rules.max_leverage", self.max_leverage, ">= 1")

    def quantize_price(self, price: Decimal | float | int | str,
                       mode: Rounding = Rounding.HALF_EVEN) -> Decimal:
        """Round a price to the tick.

        Parameters
        ----------
        price
            The price, > 0.
        mode
            Rounding direction. Use ``FLOOR`` for a long's stop and a short's take-profit,
            ``CEILING`` for a short's stop and a long's take-profit when the safe side is wanted.

        Returns
        -------
        Decimal
            A positive multiple of the tick.
        """
        p = to_decimal(price, "price", allow_zero=False)
        q = quantize_to_step(p, self.tick, mode)
        if q <= 0:
            raise InvalidInputError("price", price, f"a price of at least one tick ({self.tick})")
        return q

    def quantize_qty(self, qty: Decimal | float | int | str, mode: Rounding = Rounding.DOWN,
                     *, price: Decimal | None = None) -> Decimal:
        """Round a quantity to the step, within the market's limits.

        The result is a multiple of ``step``, never above ``max_qty`` (rounded down onto the
        step grid), and either zero or at least ``min_qty`` (and, when ``price`` is given, at
        least ``min_notional`` in value). With the default ``DOWN`` mode the result never
        exceeds the input, so a quantity sized under a cap stays under it.

        Parameters
        ----------
        qty
            Quantity in contracts (or units for spot), >= 0.
        mode
            Rounding direction.
        price
            Optional price used to check ``min_notional``.

        Returns
        -------
        Decimal
            The executable quantity, possibly zero.
        """
        q = quantize_to_step(to_decimal(qty, "quantity"), self.step, mode)
        if self.max_qty is not None and q > self.max_qty:
            q = quantize_to_step(self.max_qty, self.step, Rounding.DOWN)
        if q < self.min_qty:
            return _ZERO.quantize(self.step)
        if price is not None and self.notional(q, price) < self.min_notional:
            return _ZERO.quantize(self.step)
        return q

    def notional(self, qty: Decimal, price: Decimal) -> Decimal:
        """Order value of ``qty`` contracts at ``price`` (qty x price x contract size)."""
        return qty * price * self.contract_size


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level of an order book side."""

    price: float
    size: float


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """What the desk knows about one market at decision time.

    Parameters
    ----------
    rules
        The market's trading rules.
    price
        Last trade or mark price, > 0.
    as_of
        When the price was observed (timezone-aware).
    bid, ask
        Best bid and ask, optional; when both are set, bid <= ask.
    atr
        Average true range in price units, optional.
    volatility
        Return volatility per period as a fraction (0.02 = 2%), optional.
    vix
        VIX level, optional (options and equity presets use it).
    bids, asks
        Optional order book levels, best first.
    """

    rules: MarketRules
    price: Decimal
    as_of: datetime | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    atr: Decimal | None = None
    volatility: float | None = None
    vix: float | None = None
    bids: tuple[BookLevel, ...] = field(default_factory=tuple)
    asks: tuple[BookLevel, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "price", to_decimal(self.price, "market.price", allow_zero=False))
        if self.bid is not None:
            s(self, "bid", to_decimal(self.bid, "market.bid", allow_zero=False))
        if self.ask is not None:
            s(self, "ask", to_decimal(self.ask, "market.ask", allow_zero=False))
        if self.bid is not None and self.ask is not None and self.bid > self.ask:
            raise InvalidInputError("market.bid", self.bid, f"<= market.ask ({self.ask})")
        if self.atr is not None:
            s(self, "atr", to_decimal(self.atr, "market.atr"))
        if self.volatility is not None:
            s(self, "volatility", float(to_decimal(self.volatility, "market.volatility")))
        if self.vix is not None:
            s(self, "vix", float(to_decimal(self.vix, "market.vix")))
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise InvalidInputError("market.as_of", self.as_of, "a timezone-aware datetime")
        for side_name in ("bids", "asks"):
            clean = []
            for i, lvl in enumerate(getattr(self, side_name)):
                p, z = (lvl.price, lvl.size) if isinstance(lvl, BookLevel) else lvl
                where = f"market.{side_name}[{i}]"
                clean.append(BookLevel(float(to_decimal(p, f"{where}.price", allow_zero=False)),
                                       float(to_decimal(z, f"{where}.size"))))
            s(self, side_name, tuple(clean))

    @property
    def symbol(self) -> str:
        """The market's symbol."""
        return self.rules.symbol

    @property
    def mid(self) -> Decimal | None:
        """Mid of bid and ask, or ``None`` when either is missing."""
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2

    @property
    def spread_bps(self) -> float | None:
        """Quoted spread in basis points of the mid, or ``None``."""
        mid = self.mid
        if mid is None or self.bid is None or self.ask is None:
            return None
        return float((self.ask - self.bid) / mid) * 1e4

    @property
    def atr_pct(self) -> float | None:
        """ATR as a fraction of price, falling back to ``volatility``."""
        if self.atr is not None:
            return float(self.atr / self.price)
        return self.volatility
