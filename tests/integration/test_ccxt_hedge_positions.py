"""CcxtBroker with two position rows in one symbol, on recorded binanceusdm replies.

The rows are derived from the recorded ``positionRisk`` reply: a hedge-mode account reports a
long and a short row per symbol (``positionSide`` LONG and SHORT), and an exchange that keeps
cross and isolated positions apart can report two rows on one side. ccxt's own parser runs on
them; only the HTTP call is replaced.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ccxt
import pytest

from riskdesk.brokers import CcxtBroker
from riskdesk.domain import Side
from riskdesk.errors import BrokerError

FOLDER = Path(__file__).parent / "recordings" / "binanceusdm"
NOW = datetime(2024, 6, 1, 12, 0, 5, tzinfo=UTC)
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def _rows(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((FOLDER / name).read_text())
    return rows


def _broker(path: str, rows: list[dict[str, Any]], *, v2: bool = False) -> CcxtBroker:
    ex = ccxt.binanceusdm({"apiKey": "test-key", "secret": "test-secret"})

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        p = urlsplit(url).path
        if p == path:
            return rows
        return json.loads((FOLDER / (p.strip("/").replace("/", "_") + ".json")).read_text())

    ex.fetch = fetch
    ex.set_markets(ex.fetch_markets())
    if v2:
        ex.options["fetchPositionsRisk"] = {"useV2": True}
    return CcxtBroker(ex, currency="USDT")


def _btc_row(rows: list[dict[str, Any]], **changes: str) -> dict[str, Any]:
    row = copy.deepcopy(next(r for r in rows if r["symbol"] == "BTCUSDT"))
    row.update(changes)
    return row


def test_hedge_mode_with_both_sides_of_a_symbol_is_refused() -> None:
    rows = _rows("fapi_v3_positionRisk.json")
    long_leg = _btc_row(rows, positionSide="LONG")
    short_leg = _btc_row(rows, positionSide="SHORT", positionAmt="-0.020",
                         notional="-1220.00000000", unRealizedProfit="-20.00000000")
    hedged = [long_leg, short_leg, *[r for r in rows if r["symbol"] != "BTCUSDT"]]
    broker = _broker("/fapi/v3/positionRisk", hedged)
    for call in (lambda: broker.account(NOW), broker.positions):
        with pytest.raises(BrokerError, match="hedge mode") as info:
            call()
        assert BTC in str(info.value)


def test_hedge_mode_with_one_side_flat_is_one_position() -> None:
    rows = _rows("fapi_v3_positionRisk.json")
    long_leg = _btc_row(rows, positionSide="LONG")
    flat_short = _btc_row(rows, positionSide="SHORT", positionAmt="0", notional="0",
                          unRealizedProfit="0")
    broker = _broker("/fapi/v3/positionRisk",
                     [long_leg, flat_short, *[r for r in rows if r["symbol"] != "BTCUSDT"]])
    acct = broker.account(NOW)
    assert sorted(p.symbol for p in acct.positions) == [BTC, ETH]
    btc = acct.position(BTC)
    assert btc is not None
    assert (btc.side, btc.quantity) == (Side.LONG, Decimal("0.05"))


def test_two_rows_on_one_side_merge_into_one_position() -> None:
    rows = _rows("fapi_v2_positionRisk.json")
    cross = _btc_row(rows)  # 0.05 at 60000, 20x, +50
    isolated = _btc_row(rows, marginType="isolated", leverage="10", positionAmt="0.030",
                        entryPrice="62000.0", notional="1830.00000000",
                        unRealizedProfit="-30.00000000", isolatedWallet="183")
    broker = _broker("/fapi/v2/positionRisk", [cross, isolated, rows[1]], v2=True)
    acct = broker.account(NOW)
    assert sorted(p.symbol for p in acct.positions) == [BTC, ETH]
    btc = acct.position(BTC)
    assert btc is not None
    assert btc.side is Side.LONG
    assert btc.quantity == Decimal("0.08")
    # entry weighted by quantity: (0.05 x 60000 + 0.03 x 62000) / 0.08
    assert btc.entry_price == Decimal("60750")
    assert btc.mark_price == Decimal("61000")
    # the leverage that keeps the margin both rows tie up: 3050/20 + 1830/10 = 335.5
    assert btc.margin == pytest.approx(Decimal("335.5"), abs=Decimal("1e-20"))
    assert acct.unrealized_pnl == Decimal("50") - Decimal("30") + Decimal("25")
    assert [p.symbol for p in broker.positions()].count(BTC) == 1


def test_rows_of_one_side_with_different_contract_sizes_are_refused() -> None:
    rows = _rows("fapi_v2_positionRisk.json")
    broker = _broker("/fapi/v2/positionRisk", [_btc_row(rows), _btc_row(rows), rows[1]],
                     v2=True)
    ex: Any = broker._ex
    parse = ex.parse_position_risk
    seen: list[int] = []

    def odd_contract_size(position: Any, market: Any = None) -> Any:
        out = parse(position, market)
        seen.append(1)
        if len(seen) == 2:
            out["contractSize"] = 10.0
        return out

    ex.parse_position_risk = odd_contract_size
    with pytest.raises(BrokerError, match="contract size"):
        broker.positions()
