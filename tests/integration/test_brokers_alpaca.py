"""AlpacaBroker on the real alpaca-py clients, fed recorded replies through a requests adapter.

alpaca-py builds its requests, signs them with the key headers, parses the JSON into its
pydantic models; only the transport under its ``requests.Session`` is replaced.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from riskdesk.brokers import AlpacaBroker, Broker, equity_tick
from riskdesk.domain import Side
from riskdesk.errors import BrokerError, InvalidInputError, UnknownSymbolError

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="websockets.legacy is deprecated",
                            category=DeprecationWarning)
    from alpaca.data.historical import StockHistoricalDataClient
    from alpaca.trading.client import TradingClient

RECORDINGS = Path(__file__).parent / "recordings" / "alpaca"
NOW = datetime(2024, 6, 1, 16, 0, 5, tzinfo=UTC)


class Recorded(BaseAdapter):
    """A requests transport answering from recorded JSON files, keyed by URL path."""

    def __init__(self, routes: dict[str, tuple[int, str]] | None = None,
                 patch: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.routes = routes or {}
        self.patch = patch or {}
        self.calls: list[tuple[str, str, dict[str, list[str]], dict[str, str]]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(str(request.url))
        self.calls.append((str(request.method), parts.path, parse_qs(parts.query),
                           dict(request.headers)))
        status, name = self.routes.get(
            parts.path, (200, parts.path.strip("/").replace("/", "_") + ".json"))
        body = json.loads((RECORDINGS / name).read_text())
        if parts.path in self.patch:
            body = {**body, **self.patch[parts.path]}
        resp = requests.Response()
        resp.status_code = status
        resp._content = json.dumps(body).encode()
        resp.headers["Content-Type"] = "application/json"
        resp.url = str(request.url)
        resp.request = request
        resp.encoding = "utf-8"
        return resp

    def close(self) -> None:
        pass

    def paths(self) -> list[str]:
        return [c[1] for c in self.calls]


def alpaca(data: bool = False, **recorded: Any) -> tuple[AlpacaBroker, Recorded]:
    transport = Recorded(**recorded)
    client = TradingClient("PKTEST1234", "secret-test", paper=True)
    client._session.mount("https://", transport)
    data_client = None
    if data:
        data_client = StockHistoricalDataClient("PKTEST1234", "secret-test")
        data_client._session.mount("https://", transport)
    return AlpacaBroker(client, data_client=data_client), transport


def test_account_from_string_money_fields() -> None:
    broker, transport = alpaca()
    assert isinstance(broker, Broker)
    acct = broker.account(NOW)
    assert acct.as_of == NOW
    assert acct.equity == Decimal("100321.35")
    assert acct.margin_used == Decimal("13375")
    assert acct.available == Decimal("86946.35")
    assert acct.buying_power == Decimal("173892.7")
    assert acct.day_start_equity == Decimal("99874.12")
    assert acct.unrealized_pnl == Decimal("982.5")
    # alpaca-py sent the key headers to the paper endpoint.
    method, path, _, headers = transport.calls[0]
    assert (method, path) == ("GET", "/v2/account")
    assert headers["APCA-API-KEY-ID"] == "PKTEST1234"


def test_pattern_day_trader_fields_are_ignored() -> None:
    plain, _ = alpaca()
    pdt, _ = alpaca(patch={"/v2/account": {"pattern_day_trader": True, "daytrade_count": 5,
                                           "daytrading_buying_power": "0"}})
    assert pdt.account(NOW) == plain.account(NOW)


@pytest.mark.parametrize("patch", [
    {"trading_blocked": True}, {"account_blocked": True}, {"trade_suspended_by_user": True},
    {"status": "ACCOUNT_UPDATED"},
])
def test_blocked_or_inactive_account_fails(patch: dict[str, Any]) -> None:
    broker, _ = alpaca(patch={"/v2/account": patch})
    with pytest.raises(BrokerError, match="alpaca account"):
        broker.account(NOW)


def test_account_equity_falls_back_to_cash_plus_market_values() -> None:
    broker, _ = alpaca(patch={"/v2/account": {"equity": None}})
    assert broker.account(NOW).equity == Decimal("80338.85") + Decimal("27482.5") \
        - Decimal("7500")


def test_positions_sides_and_quantities() -> None:
    broker, _ = alpaca()
    by_symbol = {p.symbol: p for p in broker.positions()}
    assert set(by_symbol) == {"AAPL", "TSLA", "BTCUSD"}
    tsla = by_symbol["TSLA"]
    assert (tsla.side, tsla.quantity, tsla.entry_price, tsla.mark_price) == (
        Side.SHORT, Decimal(50), Decimal("155.00"), Decimal(150))
    assert tsla.unrealized_pnl == Decimal(250)
    assert by_symbol["BTCUSD"].quantity == Decimal("0.125")
    assert all(type(p.quantity) is Decimal for p in by_symbol.values())


def test_fractionable_equity_rules() -> None:
    broker, transport = alpaca()
    rules = broker.market_rules("AAPL")
    assert (rules.step, rules.min_qty, rules.min_notional) == (
        Decimal("1e-9"), Decimal("1e-9"), Decimal(1))
    assert rules.tick == Decimal("0.01")  # held at 192.50
    assert rules.max_leverage == 2
    assert "/v2/positions/AAPL" in transport.paths()
    assert rules.quantize_qty(Decimal("1.23456789012")) == Decimal("1.234567890")


def test_sub_dollar_stock_gets_sub_penny_tick_from_latest_trade() -> None:
    broker, transport = alpaca(data=True)
    rules = broker.market_rules("ZVZZT")
    assert (rules.step, rules.min_qty, rules.min_notional, rules.tick) == (
        Decimal(1), Decimal(1), Decimal(0), Decimal("0.0001"))
    assert rules.max_leverage == 1
    assert "/v2/stocks/trades/latest" in transport.paths()


def test_unknown_price_falls_back_to_the_penny_tick() -> None:
    broker, _ = alpaca(routes={"/v2/positions/ZVZZT": (404, "error_position_not_found.json")})
    assert broker.last_price("ZVZZT") is None
    assert broker.market_rules("ZVZZT").tick == Decimal("0.01")


@pytest.mark.parametrize(("price", "tick"), [
    (None, "0.01"), (Decimal("1"), "0.01"), (Decimal("0.9999"), "0.0001"),
    (Decimal("250.37"), "0.01")])
def test_equity_tick_table(price: Decimal | None, tick: str) -> None:
    assert equity_tick(price) == Decimal(tick)


def test_crypto_asset_rules() -> None:
    broker, _ = alpaca()
    rules = broker.market_rules("BTC/USD")
    assert (rules.step, rules.tick, rules.min_qty) == (
        Decimal("0.000000001"), Decimal(1), Decimal("0.0001"))


def test_unknown_and_untradable_assets() -> None:
    broker, _ = alpaca(routes={"/v2/assets/NOPE": (404, "error_not_found.json")})
    with pytest.raises(UnknownSymbolError, match="NOPE"):
        broker.market_rules("NOPE")
    with pytest.raises(BrokerError, match="not tradable"):
        broker.market_rules("DELIST")


def test_open_orders_including_a_notional_order() -> None:
    broker, transport = alpaca()
    orders = broker.open_orders()
    assert [o.client_order_id for o in orders] == ["rd-entry-aapl-01", "rd-notional-aapl-02"]
    limit, notional = orders
    assert (limit.side, limit.quantity, limit.filled, limit.price, limit.order_type) == (
        Side.LONG, Decimal(10), Decimal(4), Decimal(185), "limit")
    assert limit.remaining == Decimal(6)
    assert notional.quantity == Decimal(500) / Decimal("192.5")
    query = next(q for _, p, q, _ in transport.calls if p == "/v2/orders")
    assert query["status"] == ["open"]


def test_order_book_from_latest_quote() -> None:
    broker, _ = alpaca(data=True)
    book = broker.order_book("AAPL")
    assert (book.best_bid, book.best_ask) == (Decimal("192.49"), Decimal("192.53"))
    assert (book.bids[0].size, book.asks[0].size) == (2.0, 3.0)
    assert book.as_of is not None
    assert book.as_of.tzinfo is not None
    without, _ = alpaca()
    with pytest.raises(BrokerError, match="data_client"):
        without.order_book("AAPL")


def test_http_error_becomes_broker_error() -> None:
    broker, _ = alpaca(routes={"/v2/account": (401, "error_unauthorized.json")})
    with pytest.raises(BrokerError, match="HTTP 401"):
        broker.account(NOW)


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError, match="client"):
        AlpacaBroker(object())  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="raw_data"):
        AlpacaBroker(TradingClient("k", "s", raw_data=True))
    broker, _ = alpaca()
    with pytest.raises(InvalidInputError, match="now"):
        broker.account(datetime(2024, 6, 1))
