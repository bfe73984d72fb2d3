"""PaperBroker: fills, fees, average price, realized PnL, persistence, duplicate fills."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from riskdesk.brokers import Broker, PaperBroker
from riskdesk.domain import MarketRules, Position, Side
from riskdesk.errors import BrokerError, InvalidInputError, UnknownSymbolError
from riskdesk.reconcile import (
    Book,
    FindingKind,
    Pool,
    ReconcilePolicy,
    SubAccount,
    run_pool_reconciliation,
    run_reconciliation,
)
from riskdesk.store import Store

T0 = datetime(2024, 6, 3, 13, 30, tzinfo=UTC)
BTC = MarketRules("BTCUSDT", Decimal("0.001"), Decimal("0.1"), Decimal("0.001"),
                  max_leverage=Decimal(20))
AAPL = MarketRules("AAPL", Decimal(1), Decimal("0.01"), Decimal(1))
FEE = Decimal("0.0004")


class MemoryKV:
    """The smallest store: a dict of JSON documents (deep-copied, as a database would)."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.writes = 0

    def get_kv(self, key: str) -> dict[str, Any] | None:
        doc = self.docs.get(key)
        return None if doc is None else copy.deepcopy(doc)

    def put_kv(self, key: str, value: dict[str, Any]) -> None:
        self.docs[key] = copy.deepcopy(value)
        self.writes += 1


class JournalKV(MemoryKV):
    """A store that also journals fills, refusing ids it holds (as riskdesk.store does)."""

    def __init__(self) -> None:
        super().__init__()
        self.fills: dict[str, tuple[Any, ...]] = {}

    def record_fill(self, fill_id: str, symbol: str, side: Side, qty: Decimal, price: Decimal,
                    fee: Decimal, strategy: str | None, at: datetime,
                    realized_pnl: Decimal | None = None) -> bool:
        if fill_id in self.fills:
            return False
        self.fills[fill_id] = (symbol, side, qty, price, fee, strategy, at, realized_pnl)
        return True


def broker(store: Any = None, cash: str = "100000", **kw: Any) -> PaperBroker:
    return PaperBroker(store if store is not None else MemoryKV(), [BTC, AAPL],
                       starting_cash=Decimal(cash), **kw)


def test_new_account_is_seeded_and_stored() -> None:
    kv = MemoryKV()
    b = broker(kv)
    assert isinstance(b, Broker)
    acct = b.account(T0)
    assert (acct.equity, acct.available, acct.margin_used, acct.positions) == (
        Decimal(100000), Decimal(100000), Decimal(0), ())
    assert kv.docs["paper:default"]["cash"] == "100000"
    assert b.open_orders() == []
    assert b.last_price("BTCUSDT") is None


def test_fills_average_price_realized_pnl_and_fees() -> None:
    b = broker(leverage={"BTCUSDT": 10})
    b.fill("BTCUSDT", "BUY", "0.5", "60000", fee_rate=FEE, fill_id="f1", now=T0)
    b.fill("BTCUSDT", "BUY", "0.5", "62000", fee_rate=FEE, fill_id="f2", now=T0)
    (pos,) = b.positions()
    assert (pos.side, pos.quantity, pos.entry_price) == (Side.LONG, Decimal(1), Decimal(61000))
    fees = Decimal("0.5") * 60000 * FEE + Decimal("0.5") * 62000 * FEE
    assert b.cash == Decimal(100000) - fees

    b.set_price("BTCUSDT", "63000")
    acct = b.account(T0)
    assert acct.unrealized_pnl == Decimal(2000)
    assert acct.equity == b.cash + 2000
    assert acct.margin_used == Decimal(63000) / 10
    assert acct.available == acct.equity - acct.margin_used

    sell = b.fill("BTCUSDT", Side.SHORT, "0.4", "64000", fee_rate=FEE, fill_id="f3", now=T0)
    assert sell.applied
    assert sell.realized_pnl == Decimal("0.4") * 3000
    assert sell.position is not None
    assert sell.position.quantity == Decimal("0.6")
    assert sell.position.entry_price == Decimal(61000)

    # A sell larger than the long closes it and opens a short at the fill price.
    flip = b.fill("BTCUSDT", "SELL", "1.0", "65000", fee_rate=FEE, fill_id="f4", now=T0)
    assert flip.realized_pnl == Decimal("0.6") * 4000
    assert flip.position is not None
    assert (flip.position.side, flip.position.quantity, flip.position.entry_price) == (
        Side.SHORT, Decimal("0.4"), Decimal(65000))
    assert b.realized_pnl == Decimal(1200) + Decimal(2400)
    total_fees = fees + (Decimal("0.4") * 64000 + Decimal(65000)) * FEE
    assert b.fees_paid == total_fees
    assert b.cash == Decimal(100000) + b.realized_pnl - total_fees


