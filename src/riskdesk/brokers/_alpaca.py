"""A broker on Alpaca's Trading API through alpaca-py's ``TradingClient``.

Alpaca sends money as strings; each is converted with :func:`riskdesk.domain.to_decimal`.
The pattern-day-trader fields (``pattern_day_trader``, ``daytrade_count``,
``daytrading_buying_power``) are never read: Alpaca has removed them.

Equity rules (from Alpaca's documentation): fractionable assets trade in quantities of up to
nine decimals with a $1 minimum order value, other assets in whole shares; prices of $1 and
above use a $0.01 tick and sub-dollar prices $0.0001. Crypto assets state their own
``min_order_size``, ``min_trade_increment`` and ``price_increment``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import requests
from alpaca.common.exceptions import APIError
from pydantic import ValidationError

with warnings.catch_warnings():
    # alpaca.trading imports its websocket stream, which uses the deprecated websockets.legacy;
    # riskdesk uses only the REST client.
    warnings.filterwarnings("ignore", message="websockets.legacy is deprecated",
                            category=DeprecationWarning)
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import AccountStatus, AssetClass, AssetStatus, QueryOrderStatus
    from alpaca.trading.models import Asset, Order, TradeAccount
    from alpaca.trading.models import Position as AlpacaPosition
    from alpaca.trading.requests import GetOrdersRequest

from riskdesk.brokers._protocol import OpenOrder, OrderBook, check_depth, check_symbol, levels
from riskdesk.domain import AccountState, MarketRules, Position, Side, to_decimal
from riskdesk.errors import BrokerError, InvalidInputError, UnknownSymbolError

_ZERO = Decimal(0)
_ONE = Decimal(1)
#: Fractional share quantities carry at most nine decimals.
FRACTIONAL_STEP = Decimal("1e-9")
#: Smallest value of a fractional order, in dollars.
FRACTIONAL_MIN_NOTIONAL = Decimal(1)
PENNY = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")
#: Units per US equity option contract.
OPTION_MULTIPLIER = Decimal(100)
#: Regulation T initial margin of 50%: the most leverage a marginable equity gets.
REG_T_LEVERAGE = Decimal(2)


_T = TypeVar("_T")


class _NotFoundError(Exception):
    """Alpaca answered 404."""


def _model(value: object, cls: type[_T], what: str) -> _T:
    """``value`` as an alpaca-py model, or a :class:`BrokerError`."""
    if not isinstance(value, cls):
        raise BrokerError(f"alpaca {what}: expected {cls.__name__}, got {type(value).__name__}")
    return value


@contextmanager
def _untrusted(what: str) -> Iterator[None]:
    """Turn alpaca-py failures and unusable replies into :class:`BrokerError`."""
    try:
        yield
    except APIError as exc:
        if exc.status_code == 404:
            raise _NotFoundError(what) from exc
        raise BrokerError(f"alpaca {what}: HTTP {exc.status_code}: {exc}") from exc
    except requests.RequestException as exc:
        raise BrokerError(f"alpaca {what}: {type(exc).__name__}: {exc}") from exc
    except (ValidationError, InvalidInputError, KeyError, TypeError) as exc:
        raise BrokerError(f"alpaca {what}: unusable reply ({exc})") from exc


def equity_tick(price: Decimal | None) -> Decimal:
    """Price increment of a US equity at ``price``: $0.01 from $1 up, $0.0001 below.

    With no price known the penny tick is returned: a multiple of a cent is a valid price at
    any level, so it is never rejected.
    """
    if price is None or price >= 1:
        return PENNY
    return SUB_PENNY


class AlpacaBroker:
    """A :class:`~riskdesk.brokers.Broker` over an Alpaca trading account.

    Parameters
    ----------
    client
        An alpaca-py ``TradingClient`` (paper or live).
    data_client
        Optional alpaca-py ``StockHistoricalDataClient``: gives last prices and a one-level
        book from the latest quote. Without it, ``last_price`` reads the held position's price
        and ``order_book`` is not available.
    """

    name = "alpaca"

    def __init__(self, client: TradingClient, *, data_client: Any | None = None) -> None:
        if not isinstance(client, TradingClient):
            raise InvalidInputError("client", client, "an alpaca-py TradingClient")
        if getattr(client, "_use_raw_data", False):
            raise InvalidInputError("client", client, "a TradingClient with raw_data=False")
        self._client = client
        self._data = data_client

    # --- Broker protocol -------------------------------------------------------------------

    def account(self, now: datetime) -> AccountState:
        """The account as an :class:`AccountState` stamped ``now``.

        Equity is ``equity`` (or cash plus long and short market value when absent), margin
        used ``initial_margin``, available equity minus that margin, buying power
        ``buying_power`` and day-start equity ``last_equity`` (the previous close).

        Raises
        ------
        BrokerError
            When the account is not active, is blocked or has trading suspended.
        """
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise InvalidInputError("now", now, "a timezone-aware datetime")
        try:
            with _untrusted("get_account"):
                a = _model(self._client.get_account(), TradeAccount, "get_account")
        except _NotFoundError as exc:
            raise BrokerError("alpaca get_account: account not found") from exc
        if a.status != AccountStatus.ACTIVE:
            raise BrokerError(f"alpaca account status is {a.status}, not ACTIVE")
        if a.account_blocked or a.trading_blocked or a.trade_suspended_by_user:
            raise BrokerError("alpaca account is blocked from trading")
        positions, unrealized = self._positions()
        with _untrusted("account fields"):
            if a.equity is not None:
                equity = to_decimal(a.equity, "account.equity", allow_negative=True)
            else:
                equity = sum((to_decimal(v, f"account.{n}", allow_negative=True) for n, v in (
                    ("cash", a.cash), ("long_market_value", a.long_market_value),
                    ("short_market_value", a.short_market_value))), _ZERO)
            # No default for the margin: a missing one would make all of equity available.
            margin = to_decimal(a.initial_margin, "account.initial_margin")
            buying_power = to_decimal(a.buying_power or "0", "account.buying_power",
                                      allow_negative=True)
            # Zero is a new account's (no previous close); a negative equity is a broken reply.
            last = None if a.last_equity is None else to_decimal(
                a.last_equity, "account.last_equity")
        if equity <= 0:
            raise BrokerError(f"alpaca account equity is {equity}, not positive")
        return AccountState(equity=equity, available=max(equity - margin, _ZERO), as_of=now,
                            margin_used=margin, unrealized_pnl=unrealized,
                            buying_power=max(buying_power, _ZERO), positions=tuple(positions),
                            day_start_equity=last if last is not None and last > 0 else None)

    def positions(self) -> list[Position]:
        """Open positions (options with a contract size of 100)."""
        return self._positions()[0]

    def open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        """Open orders; a notional order's quantity is its value over its limit or last price."""
        req = GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500,
                               symbols=None if symbol is None else [check_symbol(symbol)])
        try:
            with _untrusted("get_orders"):
                orders = [_model(o, Order, "get_orders") for o in self._client.get_orders(req)]
        except _NotFoundError:
            return []
        out = []
        for o in orders:
            with _untrusted(f"order {o.id}"):
                limit = None if o.limit_price is None else to_decimal(
                    o.limit_price, "order.limit_price", allow_zero=False)
                if o.qty is not None:
                    qty = to_decimal(o.qty, "order.qty", allow_zero=False)
                else:
                    value = to_decimal(o.notional, "order.notional", allow_zero=False)
                    price = limit or self.last_price(str(o.symbol))
                    if price is None:
                        raise BrokerError(f"alpaca order {o.id}: notional order without a price")
                    qty = value / price
                out.append(OpenOrder(
                    order_id=str(o.id), symbol=str(o.symbol),
                    side=Side.parse(getattr(o.side, "value", o.side), "order.side"),
                    quantity=qty, filled=to_decimal(o.filled_qty or "0", "order.filled_qty"),
                    price=limit,
                    order_type=str(getattr(o.type or o.order_type, "value", "unknown")),
                    reduce_only=False, client_order_id=o.client_order_id,
                    created_at=o.created_at))
        return out

    def market_rules(self, symbol: str) -> MarketRules:
        """Rules of the asset from ``GET /v2/assets/{symbol}``.

        Raises
        ------
        UnknownSymbolError
            When Alpaca has no such asset.
        BrokerError
            When the asset is inactive or not tradable.
        """
        check_symbol(symbol)
        try:
            with _untrusted(f"get_asset {symbol}"):
                asset = _model(self._client.get_asset(symbol), Asset, "get_asset")
        except _NotFoundError:
            raise UnknownSymbolError(f"alpaca has no asset {symbol!r}") from None
        if asset.status != AssetStatus.ACTIVE or not asset.tradable:
            raise BrokerError(f"alpaca asset {symbol} is not tradable")
        with _untrusted(f"asset {symbol}"):
            if asset.asset_class == AssetClass.CRYPTO:
                return MarketRules(
                    symbol=symbol,
                    step=to_decimal(asset.min_trade_increment, f"{symbol}.min_trade_increment",
                                    allow_zero=False),
                    tick=to_decimal(asset.price_increment, f"{symbol}.price_increment",
                                    allow_zero=False),
                    min_qty=to_decimal(asset.min_order_size or 0, f"{symbol}.min_order_size"))
            tick = equity_tick(self.last_price(symbol))
            lev = REG_T_LEVERAGE if asset.marginable else _ONE
            if asset.fractionable:
                return MarketRules(symbol=symbol, step=FRACTIONAL_STEP, tick=tick,
                                   min_qty=FRACTIONAL_STEP,
                                   min_notional=FRACTIONAL_MIN_NOTIONAL, max_leverage=lev)
            return MarketRules(symbol=symbol, step=_ONE, tick=tick, min_qty=_ONE,
                               max_leverage=lev)

    def order_book(self, symbol: str, depth: int = 20) -> OrderBook:
        """A one-level book from the latest quote (needs ``data_client``)."""
        check_symbol(symbol)
        check_depth(depth)
        if self._data is None:
            raise BrokerError("alpaca order book needs a data_client (StockHistoricalDataClient)")
        from alpaca.data.requests import StockLatestQuoteRequest

        try:
            with _untrusted(f"latest quote {symbol}"):
                quotes = self._data.get_stock_latest_quote(
                    StockLatestQuoteRequest(symbol_or_symbols=symbol))
                q = quotes[symbol]
                bids = levels([[q.bid_price, q.bid_size]] if q.bid_price else [],
                              f"{symbol}.bids", depth)
                asks = levels([[q.ask_price, q.ask_size]] if q.ask_price else [],
                              f"{symbol}.asks", depth)
                return OrderBook(symbol, bids, asks, q.timestamp)
        except _NotFoundError:
            raise UnknownSymbolError(f"alpaca has no quote for {symbol!r}") from None

    def last_price(self, symbol: str) -> Decimal | None:
        """Latest trade (with ``data_client``), else the held position's price, else ``None``."""
        check_symbol(symbol)
        try:
            if self._data is not None:
                from alpaca.data.requests import StockLatestTradeRequest

                with _untrusted(f"latest trade {symbol}"):
                    trades = self._data.get_stock_latest_trade(
                        StockLatestTradeRequest(symbol_or_symbols=symbol))
                    return to_decimal(trades[symbol].price, f"{symbol}.price", allow_zero=False)
            with _untrusted(f"get_open_position {symbol}"):
                p = _model(self._client.get_open_position(symbol), AlpacaPosition,
                           "get_open_position")
                if p.current_price is None:
                    return None
                return to_decimal(p.current_price, f"{symbol}.current_price", allow_zero=False)
        except _NotFoundError:
            return None

    # --- internals -------------------------------------------------------------------------

    def _positions(self) -> tuple[list[Position], Decimal]:
        try:
            with _untrusted("get_all_positions"):
                raw = [_model(p, AlpacaPosition, "get_all_positions")
                       for p in self._client.get_all_positions()]
        except _NotFoundError as exc:
            raise BrokerError("alpaca get_all_positions: not found") from exc
        out, unrealized = [], _ZERO
        for p in raw:
            with _untrusted(f"position {p.symbol}"):
                signed = to_decimal(p.qty, f"{p.symbol}.qty", allow_negative=True)
                if signed == 0:
                    continue
                side = Side.parse(p.side.value, f"{p.symbol}.side")
                if (signed > 0) != (side is Side.LONG):
                    raise InvalidInputError(f"{p.symbol}.qty", p.qty,
                                            f"a quantity whose sign agrees with side {side.value} "
                                            "(negative for shorts)")
                entry = to_decimal(p.avg_entry_price, f"{p.symbol}.avg_entry_price",
                                   allow_zero=False)
                # No default to the entry price: a position's value must be at its market.
                mark = to_decimal(p.current_price, f"{p.symbol}.current_price", allow_zero=False)
                cs = OPTION_MULTIPLIER if p.asset_class == AssetClass.US_OPTION else _ONE
                pos = Position(symbol=p.symbol, side=side, quantity=abs(signed),
                               entry_price=entry, mark_price=mark, contract_size=cs)
                unrealized += pos.unrealized_pnl if p.unrealized_pl is None else to_decimal(
                    p.unrealized_pl, f"{p.symbol}.unrealized_pl", allow_negative=True)
            out.append(pos)
        return out, unrealized
