"""An embedded paper account: fills at the prices it is given, persisted in the store.

The account is a margin account in the quote currency. ``cash`` is the wallet balance: the
starting cash plus realized PnL minus fees (buying does not spend cash, it ties up margin).
Equity is cash plus unrealized PnL at the marks, margin used is each position's notional over
its leverage, and available is equity minus margin used. With leverage 1 (the default) this is
a cash account: a long ties up its full value. Positions net per symbol (one-way mode).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from riskdesk.brokers._ledger import Fill, apply_fill
from riskdesk.brokers._protocol import (
    KeyValueStore,
    OpenOrder,
    OrderBook,
    check_depth,
    check_symbol,
)
from riskdesk.brokers._synthetic import SyntheticBook
from riskdesk.domain import AccountState, BookLevel, MarketRules, Position, Side, to_decimal
from riskdesk.errors import BrokerError, InvalidInputError, UnknownSymbolError

_ZERO = Decimal(0)
_STATE_VERSION = 1


@runtime_checkable
class FillJournal(Protocol):
    """A store that also journals fills (``riskdesk.store`` does)."""

    def record_fill(self, fill_id: str, symbol: str, side: Side, qty: Decimal, price: Decimal,
                    fee: Decimal, strategy: str | None, at: datetime,
                    realized_pnl: Decimal | None = None) -> bool:
        """Record a fill; ``False`` when ``fill_id`` is already recorded."""
        ...


@dataclass(frozen=True, slots=True)
class PaperFill:
    """The outcome of :meth:`PaperBroker.fill`.

    Parameters
    ----------
    applied
        ``False`` when the fill id had been applied before and nothing changed.
    fill
        The fill as recorded.
    realized_pnl
        PnL the fill realized (fees excluded); zero for a duplicate.
    position
        The position in the symbol after the fill, or ``None`` when flat.
    """

    applied: bool
    fill: Fill
    realized_pnl: Decimal
    position: Position | None


class PaperBroker:
    """A simulated broker that fills at given prices and persists through a key-value store.

    Parameters
    ----------
    store
        Any object with ``get_kv(key)`` and ``put_kv(key, value)``; when it also has
        ``record_fill`` (as :mod:`riskdesk.store` does) every fill is journalled there too.
    rules
        Market rules of every tradable symbol.
    starting_cash
        Cash of a new account, > 0. An account already in the store keeps its stored state.
    account_id
        Name of the account; the state lives under the key ``"paper:<account_id>"``.
    leverage
        Leverage per symbol (default 1: a cash account); each at most the market's maximum.
    book
        Quote a :class:`SyntheticBook` around the mark of every symbol without a book set by
        :meth:`set_book`; without it such symbols have an empty book.

    Notes
    -----
    One process should drive one paper account: the state is held in memory and written after
    every change, so two writers would overwrite each other.
    """

    name = "paper"

    def __init__(self, store: KeyValueStore,
                 rules: Iterable[MarketRules] | Mapping[str, MarketRules], *,
                 starting_cash: Decimal | int | str, account_id: str = "default",
                 leverage: Mapping[str, Decimal | int | str] | None = None,
                 book: SyntheticBook | None = None) -> None:
        if not isinstance(account_id, str) or not account_id.strip():
            raise InvalidInputError("account_id", account_id, "a non-empty name")
        items = rules.values() if isinstance(rules, Mapping) else rules
        self._rules: dict[str, MarketRules] = {}
        for r in items:
            if not isinstance(r, MarketRules):
                raise InvalidInputError("rules", r, "MarketRules")
            self._rules[r.symbol] = r
        self._leverage: dict[str, Decimal] = {}
        for sym, lev in (leverage or {}).items():
            rule = self._rule(sym)
            value = to_decimal(lev, f"leverage[{sym}]", allow_zero=False)
            if not 1 <= value <= rule.max_leverage:
                raise InvalidInputError(f"leverage[{sym}]", lev,
                                        f"between 1 and the market's {rule.max_leverage}")
            self._leverage[sym] = value
        cash = to_decimal(starting_cash, "starting_cash", allow_zero=False)
        if book is not None and not isinstance(book, SyntheticBook):
            raise InvalidInputError("book", book, "a SyntheticBook or None")
        self._synthetic = book
        self._store = store
        self._key = f"paper:{account_id}"
        self._books: dict[str, OrderBook] = {}
        stored = store.get_kv(self._key)
        if stored is None:
            self._state = _new_state(cash)
            store.put_kv(self._key, self._state)
        else:
            self._state = _check_state(stored, self._key)
        self._positions = {s: _position_from(s, d, self._rule(s), self._lev(s))
                           for s, d in self._state["positions"].items()}
        self._fill_ids: set[str] = set(self._state["fill_ids"])
        # Journal the last applied fill again in case the process died before journalling it
        # (the journal ignores a fill id it already holds).
        self._journal(self._state.get("last_fill"))

    # --- Broker protocol -------------------------------------------------------------------

    def account(self, now: datetime) -> AccountState:
        """The paper account at the current marks.

        Parameters
        ----------
        now
            Timestamp of the state (timezone-aware).

        Returns
        -------
        AccountState
            Equity, available, margin used, unrealized PnL and positions.

        Raises
        ------
        BrokerError
            If losses have taken equity to zero or below.
        """
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise InvalidInputError("now", now, "a timezone-aware datetime")
        positions = self.positions()
        unrealized = sum((p.unrealized_pnl for p in positions), _ZERO)
        margin = sum((p.margin for p in positions), _ZERO)
        equity = self.cash + unrealized
        if equity <= 0:
            raise BrokerError(f"paper account {self._key!r} has no equity left ({equity})")
        return AccountState(equity=equity, available=max(equity - margin, _ZERO), as_of=now,
                            margin_used=margin, unrealized_pnl=unrealized,
                            positions=tuple(positions))

    def positions(self) -> list[Position]:
        """Open positions, marked at the last price set or filled."""
        marks = self._state["marks"]
        return [replace(p, mark_price=Decimal(marks[s])) if s in marks else p
                for s, p in sorted(self._positions.items())]

    def open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        """Always empty: paper orders fill at once."""
        if symbol is not None:
            self._rule(check_symbol(symbol))
        return []

    def market_rules(self, symbol: str) -> MarketRules:
        """Rules given at construction; ``UnknownSymbolError`` for any other symbol."""
        return self._rule(check_symbol(symbol))

    def order_book(self, symbol: str, depth: int = 20) -> OrderBook:
        """The book set with :meth:`set_book`, cut to ``depth``.

        Without one: the synthetic book around the mark when the broker has one configured
        and the symbol a mark, else an empty book.
        """
        rule = self._rule(check_symbol(symbol))
        check_depth(depth)
        book = self._books.get(symbol)
        if book is None:
            mark = self._state["marks"].get(symbol)
            if self._synthetic is None or mark is None:
                return OrderBook(symbol=symbol)
            return self._synthetic.quote(Decimal(mark), rule, depth)
        return OrderBook(symbol, book.bids[:depth], book.asks[:depth], book.as_of)

    def last_price(self, symbol: str) -> Decimal | None:
        """The mark set with :meth:`set_price` or by the last fill, or ``None``."""
        self._rule(check_symbol(symbol))
        mark = self._state["marks"].get(symbol)
        return None if mark is None else Decimal(mark)

    # --- paper controls --------------------------------------------------------------------

    @property
    def cash(self) -> Decimal:
        """Wallet balance: starting cash + realized PnL - fees."""
        return Decimal(self._state["cash"])

    @property
    def realized_pnl(self) -> Decimal:
        """Realized PnL of all fills, fees excluded."""
        return Decimal(self._state["realized_pnl"])

    @property
    def fees_paid(self) -> Decimal:
        """Fees of all fills."""
        return Decimal(self._state["fees"])

    def set_price(self, symbol: str, price: Decimal | int | str) -> None:
        """Mark ``symbol`` at ``price`` (> 0); persisted."""
        self._rule(check_symbol(symbol))
        p = to_decimal(price, "price", allow_zero=False)
        self._state = {**self._state, "marks": {**self._state["marks"], symbol: str(p)}}
        self._store.put_kv(self._key, self._state)

    def set_book(self, symbol: str, bids: Iterable[tuple[Any, Any]],
                 asks: Iterable[tuple[Any, Any]]) -> None:
        """Give ``symbol`` an order book (``(price, size)`` rows, best first); not persisted."""
        self._rule(check_symbol(symbol))
        self._books[symbol] = OrderBook(
            symbol,
            tuple(BookLevel(float(to_decimal(p, "bids.price", allow_zero=False)),
                            float(to_decimal(z, "bids.size"))) for p, z in bids),
            tuple(BookLevel(float(to_decimal(p, "asks.price", allow_zero=False)),
                            float(to_decimal(z, "asks.size"))) for p, z in asks))

    def fill(self, symbol: str, side: Side | str, qty: Decimal | int | str,
             price: Decimal | int | str, *, fee_rate: Decimal | int | str, fill_id: str,
             now: datetime, strategy: str | None = None) -> PaperFill:
        """Execute ``qty`` of ``symbol`` at ``price`` and persist the account.

        Parameters
        ----------
        symbol
            A symbol with rules.
        side
            ``BUY``/``LONG`` or ``SELL``/``SHORT``.
        qty
            Quantity, > 0, a multiple of the market's step.
        price
            Execution price, > 0, a multiple of the market's tick.
        fee_rate
            Fee as a fraction of the fill's notional (negative for a maker rebate), |rate| < 1.
        fill_id
            Execution id; a second fill with the same id changes nothing.
        now
            Execution time (timezone-aware).
        strategy
            Strategy the order belonged to, optional.

        Returns
        -------
        PaperFill
            Whether it was applied, the realized PnL and the position after.

        Raises
        ------
        InvalidInputError
            For a bad argument; nothing is written.
        UnknownSymbolError
            For a symbol without rules.
        BrokerError
            If a fill that adds exposure would need more margin than is available (a real broker
            would reject the order).
        """
        rule = self._rule(check_symbol(symbol))
        if not isinstance(fill_id, str) or not fill_id.strip():
            raise InvalidInputError("fill_id", fill_id, "a non-empty id")
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise InvalidInputError("now", now, "a timezone-aware datetime")
        q = to_decimal(qty, "qty", allow_zero=False)
        p = to_decimal(price, "price", allow_zero=False)
        if q % rule.step != 0:
            raise InvalidInputError("qty", qty, f"a multiple of the step {rule.step}")
        if p % rule.tick != 0:
            raise InvalidInputError("price", price, f"a multiple of the tick {rule.tick}")
        rate = to_decimal(fee_rate, "fee_rate", allow_negative=True)
        if abs(rate) >= 1:
            raise InvalidInputError("fee_rate", fee_rate, "a fraction with |rate| < 1")
        fee = q * p * rule.contract_size * rate
        f = Fill(fill_id=fill_id, symbol=symbol, side=Side.parse(side), quantity=q, price=p,
                 at=now, fee=fee, strategy=strategy)
        current = self._positions.get(symbol)
        if fill_id in self._fill_ids:
            return PaperFill(False, f, _ZERO, current)
        effect = apply_fill(current, f, contract_size=rule.contract_size,
                            leverage=self._lev(symbol))
        new_positions = dict(self._positions)
        if effect.position is None:
            new_positions.pop(symbol, None)
        else:
            new_positions[symbol] = effect.position
        cash = self.cash + effect.realized_pnl - fee
        self._check_margin(current, effect.position, new_positions, cash, symbol, p)
        # The journal wants PnL net of the fee's closing share, and None for a pure opener.
        journal_pnl = None if effect.closed_quantity == 0 else \
            effect.realized_pnl - fee * effect.closed_quantity / q
        old_state, old_positions = self._state, self._positions
        self._state = {
            **self._state,
            "cash": str(cash),
            "realized_pnl": str(self.realized_pnl + effect.realized_pnl),
            "fees": str(self.fees_paid + fee),
            "positions": {s: _position_to(pos) for s, pos in new_positions.items()},
            "marks": {**self._state["marks"], symbol: str(p)},
            "fill_ids": [*self._state["fill_ids"], fill_id],
            "last_fill": _fill_to(f, journal_pnl),
        }
        self._positions = new_positions
        self._fill_ids.add(fill_id)
        # Account first, journal second: if the process dies in between, the next start
        # journals ``last_fill`` again (see __init__), so no applied fill is ever missing.
        self._store.put_kv(self._key, self._state)
        try:
            journaled = self._journal(self._state["last_fill"])
        except BaseException:
            self._undo(old_state, old_positions, fill_id)
            raise
        if journaled is False:
            # The journal already holds this id from elsewhere: the fill was seen before.
            self._undo(old_state, old_positions, fill_id)
            return PaperFill(False, f, _ZERO, current)
        return PaperFill(True, f, effect.realized_pnl, effect.position)

    # --- internals -------------------------------------------------------------------------

    def _rule(self, symbol: str) -> MarketRules:
        try:
            return self._rules[symbol]
        except KeyError:
            raise UnknownSymbolError(f"paper broker has no market rules for {symbol!r}") from None

    def _lev(self, symbol: str) -> Decimal:
        return self._leverage.get(symbol, Decimal(1))

    def _journal(self, doc: Mapping[str, Any] | None) -> bool | None:
        if doc is None or not isinstance(self._store, FillJournal):
            return None
        pnl = doc["realized_pnl"]
        return self._store.record_fill(
            doc["fill_id"], doc["symbol"], Side.parse(doc["side"]), Decimal(doc["quantity"]),
            Decimal(doc["price"]), Decimal(doc["fee"]), doc["strategy"],
            datetime.fromisoformat(doc["at"]), realized_pnl=None if pnl is None else Decimal(pnl))

    def _undo(self, state: dict[str, Any], positions: dict[str, Position], fill_id: str) -> None:
        self._state, self._positions = state, positions
        self._fill_ids.discard(fill_id)
        self._store.put_kv(self._key, self._state)

    def _check_margin(self, before: Position | None, after: Position | None,
                      positions: Mapping[str, Position], cash: Decimal, symbol: str,
                      price: Decimal) -> None:
        before_q = before.quantity if before is not None else _ZERO
        adds = after is not None and (before is None or after.side is not before.side
                                      or after.quantity > before_q)
        if not adds:
            return
        marks = {**self._state["marks"], symbol: str(price)}
        marked = [replace(p, mark_price=Decimal(marks[s])) if s in marks else p
                  for s, p in positions.items()]
        equity = cash + sum((p.unrealized_pnl for p in marked), _ZERO)
        margin = sum((p.margin for p in marked), _ZERO)
        if margin > equity:
            raise BrokerError(f"insufficient margin for {symbol}: needs {margin}, equity {equity}")


def _new_state(cash: Decimal) -> dict[str, Any]:
    return {"version": _STATE_VERSION, "cash": str(cash), "realized_pnl": "0", "fees": "0",
            "positions": {}, "marks": {}, "fill_ids": []}


def _check_state(stored: dict[str, Any], key: str) -> dict[str, Any]:
    """The stored state, or a :class:`BrokerError` naming what is unusable in it."""
    if not isinstance(stored, dict) or stored.get("version") != _STATE_VERSION:
        raise BrokerError(f"stored paper account {key!r} has an unknown format")
    for name in ("positions", "marks"):
        if not isinstance(stored.get(name), dict):
            raise BrokerError(f"stored paper account {key!r} lacks {name}")
    if not isinstance(stored.get("fill_ids"), list):
        raise BrokerError(f"stored paper account {key!r} lacks fill_ids")
    try:
        for name in ("cash", "realized_pnl", "fees"):
            to_decimal(stored.get(name), f"{key}.{name}", allow_negative=True)
        for sym, mark in stored["marks"].items():
            to_decimal(mark, f"{key}.marks.{sym}", allow_zero=False)
        for sym, pos in stored["positions"].items():
            if not isinstance(pos, dict):
                raise InvalidInputError(f"{key}.positions.{sym}", pos, "a position document")
            Side.parse(pos.get("side"), f"{key}.positions.{sym}.side")
            to_decimal(pos.get("quantity"), f"{key}.positions.{sym}.quantity", allow_zero=False)
            to_decimal(pos.get("entry_price"), f"{key}.positions.{sym}.entry_price",
                       allow_zero=False)
    except InvalidInputError as exc:
        raise BrokerError(f"stored paper account is unusable: {exc}") from exc
    return stored


def _fill_to(f: Fill, journal_pnl: Decimal | None) -> dict[str, Any]:
    return {"fill_id": f.fill_id, "symbol": f.symbol, "side": f.side.value,
            "quantity": str(f.quantity), "price": str(f.price), "fee": str(f.fee),
            "strategy": f.strategy, "at": f.at.isoformat(),
            "realized_pnl": None if journal_pnl is None else str(journal_pnl)}


def _position_to(p: Position) -> dict[str, Any]:
    return {"side": p.side.value, "quantity": str(p.quantity), "entry_price": str(p.entry_price),
            "strategy": p.strategy,
            "opened_at": None if p.opened_at is None else p.opened_at.isoformat()}


def _position_from(symbol: str, d: dict[str, Any], rule: MarketRules, lev: Decimal) -> Position:
    opened = d.get("opened_at")
    return Position(symbol=symbol, side=Side.parse(d["side"]), quantity=Decimal(d["quantity"]),
                    entry_price=Decimal(d["entry_price"]), leverage=lev,
                    contract_size=rule.contract_size, strategy=d.get("strategy"),
                    opened_at=None if opened is None else datetime.fromisoformat(opened))
