"""CcxtBroker on the real ccxt code, fed recorded exchange replies (no network).

ccxt's own ``fetch_markets`` parses the recorded exchangeInfo, its ``parse_balance``,
``parse_position_risk``, ``parse_order_book`` and ``parse_order`` run on recorded raw replies:
only the HTTP call (``exchange.fetch``) is replaced.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ccxt
import pytest

from riskdesk.brokers import Broker, CcxtBroker
from riskdesk.domain import MarketRules, Side
from riskdesk.errors import BrokerError, InvalidInputError, UnknownSymbolError

RECORDINGS = Path(__file__).parent / "recordings"
NOW = datetime(2024, 6, 1, 12, 0, 5, tzinfo=UTC)
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


class Replay:
    """Stands in for ``exchange.fetch``: answers each URL path from a recorded JSON file."""

    def __init__(self, exchange: Any, folder: str, overrides: dict[str, Any] | None = None,
                 errors: dict[str, tuple[int, str]] | None = None) -> None:
        self.exchange = exchange
        self.folder = RECORDINGS / folder
        self.overrides = overrides or {}
        self.errors = errors or {}
        self.calls: list[tuple[str, str, dict[str, list[str]]]] = []

    def __call__(self, url: str, method: str = "GET", headers: Any = None,
                 body: Any = None) -> Any:
        parts = urlsplit(url)
        self.calls.append((method, parts.path, parse_qs(parts.query)))
        if parts.path in self.errors:
            status, name = self.errors[parts.path]
            text = (self.folder / name).read_text()
            # ccxt's own error mapping turns the exchange's error body into its exception.
            self.exchange.handle_errors(status, "error", url, method, headers, text,
                                        json.loads(text), headers, body)
            raise ccxt.ExchangeError(text)
        if parts.path in self.overrides:
            return self.overrides[parts.path]
        name = parts.path.strip("/").replace("/", "_") + ".json"
        return json.loads((self.folder / name).read_text())

    def paths(self) -> list[str]:
        return [p for _, p, _ in self.calls]


def usdm(**replay: Any) -> tuple[CcxtBroker, Replay]:
    ex = ccxt.binanceusdm({"apiKey": "test-key", "secret": "test-secret"})
    fake = Replay(ex, "binanceusdm", **replay)
    ex.fetch = fake
    ex.set_markets(ex.fetch_markets())
    return CcxtBroker(ex, currency="USDT"), fake


def spot() -> tuple[CcxtBroker, Replay]:
    ex = ccxt.binance({"apiKey": "test-key", "secret": "test-secret",
                       "options": {"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False}})
    fake = Replay(ex, "binance")
    ex.fetch = fake
    ex.set_markets(ex.fetch_markets())
    return CcxtBroker(ex, currency="USDT"), fake


def test_broker_satisfies_protocol() -> None:
    broker, _ = usdm()
    assert isinstance(broker, Broker)
    assert broker.name == "ccxt:binanceusdm"
    assert broker.market_type == "swap"


@pytest.mark.parametrize(("symbol", "step", "tick", "min_qty", "max_qty", "min_notional", "lev"), [
    (BTC, "0.001", "0.1", "0.001", "120", "100", "125"),
    (ETH, "0.001", "0.01", "0.001", "2000", "20", "100"),
    ("SOL/USDT:USDT", "1", "0.01", "1", "5000", "5", "75"),
])
def test_futures_market_rules_from_exchange_info(symbol: str, step: str, tick: str, min_qty: str,
                                                 max_qty: str, min_notional: str,
                                                 lev: str) -> None:
    broker, fake = usdm()
    rules = broker.market_rules(symbol)
    assert rules == MarketRules(symbol, Decimal(step), Decimal(tick), Decimal(min_qty),
                                Decimal(max_qty), Decimal(min_notional), Decimal(1),
                                Decimal(lev))
    for value in (rules.step, rules.tick, rules.min_qty, rules.max_qty, rules.min_notional):
        assert type(value) is Decimal
    # The leverage maximum comes from the leverage brackets; rules are cached afterwards.
    assert fake.paths().count("/fapi/v1/leverageBracket") == 1
    broker.market_rules(symbol)
    assert fake.paths().count("/fapi/v1/leverageBracket") == 1


def test_futures_account_balances_and_positions() -> None:
    broker, fake = usdm()
    acct = broker.account(NOW)
    assert acct.as_of == NOW
    assert acct.equity == Decimal("10075")
    assert acct.available == Decimal("9775")
    assert acct.margin_used == Decimal("300")
    assert acct.unrealized_pnl == Decimal("75")
    by_symbol = {p.symbol: p for p in acct.positions}
    assert set(by_symbol) == {BTC, ETH}  # the flat SOL row is dropped
    btc, eth = by_symbol[BTC], by_symbol[ETH]
    assert (btc.side, btc.quantity, btc.entry_price, btc.mark_price) == (
        Side.LONG, Decimal("0.05"), Decimal("60000"), Decimal("61000"))
    assert (eth.side, eth.quantity, eth.entry_price, eth.mark_price) == (
        Side.SHORT, Decimal("0.5"), Decimal("3000"), Decimal("2950"))
    # positionRisk v3 has no leverage: it comes from fetch_leverages (symbolConfig).
    assert "/fapi/v1/symbolConfig" in fake.paths()
    assert (btc.leverage, eth.leverage) == (Decimal(20), Decimal(10))
    assert btc.unrealized_pnl == Decimal("50")
    assert eth.unrealized_pnl == Decimal("25")


def test_leverage_read_from_positions_when_present() -> None:
    broker, fake = usdm()
    broker._ex.options["fetchPositionsRisk"] = {"useV2": True}
    positions = broker.positions()
    assert "/fapi/v2/positionRisk" in fake.paths()
    assert "/fapi/v1/symbolConfig" not in fake.paths()
    assert sorted(p.leverage for p in positions) == [Decimal(10), Decimal(20)]


def test_order_book_levels_and_time() -> None:
    broker, fake = usdm()
    book = broker.order_book(BTC, depth=5)
    assert len(book.bids) == 5
    assert len(book.asks) == 5
    assert book.best_bid == Decimal("60999.9")
    assert book.best_ask == Decimal("61000")
    assert book.bids[0].size == pytest.approx(1.204)
    assert book.as_of == datetime(2024, 6, 1, 12, 0, 0, 118000, tzinfo=UTC)
    assert fake.calls[-1][2]["limit"] == ["5"]
    snap = book.snapshot(broker.market_rules(BTC), Decimal("61000"), NOW)
    assert snap.spread_bps == pytest.approx(0.1 / 60999.95 * 1e4)


def test_last_price_and_open_orders() -> None:
    broker, _ = usdm()
    assert broker.last_price(BTC) == Decimal("61000")
    orders = broker.open_orders(BTC)
    assert [o.order_id for o in orders] == ["4062919413", "4062919499"]
    entry, stop = orders
    assert (entry.side, entry.quantity, entry.price, entry.reduce_only) == (
        Side.LONG, Decimal("0.02"), Decimal("59500"), False)
    assert (stop.side, stop.quantity, stop.reduce_only) == (Side.SHORT, Decimal("0.05"), True)
    assert entry.client_order_id == "rd-entry-7f3a"
    assert entry.created_at == datetime(2024, 6, 1, 11, 56, 40, tzinfo=UTC)


def test_unknown_symbol_raises_before_any_request() -> None:
    broker, fake = usdm()
    before = len(fake.calls)
    with pytest.raises(UnknownSymbolError, match="DOGE"):
        broker.market_rules("DOGE/USDT:USDT")
    with pytest.raises(UnknownSymbolError):
        broker.order_book("DOGE/USDT:USDT")
    assert len(fake.calls) == before


def test_exchange_error_becomes_broker_error() -> None:
    broker, _ = usdm(errors={"/fapi/v3/account": (401, "error_invalid_key.json")})
    with pytest.raises(BrokerError, match="AuthenticationError") as info:
        broker.account(NOW)
    assert isinstance(info.value.__cause__, ccxt.AuthenticationError)


@pytest.mark.parametrize(("field", "value", "match"), [
    ("markPrice", "-61000.0", "markPrice"),
    ("entryPrice", "NaN", "unusable reply"),
    ("positionAmt", "2000000000000000", "contracts"),
])
def test_unusable_number_in_reply_is_refused(field: str, value: str, match: str) -> None:
    rows = json.loads((RECORDINGS / "binanceusdm" / "fapi_v3_positionRisk.json").read_text())
    rows[0][field] = value
    broker, _ = usdm(overrides={"/fapi/v3/positionRisk": rows})
    with pytest.raises(BrokerError, match=match):
        broker.positions()


def test_bad_arguments() -> None:
    broker, _ = usdm()
    with pytest.raises(InvalidInputError, match="now"):
        broker.account(datetime(2024, 6, 1))
    with pytest.raises(InvalidInputError, match="depth"):
        broker.order_book(BTC, depth=0)
    with pytest.raises(InvalidInputError, match="exchange"):
        CcxtBroker(object(), currency="USDT")


def test_decimal_places_precision_mode() -> None:
    ex = ccxt.binanceusdm()
    ex.precisionMode = ccxt.DECIMAL_PLACES
    ex.set_markets([{
        "id": "XYZUSDT", "symbol": "XYZ/USDT:USDT", "base": "XYZ", "quote": "USDT",
        "settle": "USDT", "type": "swap", "spot": False, "swap": True, "contract": True,
        "linear": True, "active": True, "contractSize": 10.0,
        "precision": {"amount": 2, "price": 4},
        "limits": {"amount": {"min": 0.01, "max": 5000.0}, "cost": {"min": 5.0, "max": None},
                   "leverage": {"min": 1, "max": 50}}}])
    broker = CcxtBroker(ex, currency="USDT")
    rules = broker.market_rules("XYZ/USDT:USDT")
    assert (rules.step, rules.tick) == (Decimal("0.01"), Decimal("0.0001"))
    assert (rules.contract_size, rules.max_leverage, rules.max_qty) == (
        Decimal(10), Decimal(50), Decimal(5000))


def test_significant_digit_amounts_need_an_override() -> None:
    ex = ccxt.bitfinex()
    assert ex.precisionMode == ccxt.SIGNIFICANT_DIGITS
    ex.set_markets([{
        "id": "tBTCUSD", "symbol": "BTC/USD", "base": "BTC", "quote": "USD", "type": "spot",
        "spot": True, "contract": False, "active": True, "precision": {"amount": 8, "price": 5},
        "limits": {"amount": {"min": 0.00004, "max": 2000.0}}}])
    ex.fetch = lambda *a, **k: pytest.fail("no request expected")
    with pytest.raises(BrokerError, match="significant digits"):
        CcxtBroker(ex, currency="USD").market_rules("BTC/USD")
    fixed = MarketRules("BTC/USD", Decimal("0.00000001"), Decimal("1"), Decimal("0.00004"))
    assert CcxtBroker(ex, currency="USD",
                      rules_override={"BTC/USD": fixed}).market_rules("BTC/USD") is fixed


def test_spot_account_values_holdings_at_last_price() -> None:
    broker, fake = spot()
    acct = broker.account(NOW)
    # 5000 USDT + 0.12 BTC x 61000 + 1.5 ETH x 2950; LDUSDT has no USDT market and is left out.
    assert acct.equity == Decimal("16745")
    assert acct.available == Decimal("4000")
    assert acct.margin_used == Decimal("1000")
    assert acct.unrealized_pnl == 0
    held = {p.symbol: p for p in acct.positions}
    assert set(held) == {"BTC/USDT", "ETH/USDT"}
    assert held["BTC/USDT"].quantity == Decimal("0.12")
    assert held["ETH/USDT"].entry_price == held["ETH/USDT"].mark_price == Decimal("2950")
    assert "/api/v3/ticker/24hr" in fake.paths()


def test_spot_rules_and_book() -> None:
    broker, _ = spot()
    rules = broker.market_rules("BTC/USDT")
    assert rules == MarketRules("BTC/USDT", Decimal("0.00001"), Decimal("0.01"),
                                Decimal("0.00001"), Decimal("83.714305"), Decimal("5"))
    assert rules.max_leverage == 1
    book = broker.order_book("BTC/USDT", depth=2)
    assert [lvl.price for lvl in book.bids] == [60999.99, 60999.98]
    assert book.as_of is None  # spot depth carries no time
