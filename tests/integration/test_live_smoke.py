"""Read-only smoke tests against real brokers; they run only when keys are in the environment.

ccxt: ``RISKDESK_LIVE_CCXT_EXCHANGE`` (a ccxt id such as ``binanceusdm``),
``RISKDESK_LIVE_CCXT_API_KEY``, ``RISKDESK_LIVE_CCXT_SECRET``, optional
``RISKDESK_LIVE_CCXT_PASSWORD``, ``RISKDESK_LIVE_CCXT_SANDBOX=1``,
``RISKDESK_LIVE_CCXT_CURRENCY`` (default ``USDT``) and ``RISKDESK_LIVE_CCXT_SYMBOL``
(default ``BTC/USDT:USDT``).

Alpaca: ``APCA_API_KEY_ID``, ``APCA_API_SECRET_KEY``, optional ``APCA_LIVE=1`` (paper by
default) and ``RISKDESK_LIVE_ALPACA_SYMBOL`` (default ``AAPL``).

Nothing here places or cancels an order.
"""

from __future__ import annotations

import os
import warnings
from datetime import UTC, datetime

import pytest

from riskdesk.brokers import AlpacaBroker, Broker, CcxtBroker
from riskdesk.reconcile import Book, ReconcilePolicy, Tolerances, reconcile

CCXT_ID = os.environ.get("RISKDESK_LIVE_CCXT_EXCHANGE")
CCXT_KEYS = bool(CCXT_ID and os.environ.get("RISKDESK_LIVE_CCXT_API_KEY")
                 and os.environ.get("RISKDESK_LIVE_CCXT_SECRET"))
ALPACA_KEYS = bool(os.environ.get("APCA_API_KEY_ID") and os.environ.get("APCA_API_SECRET_KEY"))


def _ccxt_broker() -> tuple[Broker, str]:
    import ccxt

    exchange = getattr(ccxt, str(CCXT_ID))({
        "apiKey": os.environ["RISKDESK_LIVE_CCXT_API_KEY"],
        "secret": os.environ["RISKDESK_LIVE_CCXT_SECRET"],
        "password": os.environ.get("RISKDESK_LIVE_CCXT_PASSWORD"),
        "enableRateLimit": True,
    })
    if os.environ.get("RISKDESK_LIVE_CCXT_SANDBOX") == "1":
        exchange.set_sandbox_mode(True)
    currency = os.environ.get("RISKDESK_LIVE_CCXT_CURRENCY", "USDT")
    symbol = os.environ.get("RISKDESK_LIVE_CCXT_SYMBOL", "BTC/USDT:USDT")
    return CcxtBroker(exchange, currency=currency), symbol


def _alpaca_broker() -> tuple[Broker, str]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="websockets.legacy is deprecated",
                                category=DeprecationWarning)
        from alpaca.data.historical import StockHistoricalDataClient
        from alpaca.trading.client import TradingClient

    key, secret = os.environ["APCA_API_KEY_ID"], os.environ["APCA_API_SECRET_KEY"]
    client = TradingClient(key, secret, paper=os.environ.get("APCA_LIVE") != "1")
    data = StockHistoricalDataClient(key, secret)
    return (AlpacaBroker(client, data_client=data),
            os.environ.get("RISKDESK_LIVE_ALPACA_SYMBOL", "AAPL"))


def _smoke(broker: Broker, symbol: str) -> None:
    now = datetime.now(UTC)
    account = broker.account(now)
    assert account.equity > 0
    assert account.as_of == now
    rules = broker.market_rules(symbol)
    assert rules.step > 0
    assert rules.tick > 0
    book = broker.order_book(symbol, depth=5)
    if book.best_bid is not None and book.best_ask is not None:
        assert book.best_bid <= book.best_ask
    broker.open_orders(symbol)
    # An empty book adopting the account must come out equal to it.
    report = reconcile(Book(), account, ReconcilePolicy.adopt_all(
        Tolerances(price_rel=None)), now)
    assert {(p.symbol, p.side, p.quantity) for p in report.book.positions} == {
        (p.symbol, p.side, p.quantity) for p in account.positions}


@pytest.mark.live
@pytest.mark.skipif(not CCXT_KEYS, reason="no RISKDESK_LIVE_CCXT_EXCHANGE / _API_KEY / _SECRET "
                                          "in the environment")
def test_ccxt_live_read_only() -> None:
    _smoke(*_ccxt_broker())


@pytest.mark.live
@pytest.mark.skipif(not ALPACA_KEYS, reason="no APCA_API_KEY_ID / APCA_API_SECRET_KEY in the "
                                            "environment")
def test_alpaca_live_read_only() -> None:
    _smoke(*_alpaca_broker())