def test_duplicate_fill_is_applied_once() -> None:
    kv = MemoryKV()
    b = broker(kv)
    first = b.fill("AAPL", "BUY", 10, "190.00", fee_rate=0, fill_id="x-1", now=T0)
    writes, doc = kv.writes, copy.deepcopy(kv.docs)
    again = b.fill("AAPL", "BUY", 10, "190.00", fee_rate=0, fill_id="x-1", now=T0)
    assert first.applied
    assert not again.applied
    assert again.realized_pnl == 0
    assert b.positions()[0].quantity == 10
    assert (kv.writes, kv.docs) == (writes, doc)


def test_state_survives_a_restart() -> None:
    kv = MemoryKV()
    b = broker(kv)
    b.fill("AAPL", "BUY", 10, "190.00", fee_rate="0.001", fill_id="a", now=T0)
    b.fill("AAPL", "SELL", 4, "195.00", fee_rate="0.001", fill_id="b", now=T0 + timedelta(1))
    b.set_price("AAPL", "193.20")
    again = PaperBroker(kv, [BTC, AAPL], starting_cash=Decimal(1))  # stored state wins
    assert again.account(T0) == b.account(T0)
    assert again.positions()[0].opened_at == T0
    assert (again.cash, again.realized_pnl, again.fees_paid) == (
        b.cash, b.realized_pnl, b.fees_paid)
    assert not again.fill("AAPL", "SELL", 4, "195.00", fee_rate="0.001", fill_id="b",
                          now=T0).applied


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"qty": "0.0005"}, "qty"),
    ({"price": "60000.05"}, "price"),
    ({"qty": "-1"}, "qty"),
    ({"price": "nan"}, "price"),
    ({"fee_rate": "1"}, "fee_rate"),
    ({"now": datetime(2024, 6, 3)}, "now"),
    ({"fill_id": ""}, "fill_id"),
    ({"side": "HOLD"}, "side"),
])
def test_bad_fill_writes_nothing(kwargs: dict[str, Any], field: str) -> None:
    kv = MemoryKV()
    b = broker(kv)
    args: dict[str, Any] = {"symbol": "BTCUSDT", "side": "BUY", "qty": "0.010",
                            "price": "60000.0", "fee_rate": FEE, "fill_id": "z", "now": T0}
    args.update(kwargs)
    before = copy.deepcopy(kv.docs)
    with pytest.raises(InvalidInputError) as info:
        b.fill(**args)
    assert info.value.field == field
    assert kv.docs == before
    assert b.positions() == []


def test_unknown_symbol() -> None:
    b = broker()
    with pytest.raises(UnknownSymbolError):
        b.fill("ETHUSDT", "BUY", 1, 3000, fee_rate=0, fill_id="e", now=T0)
    with pytest.raises(UnknownSymbolError):
        b.market_rules("ETHUSDT")
    assert b.market_rules("BTCUSDT") is BTC


def test_opening_beyond_margin_is_refused_but_reducing_is_not() -> None:
    kv = MemoryKV()
    b = broker(kv, cash="10000", leverage={"BTCUSDT": 2})
    b.fill("BTCUSDT", "BUY", "0.3", "60000", fee_rate=0, fill_id="ok", now=T0)  # 9000 margin
    before = copy.deepcopy(kv.docs)
    with pytest.raises(BrokerError, match="insufficient margin"):
        b.fill("BTCUSDT", "BUY", "0.1", "60000", fee_rate=0, fill_id="no", now=T0)
    assert kv.docs == before
    # After a loss that leaves margin short, a reducing fill still goes through.
    b.set_price("BTCUSDT", "40000")
    assert b.fill("BTCUSDT", "SELL", "0.1", "40000", fee_rate=0, fill_id="cut",
                  now=T0).applied


def test_leverage_above_market_maximum_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="leverage"):
        broker(leverage={"BTCUSDT": 50})
    with pytest.raises(InvalidInputError, match="leverage"):
        broker(leverage={"AAPL": 2})


def test_wiped_out_account_raises() -> None:
    b = broker(cash="1000", leverage={"BTCUSDT": 20})
    b.fill("BTCUSDT", "BUY", "0.3", "60000", fee_rate=0, fill_id="big", now=T0)
    b.set_price("BTCUSDT", "50000")
    with pytest.raises(BrokerError, match="no equity"):
        b.account(T0)


def test_order_book_is_empty_until_set() -> None:
    b = broker()
    assert b.order_book("BTCUSDT").bids == ()
    b.set_book("BTCUSDT", [("60000", "1"), ("59999.9", "2")], [("60000.1", "1.5")])
    book = b.order_book("BTCUSDT", depth=1)
    assert (book.best_bid, book.best_ask, len(book.bids)) == (
        Decimal(60000), Decimal("60000.1"), 1)


