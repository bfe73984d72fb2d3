"""Account, position and signal value types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from riskdesk.domain._memo import Memo
from riskdesk.domain._numbers import to_decimal
from riskdesk.errors import InvalidInputError

_ZERO = Decimal(0)
#: Smallest equity an account state may report (and its high-water mark and day and week
#: starts): below it, ratios to equity leave the range of floats. An account worth less is
#: refused as unusable rather than sized against.
MIN_EQUITY = Decimal("1e-8")


class Side(StrEnum):
    """Direction of a position or an order."""

    LONG = "LONG"
    SHORT = "SHORT"

    @property
    def sign(self) -> int:
        """+1 for long, -1 for short."""
        return 1 if self is Side.LONG else -1

    @property
    def opposite(self) -> Side:
        """The other side."""
        return Side.SHORT if self is Side.LONG else Side.LONG

    @classmethod
    def parse(cls, value: object, field: str = "side") -> Side:
        """Accept LONG/SHORT and the order words BUY/SELL, any case."""
        if isinstance(value, Side):
            return value
        text = str(value).strip().upper()
        if text in ("LONG", "BUY"):
            return cls.LONG
        if text in ("SHORT", "SELL"):
            return cls.SHORT
        raise InvalidInputError(field, value, "one of LONG, SHORT, BUY, SELL")


@dataclass(frozen=True, slots=True)
class Position:
    """An open position.

    Parameters
    ----------
    symbol
        Instrument.
    side
        LONG or SHORT.
    quantity
        Contracts (or units), > 0.
    entry_price
        Average entry price, > 0.
    mark_price
        Current mark price; defaults to ``entry_price``.
    leverage
        Leverage the position uses, >= 1.
    contract_size
        Units per contract.
    strategy
        Strategy that owns it, optional.
    score
        Current signal score of the position (opportunity-cost comparisons), optional.
    stop_price
        Protective stop, optional; used for open-risk figures.
    opened_at
        When the position was opened, optional.
    """

    symbol: str
    side: Side
    quantity: Decimal
    entry_price: Decimal
    mark_price: Decimal | None = None
    leverage: Decimal = Decimal(1)
    contract_size: Decimal = Decimal(1)
    strategy: str | None = None
    score: float | None = None
    stop_price: Decimal | None = None
    opened_at: datetime | None = None

    def __post_init__(self) -> None:
        s = object.__setattr__
        if not isinstance(self.symbol, str) or not self.symbol.strip():
            raise InvalidInputError("position.symbol", self.symbol, "a non-empty symbol")
        s(self, "side", Side.parse(self.side, "position.side"))
        s(self, "quantity", to_decimal(self.quantity, "position.quantity", allow_zero=False))
        s(self, "entry_price",
          to_decimal(self.entry_price, "position.entry_price", allow_zero=False))
        mark = self.entry_price if self.mark_price is None else self.mark_price
        s(self, "mark_price", to_decimal(mark, "position.mark_price", allow_zero=False))
        s(self, "leverage", to_decimal(self.leverage, "position.leverage", allow_zero=False))
        if self.leverage < 1:
            raise InvalidInputError("position.leverage", self.leverage, ">= 1")
        s(self, "contract_size",
          to_decimal(self.contract_size, "position.contract_size", allow_zero=False))
        if self.stop_price is not None:
            s(self, "stop_price",
              to_decimal(self.stop_price, "position.stop_price", allow_zero=False))

    @property
    def notional(self) -> Decimal:
        """Absolute market value at the mark price."""
        assert self.mark_price is not None
        return self.quantity * self.mark_price * self.contract_size

    @property
    def signed_notional(self) -> Decimal:
        """Market value, negative for shorts."""
        return self.notional * self.side.sign

    @property
    def margin(self) -> Decimal:
        """Initial margin the position ties up (notional / leverage)."""
        return self.notional / self.leverage

    @property
    def unrealized_pnl(self) -> Decimal:
        """Profit or loss at the mark price."""
        assert self.mark_price is not None
        return (self.mark_price - self.entry_price) * self.quantity * self.contract_size \
            * self.side.sign


class AccountFigures(NamedTuple):
    """An account state's figures as floats, computed once (:attr:`AccountState.figures`).

    Each figure is the float of the exact Decimal one: ``drawdown``, ``daily_pnl_pct`` and
    ``weekly_pnl_pct`` equal the properties of the same names, and each position's notional
    is its Decimal ``quantity x mark_price x contract_size`` turned into a float once, summed
    in position order. Treat the mappings as read-only: an account computes them once and
    hands the same object to every reader.

    Parameters
    ----------
    equity, available, buying_power, margin_used
        As on the account.
    drawdown
        Drawdown from the high-water mark as a positive fraction.
    daily_pnl_pct, weekly_pnl_pct
        Change since the start of the day and week, as fractions.
    net
        Sum of signed position notionals (long positive, short negative).
    gross
        Sum of absolute position notionals.
    by_symbol
        Signed notional per symbol.
    margin_by_symbol
        Initial margin per symbol (notional / the position's leverage).
    by_strategy
        Open positions per strategy name, upper-cased.
    """

    equity: float
    available: float
    buying_power: float
    margin_used: float
    drawdown: float
    daily_pnl_pct: float
    weekly_pnl_pct: float
    net: float
    gross: float
    by_symbol: dict[str, float]
    margin_by_symbol: dict[str, float]
    by_strategy: dict[str, int]


def _figures(a: AccountState) -> AccountFigures:
    net = gross = 0.0
    by_symbol: dict[str, float] = {}
    margin_by_symbol: dict[str, float] = {}
    by_strategy: dict[str, int] = {}
    long = Side.LONG
    for p in a.positions:
        # Position.notional, spelled out: this loop runs once per account state.
        n = float(p.quantity * p.mark_price * p.contract_size)  # type: ignore[operator]
        signed = n if p.side is long else -n
        net += signed
        gross += n
        sym = p.symbol
        if sym in by_symbol:
            by_symbol[sym] += signed
            margin_by_symbol[sym] += n / float(p.leverage)
        else:  # 0.0 + x, as the sums start from 0.0 (a -0.0 notional sums to 0.0)
            by_symbol[sym] = 0.0 + signed
            margin_by_symbol[sym] = 0.0 + n / float(p.leverage)
        if p.strategy is not None:
            key = p.strategy.upper()
            by_strategy[key] = by_strategy.get(key, 0) + 1
    assert a.buying_power is not None
    return AccountFigures(float(a.equity), float(a.available), float(a.buying_power),
                          float(a.margin_used), a.drawdown, a.daily_pnl_pct, a.weekly_pnl_pct,
                          net, gross, by_symbol, margin_by_symbol, by_strategy)


def _equity(value: object, field: str) -> Decimal:
    d = to_decimal(value, field, allow_zero=False)
    if d < MIN_EQUITY:
        raise InvalidInputError(field, value, f"an equity >= {MIN_EQUITY}")
    return d


@dataclass(frozen=True, slots=True)
class AccountState(Memo):
    """The account at decision time.

    Parameters
    ----------
    equity
        Account value: wallet balance plus unrealized PnL, > 0.
    available
        Balance free for new margin, >= 0.
    as_of
        When the state was read (timezone-aware). The desk refuses state older than the
        configured maximum age.
    margin_used
        Margin tied up by open positions and orders.
    unrealized_pnl
        Unrealized profit or loss, may be negative.
    buying_power
        What the broker lets the account buy; defaults to ``available``.
    positions
        Open positions, one net position per symbol: a second position in a symbol is
        refused (``InvalidInputError`` naming ``account.positions[i]``). Lots bought at
        different prices are one position at their quantity-weighted entry price; an account
        holding a long and a short in one symbol (exchange hedge mode) is not supported,
        since reducers, caps and exposure work on the net position of a symbol.
    high_water_mark
        Highest equity seen; defaults to ``equity``.
    day_start_equity, week_start_equity
        Equity at the start of the trading day and week; default to ``equity``.
    trades_today
        Opening orders already sent today (for trade-count limits), approved ones not yet
        filled included.
    pending_symbols
        Symbols with an approved opener whose fill the state does not show yet: each counts as
        an open position for the position limits.
    """

    equity: Decimal
    available: Decimal
    as_of: datetime | None = None
    margin_used: Decimal = _ZERO
    unrealized_pnl: Decimal = _ZERO
    buying_power: Decimal | None = None
    positions: tuple[Position, ...] = field(default_factory=tuple)
    high_water_mark: Decimal | None = None
    day_start_equity: Decimal | None = None
    week_start_equity: Decimal | None = None
    trades_today: int = 0
    pending_symbols: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "equity", _equity(self.equity, "account.equity"))
        s(self, "available", to_decimal(self.available, "account.available"))
        s(self, "margin_used", to_decimal(self.margin_used, "account.margin_used"))
        s(self, "unrealized_pnl",
          to_decimal(self.unrealized_pnl, "account.unrealized_pnl", allow_negative=True))
        bp = self.available if self.buying_power is None else self.buying_power
        s(self, "buying_power", to_decimal(bp, "account.buying_power"))
        hwm = self.equity if self.high_water_mark is None else self.high_water_mark
        s(self, "high_water_mark", max(to_decimal(hwm, "account.high_water_mark"), self.equity))
        for name in ("day_start_equity", "week_start_equity"):
            v = getattr(self, name)
            s(self, name, self.equity if v is None else _equity(v, f"account.{name}"))
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise InvalidInputError("account.as_of", self.as_of, "a timezone-aware datetime")
        if isinstance(self.trades_today, bool) or not isinstance(self.trades_today, int) \
                or self.trades_today < 0:
            raise InvalidInputError("account.trades_today", self.trades_today, "an int >= 0")
        pending = self.pending_symbols
        if not isinstance(pending, frozenset):
            if isinstance(pending, str) or not isinstance(pending, set | list | tuple):
                raise InvalidInputError("account.pending_symbols", pending, "a set of symbols")
            pending = frozenset(pending)
            s(self, "pending_symbols", pending)
        for sym in pending:
            if not isinstance(sym, str) or not sym:
                raise InvalidInputError("account.pending_symbols", sym, "a symbol")
        positions = tuple(self.positions)
        first: dict[str, int] = {}
        for i, p in enumerate(positions):
            if not isinstance(p, Position):
                raise InvalidInputError(f"account.positions[{i}]", p, "a Position")
            j = first.setdefault(p.symbol, i)
            if j != i:
                side = "the same side" if positions[j].side is p.side else "the other side"
                raise InvalidInputError(
                    f"account.positions[{i}]", p.symbol,
                    f"one net position per symbol: account.positions[{j}] already holds "
                    f"{p.symbol} ({side}); merge lots into one position (quantities summed, "
                    "entry price weighted by quantity). Hedge-mode accounts holding both "
                    "sides of a symbol are not supported")
        s(self, "positions", positions)
        s(self, "_memo", None)

    @property
    def figures(self) -> AccountFigures:
        """The account's figures and position sums as floats (:class:`AccountFigures`).

        The account is immutable, so they are computed on the first call and kept on it:
        every order decided against the same account state reads them for free.
        """
        try:
            figures: AccountFigures | None = self._memo
        except AttributeError:  # a copy made by pickle or copy arrives without the slot
            figures = None
        if figures is None:
            figures = _figures(self)
            object.__setattr__(self, "_memo", figures)
        return figures

    @property
    def drawdown(self) -> float:
        """Drawdown from the high-water mark as a positive fraction (0.12 = 12% down)."""
        assert self.high_water_mark is not None
        return float(1 - self.equity / self.high_water_mark)

    @property
    def margin_used_pct(self) -> float:
        """Margin used as a fraction of equity."""
        return float(self.margin_used / self.equity)

    @property
    def daily_pnl_pct(self) -> float:
        """Change since the start of the day as a fraction of day-start equity."""
        assert self.day_start_equity is not None
        return float(self.equity / self.day_start_equity - 1)

    @property
    def weekly_pnl_pct(self) -> float:
        """Change since the start of the week as a fraction of week-start equity."""
        assert self.week_start_equity is not None
        return float(self.equity / self.week_start_equity - 1)

    def position(self, symbol: str) -> Position | None:
        """The open position in ``symbol``, or ``None``."""
        for p in self.positions:
            if p.symbol == symbol:
                return p
        return None


class Regime(StrEnum):
    """Market regime labels the sizing adjustments understand."""

    STRONG_TREND = "STRONG_TREND"
    TRENDING = "TRENDING"
    NEUTRAL = "NEUTRAL"
    RANGING = "RANGING"
    VOLATILE = "VOLATILE"


@dataclass(frozen=True, slots=True)
class Signal:
    """What the bot wants to do.

    Parameters
    ----------
    symbol
        Instrument.
    side
        LONG or SHORT (BUY and SELL accepted).
    score
        Signal score in the caller's scale (seed 001 uses 0-100, seed 003 0-5); optional.
    strength
        Target weight or signal strength as a fraction (seed 000's ``target_weight``); optional.
    expected_return_pct
        Expected return in percent; optional.
    regime
        Market regime; optional.
    win_rate, win_loss_ratio
        Historical hit rate (0-1) and average win / average loss; optional, used by Kelly.
    stop_price
        Planned stop; optional, used by stop-distance sizing.
    strategy
        Strategy name; optional.
    reduce_only
        The order may only reduce an existing position.
    """

    symbol: str
    side: Side
    score: float | None = None
    strength: float | None = None
    expected_return_pct: float | None = None
    regime: Regime | None = None
    win_rate: float | None = None
    win_loss_ratio: float | None = None
    stop_price: Decimal | None = None
    strategy: str | None = None
    reduce_only: bool = False

    def __post_init__(self) -> None:
        s = object.__setattr__
        if not isinstance(self.symbol, str) or not self.symbol.strip():
            raise InvalidInputError("signal.symbol", self.symbol, "a non-empty symbol")
        s(self, "side", Side.parse(self.side, "signal.side"))
        for name in ("score", "strength", "expected_return_pct"):
            v = getattr(self, name)
            if v is not None:
                s(self, name, float(to_decimal(v, f"signal.{name}", allow_negative=True)))
        if self.win_rate is not None:
            w = float(to_decimal(self.win_rate, "signal.win_rate"))
            if w > 1:
                raise InvalidInputError("signal.win_rate", self.win_rate, "a fraction in [0, 1]")
            s(self, "win_rate", w)
        if self.win_loss_ratio is not None:
            s(self, "win_loss_ratio",
              float(to_decimal(self.win_loss_ratio, "signal.win_loss_ratio", allow_zero=False)))
        if self.regime is not None and not isinstance(self.regime, Regime):
            try:
                s(self, "regime", Regime(str(self.regime).upper()))
            except ValueError:
                raise InvalidInputError("signal.regime", self.regime,
                                        f"one of {[r.value for r in Regime]}") from None
        if self.stop_price is not None:
            s(self, "stop_price",
              to_decimal(self.stop_price, "signal.stop_price", allow_zero=False))
