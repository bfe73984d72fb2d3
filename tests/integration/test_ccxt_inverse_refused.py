"""CcxtBroker refuses inverse (coin-margined) contracts: their rules and positions alike.

An inverse contract (ccxt ``inverse: True`` / ``linear: False``, e.g. Binance COIN-M's
``BTC/USD:BTC``) is worth a fixed amount of the quote currency and settles in the base coin;
``quantity x price x contract size`` in the quote currency means nothing for it. The COIN-M
replies are derived from the recorded USD-M ones (``recordings/binanceusdm``): the BTC market
becomes ``BTCUSD_PERP`` margined in BTC with 100 USD contracts, and ccxt's own
``binancecoinm`` parser runs on them; only the HTTP call is replaced.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ccxt
import pytest

from riskdesk.brokers import CcxtBroker
from riskdesk.domain import MarketRules
from riskdesk.errors import BrokerError

FOLDER = Path(__file__).parent / "recordings" / "binanceusdm"
NOW = datetime(2024, 6, 1, 12, 0, 5, tzinfo=UTC)
INVERSE = "BTC/USD:BTC"


def _recorded(name: str) -> Any:
    return json.loads((FOLDER / name).read_text())


def _coinm_replies(position_amt: str) -> dict[str, Any]:
    """COIN-M replies derived from the USD-M recordings, keyed by URL path."""
    info = _recorded("fapi_v1_exchangeInfo.json")
    market = copy.deepcopy(next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT"))
    market.update(symbol="BTCUSD_PERP", pair="BTCUSD", quoteAsset="USD", marginAsset="BTC",
                  contractSize=100, contractStatus="TRADING")
    row = copy.deepcopy(next(r for r in _recorded("fapi_v3_positionRisk.json")
                             if r["symbol"] == "BTCUSDT"))
    row.update(symbol="BTCUSD_PERP", positionAmt=position_amt, marginAsset="BTC",
               notionalValue="0.0082", leverage="20")
    bracket = {**_recorded("fapi_v1_leverageBracket.json")[0], "pair": "BTCUSD"}
    del bracket["symbol"]
    account = _recorded("fapi_v3_account.json")
    account["assets"][0].update(asset="BTC", walletBalance="1.00000000",
                                marginBalance="1.00000000", unrealizedProfit="0")
    return {"/dapi/v1/exchangeInfo": {**info, "symbols": [market]},
            "/dapi/v1/positionRisk": [row], "/dapi/v2/leverageBracket": [bracket],
            "/dapi/v1/account": account}


def coinm(position_amt: str = "5", **kw: Any) -> CcxtBroker:
    """A Binance COIN-M broker answering from the derived replies."""
    replies = _coinm_replies(position_amt)
    ex = ccxt.binancecoinm({"apiKey": "test-key", "secret": "test-secret"})

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        path = urlsplit(url).path
        if path not in replies:
            pytest.fail(f"unexpected request {path}")
        return copy.deepcopy(replies[path])

    ex.fetch = fetch
    ex.set_markets(ex.fetch_markets())
    return CcxtBroker(ex, currency="BTC", market_type="swap", **kw)


def test_the_derived_market_is_inverse_in_ccxt() -> None:
    market = coinm()._ex.markets[INVERSE]
    assert (market["inverse"], market["linear"], market["settle"]) == (True, False, "BTC")


def test_inverse_market_rules_are_refused() -> None:
    with pytest.raises(BrokerError, match="inverse contracts are not supported") as info:
        coinm().market_rules(INVERSE)
    assert INVERSE in str(info.value)


def test_inverse_market_rules_are_refused_even_with_an_override() -> None:
    fixed = MarketRules(INVERSE, "1", "0.1", "1", contract_size="100")
    with pytest.raises(BrokerError, match="inverse contracts are not supported"):
        coinm(rules_override={INVERSE: fixed}).market_rules(INVERSE)


def test_inverse_positions_are_refused_when_the_account_is_read() -> None:
    broker = coinm()
    for call in (lambda: broker.account(NOW), broker.positions):
        with pytest.raises(BrokerError, match="inverse contracts are not supported") as info:
            call()
        assert INVERSE in str(info.value)


def test_an_account_with_the_inverse_position_flat_reads() -> None:
    acct = coinm(position_amt="0").account(NOW)
    assert acct.positions == ()


def hand_set(**changes: Any) -> CcxtBroker:
    """A broker over one swap market in ccxt's unified structure, set by hand (no requests)."""
    market = {"id": "XYZUSD_PERP", "symbol": "XYZ/USD:XYZ", "base": "XYZ", "quote": "USD",
              "settle": "XYZ", "type": "swap", "spot": False, "swap": True, "contract": True,
              "linear": False, "inverse": True, "active": True, "contractSize": 10.0,
              "precision": {"amount": 1, "price": 0.1},
              "limits": {"amount": {"min": 1, "max": 100.0}, "leverage": {"max": 50}}}
    market.update(changes)
    ex = ccxt.binancecoinm()
    ex.set_markets([market])
    ex.fetch = lambda *a, **k: pytest.fail("no request expected")
    return CcxtBroker(ex, currency="XYZ")


@pytest.mark.parametrize("flags", [{"inverse": True}, {"linear": False, "inverse": None}])
def test_a_market_flagged_inverse_or_not_linear_is_refused(flags: dict[str, Any]) -> None:
    with pytest.raises(BrokerError, match=r"XYZ/USD:XYZ.*inverse contracts are not supported"):
        hand_set(**flags).market_rules("XYZ/USD:XYZ")


def test_a_linear_market_is_not_refused() -> None:
    rules = hand_set(linear=True, inverse=False, settle="USD").market_rules("XYZ/USD:XYZ")
    assert rules.contract_size == 10
