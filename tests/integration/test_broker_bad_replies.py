"""Brokers and reconciliation fail closed on replies that lack or contradict what sizing needs.

The ccxt and alpaca-py clients run on the recorded replies of ``recordings/`` (no network),
each changed in one field: a position without a mark price anywhere, a negative margin balance,
an Alpaca account without its initial margin, a position whose quantity sign contradicts its
side. A ccxt position without a contract count cannot come out of Binance's parser, so that
case hands ccxt's unified position structure to the broker directly.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ccxt
import pytest
import requests
from requests.adapters import BaseAdapter

from riskdesk.brokers import AlpacaBroker, CcxtBroker
from riskdesk.domain import AccountState
from riskdesk.errors import BrokerError, StaleStateError
from riskdesk.reconcile import (
    Book,
    ReconcilePolicy,
    reconcile,
)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="websockets.legacy is deprecated",
                            category=DeprecationWarning)
    from alpaca.trading.client import TradingClient

RECORDINGS = Path(__file__).parent / "recordings"
NOW = datetime(2024, 6, 1, 12, 0, 5, tzinfo=UTC)
BTC = "BTC/USDT:USDT"


def recorded(folder: str, name: str) -> Any:
    return json.loads((RECORDINGS / folder / name).read_text())


# --- ccxt -------------------------------------------------------------------------------------


def usdm(overrides: dict[str, Any] | None = None) -> CcxtBroker:
    """A Binance USD-M broker whose HTTP calls answer from the recordings (or ``overrides``)."""
    ex = ccxt.binanceusdm({"apiKey": "test-key", "secret": "test-secret"})
    replies = overrides or {}

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        path = urlsplit(url).path
        if path in replies:
            return replies[path]
        return recorded("binanceusdm", path.strip("/").replace("/", "_") + ".json")

    ex.fetch = fetch
    ex.set_markets(ex.fetch_markets())
    return CcxtBroker(ex, currency="USDT")


def test_ccxt_position_without_contracts_is_refused_not_dropped() -> None:
    broker = usdm()
    row = {"symbol": BTC, "contracts": None, "side": "long", "entryPrice": 60000.0,
           "markPrice": 61000.0, "contractSize": 1.0, "leverage": 20.0, "notional": 3050.0,
           "unrealizedPnl": 50.0, "info": {}}
    broker._ex.fetch_positions = lambda *a, **k: [row]
    with pytest.raises(BrokerError, match="contracts"):
        broker.positions()
    with pytest.raises(BrokerError, match="contracts"):
        broker.account(NOW)


def test_ccxt_flat_rows_are_still_dropped() -> None:
    broker = usdm()
    row = {"symbol": BTC, "contracts": 0.0, "side": None, "entryPrice": None, "info": {}}
    broker._ex.fetch_positions = lambda *a, **k: [row]
    assert broker.positions() == []


def test_ccxt_position_without_any_mark_price_is_refused() -> None:
    rows = recorded("binanceusdm", "fapi_v3_positionRisk.json")
    del rows[0]["markPrice"]
    # A ticker without prices (ccxt would derive a last price from open and change).
    ticker = {k: v for k, v in recorded("binanceusdm", "fapi_v1_ticker_24hr.json").items()
              if "Price" not in k and "price" not in k}
    broker = usdm({"/fapi/v3/positionRisk": rows, "/fapi/v1/ticker/24hr": ticker})
    with pytest.raises(BrokerError, match="markPrice"):
        broker.account(NOW)


def test_ccxt_missing_mark_price_still_comes_from_the_ticker() -> None:
    rows = recorded("binanceusdm", "fapi_v3_positionRisk.json")
    del rows[0]["markPrice"]
    broker = usdm({"/fapi/v3/positionRisk": rows})
    btc = next(p for p in broker.positions() if p.symbol == BTC)
    assert btc.mark_price == Decimal("61000")


@pytest.mark.parametrize("value", ["-300.00000000", "-0.01"])
def test_ccxt_negative_margin_used_is_refused(value: str) -> None:
    account = recorded("binanceusdm", "fapi_v3_account.json")
    account["assets"][0]["initialMargin"] = value
    broker = usdm({"/fapi/v3/account": account})
    with pytest.raises(BrokerError, match=r"balance\.used\.USDT"):
        broker.account(NOW)


def hand_set(**changes: Any) -> CcxtBroker:
    """A broker over one swap market in ccxt's unified structure, set by hand (no requests)."""
    market = {"id": "XYZUSDT", "symbol": "XYZ/USDT:USDT", "base": "XYZ", "quote": "USDT",
              "settle": "USDT", "type": "swap", "spot": False, "swap": True, "contract": True,
              "linear": True, "active": True, "contractSize": 10.0,
              "precision": {"amount": 0.001, "price": 0.1},
              "limits": {"amount": {"min": 0.001, "max": 100.0}, "cost": {"min": 5.0},
                         "leverage": {"max": 50}}}
    market.update(changes)
    ex = ccxt.binanceusdm()
    ex.set_markets([market])
    ex.fetch = lambda *a, **k: pytest.fail("no request expected")
    return CcxtBroker(ex, currency="USDT")


