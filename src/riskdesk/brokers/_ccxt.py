"""A broker on any exchange ccxt supports, spot or derivatives.

Every number ccxt hands back (floats, strings or ``None``) is converted to a finite
``Decimal`` through its shortest text (:func:`riskdesk.domain.to_decimal`) and validated.
Market precision is turned into a step and a tick whatever the exchange's precision mode; ccxt's
own float rounding helpers are never used, the engine quantizes with :class:`MarketRules`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import ccxt

from riskdesk.brokers._protocol import OpenOrder, OrderBook, check_depth, check_symbol, levels
from riskdesk.domain import AccountState, MarketRules, Position, Side, to_decimal
from riskdesk.errors import BrokerError, InvalidInputError, UnknownSymbolError

_ZERO = Decimal(0)
_ONE = Decimal(1)

#: ccxt's precision modes (``ccxt.base.decimal_to_precision``).
DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
TICK_SIZE = 4

MarketType = Literal["spot", "swap", "future"]


def precision_to_step(value: object, mode: int, field: str, *,
                      reference: Decimal | None = None) -> Decimal:
    """Convert a ccxt precision value into a step (or tick) Decimal.

    Parameters
    ----------
    value
        ``market["precision"]["amount"]`` or ``["price"]``.
    mode
        The exchange's ``precisionMode``: ``TICK_SIZE`` (the value is the step),
        ``DECIMAL_PLACES`` (the value is a count of decimals) or ``SIGNIFICANT_DIGITS`` (a count
        of significant digits, whose step depends on the magnitude of ``reference``).
    field
        Name used in errors.
    reference
        The value the step applies to, needed in ``SIGNIFICANT_DIGITS`` mode.

    Returns
    -------
    Decimal
        The increment, > 0.

    Raises
    ------
    InvalidInputError
        If the value is missing or unusable for the mode.
    """
    if value is None:
        raise InvalidInputError(field, value, "a precision value")
    if mode == TICK_SIZE:
        return to_decimal(value, field, allow_zero=False)
    digits = to_decimal(value, field, allow_negative=True)
    if digits != digits.to_integral_value():
        raise InvalidInputError(field, value, "a whole number of digits")
    n = int(digits)
    if mode == DECIMAL_PLACES:
        return _ONE.scaleb(-n)
    if mode == SIGNIFICANT_DIGITS:
        if n < 1:
            raise InvalidInputError(field, value, "at least one significant digit")
        if reference is None or reference <= 0:
            raise InvalidInputError(f"{field}.reference", reference,
                                    "a positive value to size significant digits against")
        return _ONE.scaleb(reference.adjusted() - n + 1)
    raise InvalidInputError("precisionMode", mode,
                            "TICK_SIZE, DECIMAL_PLACES or SIGNIFICANT_DIGITS")


@contextmanager
def _untrusted(what: str) -> Iterator[None]:
    """Turn ccxt failures and unusable replies into :class:`BrokerError`."""
    try:
        yield
    except ccxt.BaseError as exc:
        raise BrokerError(f"{what}: {type(exc).__name__}: {exc}") from exc
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise BrokerError(f"{what}: unusable reply ({exc})") from exc


def _dec(value: object, field: str, *, negative: bool = False, zero: bool = True) -> Decimal:
    return to_decimal(value, field, allow_negative=negative, allow_zero=zero)


def _opt(value: object, field: str) -> Decimal | None:
    """A positive Decimal, or ``None`` for a missing or zero value."""
    if value is None:
        return None
    d = _dec(value, field)
    return d if d > 0 else None


def _ms(value: object) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(int(_dec(value, "timestamp")) / 1000, tz=UTC)


class CcxtBroker:
    """A :class:`~riskdesk.brokers.Broker` over a ccxt exchange object.

    Parameters
    ----------
    exchange
        A configured ccxt exchange (keys set, sandbox mode as wanted), for example
        ``ccxt.binanceusdm({...})``. Markets are loaded on first use unless already set.
    currency
        The account currency everything is reported in (``"USDT"``, ``"USD"``...).
    market_type
        ``"spot"``, ``"swap"`` or ``"future"``; defaults to the exchange's ``defaultType``.
    rules_override
        Rules to use instead of the exchange's for some symbols (needed where an exchange
        states amount precision in significant digits, which no single step expresses).

    Notes
    -----
    Spot holdings become long positions valued at the last price; spot exchanges keep no cost
    basis, so their entry price is the mark. Assets with no market against ``currency`` are left
    out of positions and equity.
    """

    def __init__(self, exchange: Any, *, currency: str, market_type: MarketType | None = None,
                 rules_override: Mapping[str, MarketRules] | None = None) -> None:
        if not isinstance(exchange, ccxt.Exchange):
            raise InvalidInputError("exchange", exchange, "a ccxt exchange instance")
        if not isinstance(currency, str) or not currency.strip():
            raise InvalidInputError("currency", currency, "a currency code")
        kind = market_type or str(exchange.options.get("defaultType", "spot"))
        if kind not in ("spot", "swap", "future"):
            raise InvalidInputError("market_type", kind, "'spot', 'swap' or 'future'")
        self._ex = exchange
        self.currency = currency
        self.market_type: MarketType = kind  # type: ignore[assignment]
        self.name = f"ccxt:{exchange.id}"
        self._override = dict(rules_override or {})
        self._rules: dict[str, MarketRules] = {}

    # --- Broker protocol -------------------------------------------------------------------

    def account(self, now: datetime) -> AccountState:
        """Balances and positions as an :class:`AccountState` stamped ``now``.

        Derivatives: equity is the currency's total (margin balance, unrealized PnL included),
        available its free balance, margin used its used balance, unrealized PnL the positions'
        sum. Spot: equity is the currency plus every holding at its last price.
        """
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise InvalidInputError("now", now, "a timezone-aware datetime")
        with _untrusted(f"{self.name} fetch_balance"):
            bal = self._ex.fetch_balance()
            cur = self.currency
            total = _dec(bal["total"].get(cur, 0) or 0, f"balance.total.{cur}", negative=True)
            free = _dec(bal["free"].get(cur, 0) or 0, f"balance.free.{cur}", negative=True)
            # Margin in use is never negative: a negative figure is a broken reply, and
            # reading it as zero would show an account with open positions as unencumbered.
            used = _dec(bal["used"].get(cur, 0) or 0, f"balance.used.{cur}")
        if self.market_type == "spot":
            positions = self._spot_positions(bal)
            equity = total + sum((p.notional for p in positions), _ZERO)
            unrealized = _ZERO
        else:
            pairs = self._derivative_positions()
            positions = [p for p, _ in pairs]
            unrealized = sum((u for _, u in pairs), _ZERO)
            equity = total
        if equity <= 0:
            raise BrokerError(f"{self.name}: account equity in {cur} is {equity}, not positive")
        return AccountState(equity=equity, available=max(free, _ZERO), as_of=now,
                            margin_used=used, unrealized_pnl=unrealized,
                            positions=tuple(positions))

    def positions(self) -> list[Position]:
        """Open positions (spot: holdings against the account currency)."""
        if self.market_type == "spot":
            with _untrusted(f"{self.name} fetch_balance"):
                bal = self._ex.fetch_balance()
            return self._spot_positions(bal)
        return [p for p, _ in self._derivative_positions()]

    def open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        """Open orders from ``fetch_open_orders``."""
        if symbol is not None:
            self._market(check_symbol(symbol))
        with _untrusted(f"{self.name} fetch_open_orders"):
            raw = self._ex.fetch_open_orders(symbol)
            return [self._order(o) for o in raw]

    def market_rules(self, symbol: str) -> MarketRules:
        """Step, tick, amount and cost limits, contract size and maximum leverage."""
        check_symbol(symbol)
        if symbol in self._override:
            # An override replaces the exchange's rules, not the linear valuation: a listed
            # inverse market stays refused.
            self._refuse_inverse(self._markets().get(symbol), symbol)
            return self._override[symbol]
        cached = self._rules.get(symbol)
        if cached is not None:
            return cached
        m = self._market(symbol)
        self._refuse_inverse(m, symbol)
        if m.get("active") is False:
            raise BrokerError(f"{self.name}: market {symbol} is not active")
        mode = int(self._ex.precisionMode)
        with _untrusted(f"{self.name} market {symbol}"):
            precision = m.get("precision") or {}
            step = precision_to_step(precision.get("amount"), mode,
                                     f"{symbol}.precision.amount")
            ref = self.last_price(symbol) if mode == SIGNIFICANT_DIGITS else None
            tick = precision_to_step(precision.get("price"), mode,
                                     f"{symbol}.precision.price", reference=ref)
            limits = m.get("limits") or {}
            amount = limits.get("amount") or {}
            maxima = [v for v in (_opt(amount.get("max"), f"{symbol}.limits.amount.max"),
                                  _opt((limits.get("market") or {}).get("max"),
                                       f"{symbol}.limits.market.max")) if v is not None]
            rules = MarketRules(
                symbol=symbol, step=step, tick=tick,
                min_qty=_opt(amount.get("min"), f"{symbol}.limits.amount.min") or _ZERO,
                max_qty=min(maxima) if maxima else None,
                min_notional=_opt((limits.get("cost") or {}).get("min"),
                                  f"{symbol}.limits.cost.min") or _ZERO,
                contract_size=self._contract_size(m, symbol),
                max_leverage=self._max_leverage(m))
        self._rules[symbol] = rules
        return rules

    def order_book(self, symbol: str, depth: int = 20) -> OrderBook:
        """Up to ``depth`` levels a side from ``fetch_order_book(symbol, depth)``."""
        self._market(check_symbol(symbol))
        check_depth(depth)
        with _untrusted(f"{self.name} fetch_order_book {symbol}"):
            ob = self._ex.fetch_order_book(symbol, depth)
            return OrderBook(symbol, levels(ob["bids"], f"{symbol}.bids", depth),
                             levels(ob["asks"], f"{symbol}.asks", depth), _ms(ob.get("timestamp")))

    def last_price(self, symbol: str) -> Decimal | None:
        """Last trade price from ``fetch_ticker``, or ``None`` when the ticker has none."""
        self._market(check_symbol(symbol))
        with _untrusted(f"{self.name} fetch_ticker {symbol}"):
            t = self._ex.fetch_ticker(symbol)
            last = t.get("last") if t.get("last") is not None else t.get("close")
            return None if last is None else _dec(last, f"{symbol}.last", zero=False)

    def refresh_rules(self) -> None:
        """Forget cached market rules (after the exchange changed a filter)."""
        self._rules.clear()

    # --- internals -------------------------------------------------------------------------

    def _markets(self) -> Mapping[str, Any]:
        if self._ex.markets is None:
            with _untrusted(f"{self.name} load_markets"):
                self._ex.load_markets()
        markets: Mapping[str, Any] = self._ex.markets
        return markets

    def _market(self, symbol: str) -> Mapping[str, Any]:
        m = self._markets().get(symbol)
        if m is None:
            raise UnknownSymbolError(f"{self.name} lists no market {symbol!r}")
        market: Mapping[str, Any] = m
        return market

    def _refuse_inverse(self, m: Mapping[str, Any] | None, symbol: str) -> None:
        """``BrokerError`` for an inverse (coin-margined) contract market.

        Positions and orders are valued linearly, ``quantity x price x contract size`` in the
        quote currency; an inverse contract is worth a fixed amount of the quote currency and
        settles in the base coin, so that value would be meaningless. A market ccxt marks
        ``inverse: True`` or ``linear: False`` (spot markets carry neither flag) is refused.
        """
        if m is None or not (m.get("inverse") is True or m.get("linear") is False):
            return
        raise BrokerError(
            f"{self.name}: {symbol} is an inverse (coin-margined) contract settled in "
            f"{m.get('settle') or 'the base currency'}; inverse contracts are not supported "
            "(riskdesk values positions as quantity x price x contract size in the quote "
            "currency)")

    @staticmethod
    def _contract_size(m: Mapping[str, Any], symbol: str) -> Decimal:
        size = _opt(m.get("contractSize"), f"{symbol}.contractSize")
        if size is not None:
            return size
        if m.get("contract"):
            # A contract may stand for 10 or 100 units: assuming 1 could size many times over.
            raise InvalidInputError(f"{symbol}.contractSize", m.get("contractSize"),
                                    "the units per contract of a contract market")
        return _ONE

    def _max_leverage(self, m: Mapping[str, Any]) -> Decimal:
        if not m.get("contract"):
            return _ONE
        symbol = m["symbol"]
        stated = _opt(((m.get("limits") or {}).get("leverage") or {}).get("max"),
                      f"{symbol}.limits.leverage.max")
        if stated is not None:
            return max(stated, _ONE)
        if not self._ex.has.get("fetchLeverageTiers"):
            return _ONE  # unknown: the cash-market value, the safe side
        tiers = self._ex.fetch_market_leverage_tiers(symbol)
        best = max((_dec(t["maxLeverage"], f"{symbol}.tiers.maxLeverage", zero=False)
                    for t in tiers if t.get("maxLeverage") is not None), default=_ONE)
        return max(best, _ONE)

    def _spot_positions(self, bal: Mapping[str, Any]) -> list[Position]:
        markets = self._markets()
        held = []
        for code, amount in sorted((bal.get("total") or {}).items()):
            if code == self.currency or amount is None:
                continue
            with _untrusted(f"{self.name} balance {code}"):
                qty = _dec(amount, f"balance.total.{code}")
            symbol = f"{code}/{self.currency}"
            if qty > 0 and symbol in markets:
                held.append((symbol, qty))
        if not held:
            return []
        with _untrusted(f"{self.name} fetch_tickers"):
            tickers = self._ex.fetch_tickers([s for s, _ in held])
        out = []
        for symbol, qty in held:
            t = tickers.get(symbol) or {}
            last = t.get("last") if t.get("last") is not None else t.get("close")
            if last is None:
                raise BrokerError(f"{self.name}: no price for holding {symbol}")
            with _untrusted(f"{self.name} ticker {symbol}"):
                mark = _dec(last, f"{symbol}.last", zero=False)
                out.append(Position(symbol=symbol, side=Side.LONG, quantity=qty, entry_price=mark,
                                    mark_price=mark))
        return out

    def _derivative_positions(self) -> list[tuple[Position, Decimal]]:
        # One net position per symbol (AccountState refuses a second): rows of one side of a
        # symbol (cross and isolated kept apart, say) merge into one position; a long and a
        # short of one symbol (hedge mode) are refused, as no net position describes them.
        with _untrusted(f"{self.name} fetch_positions"):
            # Only a row that states zero contracts is flat; a row without a contract count
            # is a position of unknown size, refused below rather than dropped.
            raw = [p for p in self._ex.fetch_positions() if p.get("contracts") != 0]
        missing = [p.get("symbol") for p in raw if p.get("leverage") is None]
        leverages: Mapping[str, Any] = {}
        if missing and self._ex.has.get("fetchLeverages"):
            with _untrusted(f"{self.name} fetch_leverages"):
                leverages = self._ex.fetch_leverages(missing)
        out: list[tuple[Position, Decimal]] = []
        row_of: dict[str, int] = {}
        markets = self._markets()
        for p in raw:
            symbol = p.get("symbol")
            self._refuse_inverse(markets.get(symbol) if isinstance(symbol, str) else None,
                                 str(symbol))
            with _untrusted(f"{self.name} position {symbol}"):
                side = Side.parse(p.get("side"), f"{symbol}.side")
                lev = p.get("leverage")
                if lev is None:
                    entry = leverages.get(symbol) or {}
                    lev = entry.get("longLeverage" if side is Side.LONG else "shortLeverage")
                leverage = _opt(lev, f"{symbol}.leverage") or _ONE
                mark = p.get("markPrice")
                if mark is None:
                    mark = self.last_price(symbol)
                if mark is None:
                    raise BrokerError(f"{self.name}: position {symbol} has no {symbol}.markPrice "
                                      f"and its ticker no last price")
                pos = Position(
                    symbol=symbol, side=side,
                    quantity=_dec(p["contracts"], f"{symbol}.contracts", zero=False),
                    entry_price=_dec(p.get("entryPrice"), f"{symbol}.entryPrice", zero=False),
                    mark_price=_dec(mark, f"{symbol}.markPrice", zero=False),
                    leverage=max(leverage, _ONE),
                    contract_size=_opt(p.get("contractSize"), f"{symbol}.contractSize")
                    or self.market_rules(symbol).contract_size,
                    opened_at=None)
                upnl = p.get("unrealizedPnl")
                unrealized = pos.unrealized_pnl if upnl is None else _dec(
                    upnl, f"{symbol}.unrealizedPnl", negative=True)
            k = row_of.setdefault(symbol, len(out))
            if k == len(out):
                out.append((pos, unrealized))
                continue
            held, held_upnl = out[k]
            if held.side is not side:
                raise BrokerError(
                    f"{self.name}: {symbol} is held both LONG and SHORT (hedge mode); riskdesk "
                    "needs one net position per symbol: switch the account to one-way mode "
                    f"or close one side of {symbol}")
            if held.contract_size != pos.contract_size:
                raise BrokerError(
                    f"{self.name}: two {side.value} rows of {symbol} state different contract "
                    f"sizes ({held.contract_size} and {pos.contract_size})")
            qty = held.quantity + pos.quantity
            assert held.mark_price is not None
            # Quantity-weighted entry, and the leverage at which the merged position ties up
            # the margin of both rows.
            with _untrusted(f"{self.name} position {symbol}"):
                merged = Position(
                    symbol=symbol, side=side, quantity=qty,
                    entry_price=(held.quantity * held.entry_price
                                 + pos.quantity * pos.entry_price) / qty,
                    mark_price=held.mark_price,
                    leverage=max(qty * held.mark_price * held.contract_size
                                 / (held.margin + pos.margin), _ONE),
                    contract_size=held.contract_size, opened_at=None)
            out[k] = (merged, held_upnl + unrealized)
        return out

    def _order(self, o: Mapping[str, Any]) -> OpenOrder:
        symbol = o.get("symbol")
        price = o.get("price")
        return OpenOrder(
            order_id=str(o.get("id") or ""), symbol=str(symbol),
            side=Side.parse(o.get("side"), f"{symbol}.order.side"),
            quantity=_dec(o.get("amount"), f"{symbol}.order.amount", zero=False),
            filled=_dec(o.get("filled") or 0, f"{symbol}.order.filled"),
            price=_opt(price, f"{symbol}.order.price"),
            order_type=str(o.get("type") or "unknown").lower(),
            reduce_only=bool(o.get("reduceOnly")),
            client_order_id=o.get("clientOrderId"), created_at=_ms(o.get("timestamp")))
