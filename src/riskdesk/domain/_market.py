"""Market rules and market snapshots."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from riskdesk.domain._memo import Memo
from riskdesk.domain._numbers import MAX_MAGNITUDE, Rounding, quantize_to_step, to_decimal
from riskdesk.errors import InvalidInputError

_ZERO = Decimal(0)
_ONE = Decimal(1)
#: Largest step count the float path of :meth:`MarketRules.quantize_qty_down` handles; far
#: below 2**53, so a float count still resolves fractions of a step.
_FAST_UNITS = float(2**50)
#: Relative distance from a whole step count within which the float path defers to Decimal.
#: The float quotient is within ~4e-16 (relative) of the exact one; this margin is 2,500 times
#: wider.
_FAST_TIE = 1e-12

#: Largest quantity ``to_decimal`` accepts (``MAX_MAGNITUDE``), as a float.
_MAX_QTY = float(MAX_MAGNITUDE)



class RulesFloats(NamedTuple):
    """A market's rules as floats, for inner math (:attr:`MarketRules.floats`).

    Parameters
    ----------
    step, contract_size, max_leverage
        As on the rules.
    max_qty
        As on the rules, ``inf`` when there is none.
    """

    step: float
    contract_size: float
    max_leverage: float
    max_qty: float


class _Quantizer(NamedTuple):
    """What :meth:`MarketRules.quantize_qty_down` needs, worked out once per rules."""

    step: float  # the step as a float
    limit: float  # largest step count the float path handles
    max_units: int  # max_qty in whole steps, -1 without one
    at_max: Decimal  # what quantize_qty returns above max_qty
    min_units: int  # min_qty in whole steps, rounded up
    zero: Decimal  # zero on the step's exponent


class _RulesMemo(NamedTuple):
    floats: RulesFloats
    quantizer: _Quantizer


@dataclass(frozen=True, slots=True)
class MarketRules(Memo):
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
        s(self, "_memo", None)

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

    def quantize_qty_down(self, qty: float) -> Decimal:
        """``quantize_qty(qty, Rounding.DOWN)`` for a float, without the Decimal detour.

        The float ``qty / step`` decides the step count whenever it lies clearly between two
        whole counts: the exact quotient ``Decimal(repr(qty)) / step`` is then between the
        same two counts, and the Decimal result is built from that count. The market's
        ``max_qty`` and ``min_qty`` are compared as exact step counts. A quotient within a hair
        of a whole count, zero, negative, huge or not a number, and any ``qty`` that is not a
        ``float``, goes through :meth:`quantize_qty` itself, so the answer (or the error) is
        always the same; ``tests/property/test_fast_paths.py`` checks the equality.

        Parameters
        ----------
        qty
            Quantity in contracts (or units for spot), >= 0.

        Returns
        -------
        Decimal
            The executable quantity, possibly zero, exactly as :meth:`quantize_qty` gives it.
        """
        memo: _RulesMemo | None
        try:
            memo = self._memo
        except AttributeError:  # a copy made by pickle or copy arrives without the slot
            memo = None
        if memo is None:
            memo = self._remember()
        step_f, limit, max_units, at_max, min_units, zero = memo.quantizer
        if type(qty) is float and qty <= _MAX_QTY:
            u = qty / step_f
            if 0.0 < u < limit:
                n = int(u)
                frac = u - n
                tol = u * _FAST_TIE
                if tol < frac < 1.0 - tol:
                    if n > max_units >= 0:
                        return at_max
                    if n < min_units:
                        return zero
                    # An int times the step keeps the step's exponent, as quantize(step) does;
                    # the count is small enough for the product to be exact.
                    return self.step * n
        return self.quantize_qty(qty, Rounding.DOWN)

    @property
    def floats(self) -> RulesFloats:
        """The rules as floats (:class:`RulesFloats`), worked out once per rules object."""
        memo: _RulesMemo | None
        try:
            memo = self._memo
        except AttributeError:  # a copy made by pickle or copy arrives without the slot
            memo = None
        return (self._remember() if memo is None else memo).floats

    def _remember(self) -> _RulesMemo:
        floats = RulesFloats(float(self.step), float(self.contract_size),
                             float(self.max_leverage),
                             math.inf if self.max_qty is None else float(self.max_qty))
        memo = _RulesMemo(floats, self._quantizer(floats.step))
        object.__setattr__(self, "_memo", memo)
        return memo

    def _quantizer(self, step_f: float) -> _Quantizer:
        # Built once per rules object, so it is kept cheap: exact integer ratios, no Fraction.
        step = self.step
        zero = _ZERO.quantize(step)
        # Step count x coefficient within 26 digits: Decimal x int is exact in the default
        # context.
        limit = min(_FAST_UNITS, 10.0 ** (26 - len(step.as_tuple().digits)))
        sn, sd = step.as_integer_ratio()
        mn, md = self.min_qty.as_integer_ratio()
        min_units = -((-mn * sd) // (md * sn))  # ceil(min_qty / step), exactly
        if self.max_qty is None:
            max_units, at_max = -1, zero
        else:
            xn, xd = self.max_qty.as_integer_ratio()
            max_units = (xn * sd) // (xd * sn)  # floor(max_qty / step), exactly
            # What quantize_qty returns for any quantity above max_qty.
            try:
                at_max = quantize_to_step(self.max_qty, step, Rounding.DOWN)
            except InvalidOperation:
                # max_qty on the step grid needs more digits than the context holds:
                # quantize_qty raises for such a quantity, so every call goes through it.
                limit = 0.0
                at_max = zero
            if at_max < self.min_qty:
                at_max = zero
        return _Quantizer(step_f, limit, max_units, at_max, min_units, zero)

    def notional(self, qty: Decimal, price: Decimal) -> Decimal:
        """Order value of ``qty`` contracts at ``price`` (qty x price x contract size)."""
        return qty * price * self.contract_size


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level of an order book side."""

    price: float
    size: float


_LIMIT = float(MAX_MAGNITUDE)


def _plain_levels(levels: object) -> bool:
    """Whether ``levels`` are all levels :func:`_checked_level` would keep as they are.

    That is ``BookLevel`` s of floats, price in (0, 1e15] and size in [0, 1e15]. Brokers hand
    over their books in this form; checking it costs a fraction of converting every number
    through ``Decimal``.
    """
    for lvl in levels:  # type: ignore[attr-defined]
        if type(lvl) is not BookLevel:
            return False
        p, z = lvl.price, lvl.size
        if type(p) is not float or type(z) is not float \
                or not (0.0 < p <= _LIMIT and 0.0 <= z <= _LIMIT):  # NaN fails too
            return False
    return True


def _checked_level(lvl: Any, where: str) -> BookLevel:
    p, z = (lvl.price, lvl.size) if isinstance(lvl, BookLevel) else lvl
    return BookLevel(float(to_decimal(p, f"{where}.price", allow_zero=False)),
                     float(to_decimal(z, f"{where}.size")))


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
            levels = getattr(self, side_name)
            if not _plain_levels(levels):  # the checked path, naming the offending level
                levels = tuple(_checked_level(lvl, f"market.{side_name}[{i}]")
                               for i, lvl in enumerate(levels))
            s(self, side_name, tuple(levels))

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