def test_corrupt_stored_state_fails_closed() -> None:
    kv = MemoryKV()
    kv.put_kv("paper:default", {"version": 99})
    with pytest.raises(BrokerError, match="unknown format"):
        broker(kv)
    kv.put_kv("paper:default", {"version": 1, "cash": "NaN", "realized_pnl": "0", "fees": "0",
                                "positions": {}, "marks": {}, "fill_ids": []})
    with pytest.raises(BrokerError, match="cash"):
        broker(kv)
    kv.put_kv("paper:default", {"version": 1, "cash": "1", "realized_pnl": "0", "fees": "0",
                                "positions": {"AAPL": {"side": "LONG", "quantity": "-3",
                                                       "entry_price": "10"}},
                                "marks": {}, "fill_ids": []})
    with pytest.raises(BrokerError, match=r"AAPL\.quantity"):
        broker(kv)


def test_journal_gets_net_pnl_for_closes_and_none_for_openers() -> None:
    kv = JournalKV()
    b = broker(kv)
    b.fill("AAPL", "BUY", 10, "100.00", fee_rate="0.001", fill_id="o", now=T0, strategy="mom")
    b.fill("AAPL", "SELL", 15, "110.00", fee_rate="0.001", fill_id="c", now=T0, strategy="mom")
    assert kv.fills["o"][-1] is None
    # Closing 10 of 15 at +10 each: 100, less two thirds of the 1.65 fee.
    assert kv.fills["c"][-1] == Decimal(100) - Decimal("1.65") * 10 / 15
    assert kv.fills["c"][5] == "mom"


def test_fill_already_in_the_journal_is_not_applied_twice() -> None:
    kv = JournalKV()
    kv.fills["dup"] = ("AAPL",)
    b = broker(kv)
    before = copy.deepcopy(kv.docs)
    result = b.fill("AAPL", "BUY", 10, "100.00", fee_rate=0, fill_id="dup", now=T0)
    assert not result.applied
    assert b.positions() == []
    assert kv.docs == before


def test_a_crash_between_account_and_journal_is_healed_on_restart() -> None:
    kv = JournalKV()
    b = broker(kv)
    b.fill("AAPL", "BUY", 10, "100.00", fee_rate=0, fill_id="f", now=T0)
    del kv.fills["f"]  # as if the process died before journalling
    PaperBroker(kv, [BTC, AAPL], starting_cash=Decimal(1))
    assert "f" in kv.fills


def test_with_the_sqlite_store(sqlite_url: str) -> None:
    with Store.open(sqlite_url, migrate=True) as store:
        b = PaperBroker(store, [BTC, AAPL], starting_cash=Decimal(50000), account_id="demo")
        b.fill("AAPL", "BUY", 20, "100.00", fee_rate="0.0005", fill_id="s1", now=T0)
        b.fill("AAPL", "SELL", 5, "104.00", fee_rate="0.0005", fill_id="s2",
               now=T0 + timedelta(minutes=5))
        assert not b.fill("AAPL", "SELL", 5, "104.00", fee_rate="0.0005", fill_id="s2",
                          now=T0 + timedelta(minutes=5)).applied
        rows = store.fills(symbol="AAPL")
        assert [r["fill_id"] for r in rows] == ["s1", "s2"]
        assert rows[0]["realized_pnl"] is None
        assert rows[1]["realized_pnl"] == Decimal(20) - Decimal("0.26")
        acct = b.account(T0)
    with Store.open(sqlite_url) as store:
        again = PaperBroker(store, [BTC, AAPL], starting_cash=Decimal(1), account_id="demo")
        assert again.account(T0) == acct
        assert again.positions()[0].quantity == 15


def test_reconciliation_against_the_paper_broker_is_stored(sqlite_url: str) -> None:
    with Store.open(sqlite_url, migrate=True) as store:
        b = PaperBroker(store, [BTC, AAPL], starting_cash=Decimal(50000))
        seen = [b.fill("AAPL", "BUY", 20, "100.00", fee_rate=0, fill_id="k1", now=T0).fill]
        b.fill("AAPL", "BUY", 5, "101.00", fee_rate=0, fill_id="k2", now=T0)  # the desk missed it
        book = Book(cash=Decimal(50000)).apply_fills(seen)
        report = run_reconciliation(b, book, ReconcilePolicy(), T0, account_id="paper-demo")
        assert [f.kind for f in report.findings] == [FindingKind.QUANTITY_DRIFT,
                                                     FindingKind.PRICE_DRIFT]
        assert report.book.positions[0].quantity == 25
        stored = run_reconciliation(b, report.book, ReconcilePolicy(), T0, store=store,
                                    account_id="paper-demo")
        assert stored.clean
        (row,) = store.reconciliations(account_id="paper-demo")
        assert row["report"]["clean"] is True
        assert row["report"]["book"]["positions"][0]["quantity"] == "25"

        pool = Pool((SubAccount("trend", Decimal(50000),
                                (Position("AAPL", Side.LONG, Decimal(20), Decimal(100)),)),))
        pool_report = run_pool_reconciliation(b, pool, ReconcilePolicy.adopt_all(), T0,
                                              store=store, account_id="paper-demo")
        assert pool_report.pool.net("AAPL") == 25
        assert len(store.reconciliations(account_id="paper-demo")) == 2