def test_ccxt_market_without_precision_names_the_field() -> None:
    with pytest.raises(BrokerError, match=r"XYZ/USDT:USDT\.precision\.amount"):
        hand_set(precision=None).market_rules("XYZ/USDT:USDT")


@pytest.mark.parametrize("size", [None, 0])
def test_ccxt_contract_market_without_contract_size_is_refused(size: float | None) -> None:
    # One contract may be 10 units: reading a missing size as 1 would size ten times over.
    with pytest.raises(BrokerError, match=r"XYZ/USDT:USDT\.contractSize"):
        hand_set(contractSize=size).market_rules("XYZ/USDT:USDT")
    assert hand_set().market_rules("XYZ/USDT:USDT").contract_size == 10


# --- Alpaca -----------------------------------------------------------------------------------


class Recorded(BaseAdapter):
    """A requests transport answering from the Alpaca recordings, each body passed through
    ``change`` (keyed by URL path) first."""

    def __init__(self, change: dict[str, Any]) -> None:
        super().__init__()
        self.change = change

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        path = urlsplit(str(request.url)).path
        body = recorded("alpaca", path.strip("/").replace("/", "_") + ".json")
        if path in self.change:
            body = self.change[path](body)
        resp = requests.Response()
        resp.status_code = 200
        resp._content = json.dumps(body).encode()
        resp.headers["Content-Type"] = "application/json"
        resp.url = str(request.url)
        resp.request = request
        resp.encoding = "utf-8"
        return resp

    def close(self) -> None:
        pass


def alpaca(**change: Any) -> AlpacaBroker:
    client = TradingClient("PKTEST1234", "secret-test", paper=True)
    client._session.mount("https://", Recorded(
        {"/v2/" + k.replace("__", "/"): v for k, v in change.items()}))
    return AlpacaBroker(client)


def account_with(**fields: Any) -> Any:
    return lambda body: {**body, **fields}


def position_with(symbol: str, **fields: Any) -> Any:
    return lambda rows: [{**r, **fields} if r["symbol"] == symbol else r for r in rows]


@pytest.mark.parametrize("value", [None, ""])
def test_alpaca_account_without_initial_margin_is_refused(value: str | None) -> None:
    broker = alpaca(account=account_with(initial_margin=value))
    with pytest.raises(BrokerError, match="initial_margin"):
        broker.account(NOW)


def test_alpaca_negative_last_equity_is_refused() -> None:
    broker = alpaca(account=account_with(last_equity="-5"))
    with pytest.raises(BrokerError, match="last_equity"):
        broker.account(NOW)


def test_alpaca_zero_last_equity_means_no_previous_close() -> None:
    acct = alpaca(account=account_with(last_equity="0")).account(NOW)
    assert acct.day_start_equity == acct.equity


def test_alpaca_position_without_current_price_is_refused() -> None:
    broker = alpaca(positions=position_with("TSLA", current_price=None))
    with pytest.raises(BrokerError, match=r"TSLA\.current_price"):
        broker.positions()
    with pytest.raises(BrokerError, match=r"TSLA\.current_price"):
        broker.account(NOW)


@pytest.mark.parametrize(("symbol", "qty"), [("TSLA", "50"), ("AAPL", "-100")])
def test_alpaca_quantity_sign_must_agree_with_side(symbol: str, qty: str) -> None:
    broker = alpaca(positions=position_with(symbol, qty=qty))
    with pytest.raises(BrokerError, match=rf"{symbol}\.qty"):
        broker.positions()


# --- reconciliation ---------------------------------------------------------------------------


def test_reconcile_refuses_broker_state_dated_ahead_of_now() -> None:
    ahead = AccountState(equity=Decimal(10_000), available=Decimal(10_000),
                         as_of=NOW + timedelta(hours=1))
    with pytest.raises(StaleStateError):
        reconcile(Book(cash=Decimal(10_000)), ahead, ReconcilePolicy(), NOW)
    within = AccountState(equity=Decimal(10_000), available=Decimal(10_000),
                          as_of=NOW + timedelta(seconds=30))
    assert reconcile(Book(cash=Decimal(10_000)), within, ReconcilePolicy(), NOW).clean
