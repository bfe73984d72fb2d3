"""Book.apply_fill keeps the contract size of a market whose contract is not one unit.

The paper broker is the reference: the same fills, with the contract size of the market's
rules, must realize the same PnL and leave the same cash and positions in both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskdesk.brokers import Fill, PaperBroker
from riskdesk.domain import MarketRules, Position, Side
from riskdesk.errors import InvalidInputError
from riskdesk.reconcile import Book, Pool, SubAccount

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
START = Decimal(10**9)
BTC = MarketRules("BTC/USDT:USDT", Decimal(1), Decimal("0.1"), Decimal(1),
                  contract_size=Decimal("0.01"), max_leverage=Decimal(100))
OPT = MarketRules("AAPL240621C00200000", Decimal(1), Decimal("0.01"), Decimal(1),
                  contract_size=Decimal(100))


class MemoryKV:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    def get_kv(self, key: str) -> dict[str, Any] | None:
        return self.docs.get(key)

    def put_kv(self, key: str, value: dict[str, Any]) -> None:
        self.docs[key] = value


def paper(rules: MarketRules) -> PaperBroker:
    return PaperBroker(MemoryKV(), [rules], starting_cash=START)


def test_round_trip_realizes_the_paper_brokers_pnl_with_contract_size_001() -> None:
    broker = paper(BTC)
    fills = [broker.fill(BTC.symbol, "BUY", 10, "60000.0", fee_rate="0.0004", fill_id="b",
                         now=NOW).fill,
             broker.fill(BTC.symbol, "SELL", 10, "61000.0", fee_rate="0.0004", fill_id="s",
                         now=NOW).fill]
    book = Book(cash=START).apply_fills(fills, contract_sizes={BTC.symbol: BTC.contract_size})
    # 10 contracts x 0.01 BTC x 1000 USDT, minus fees on 6000 and 6100 USDT of notional.
    assert broker.realized_pnl == Decimal(100)
    assert book.cash == broker.cash == START + Decimal(100) - Decimal("4.84")
    assert book.positions == ()


def test_round_trip_realizes_the_paper_brokers_pnl_with_contract_size_100() -> None:
    broker = paper(OPT)
    buy = broker.fill(OPT.symbol, "BUY", 3, "2.50", fee_rate=0, fill_id="b", now=NOW).fill
    book = Book(cash=START).apply_fill(buy, contract_size=OPT.contract_size)
    (held,) = book.positions
    assert held.contract_size == 100
    assert held == broker.positions()[0]
    assert held.notional == Decimal(750)
    sell = broker.fill(OPT.symbol, "SELL", 3, "3.10", fee_rate=0, fill_id="s", now=NOW).fill
    # The add, the reduction and the close keep the held position's contract size.
    book = book.apply_fill(sell)
    assert broker.realized_pnl == Decimal(180) == book.cash - START
    assert book.positions == ()


def test_a_flip_keeps_the_contract_size() -> None:
    buy = Fill("b", OPT.symbol, Side.LONG, Decimal(2), Decimal(5), NOW)
    sell = Fill("s", OPT.symbol, Side.SHORT, Decimal(5), Decimal(6), NOW)
    book = Book(cash=Decimal(0)).apply_fill(buy, contract_size=100).apply_fill(sell)
    (short,) = book.positions
    assert (short.side, short.quantity, short.contract_size) == (Side.SHORT, 3, 100)
    assert book.cash == Decimal(200)


def test_a_different_contract_size_for_a_held_symbol_is_bad_input() -> None:
    buy = Fill("b", OPT.symbol, Side.LONG, Decimal(2), Decimal(5), NOW)
    book = Book().apply_fill(buy, contract_size=100)
    add = Fill("a", OPT.symbol, Side.LONG, Decimal(1), Decimal(5), NOW)
    with pytest.raises(InvalidInputError) as info:
        book.apply_fill(add, contract_size=10)
    assert info.value.field == "contract_size"
    with pytest.raises(InvalidInputError) as info:
        book.apply_fills([add], contract_sizes={OPT.symbol: 10})
    assert info.value.field == f"contract_sizes[{OPT.symbol}]"
    assert book.apply_fill(add, contract_size="100").positions[0].quantity == 3


@pytest.mark.parametrize("size", [0, -1, "x"])
def test_a_bad_contract_size_names_the_field(size: Any) -> None:
    buy = Fill("b", OPT.symbol, Side.LONG, Decimal(2), Decimal(5), NOW)
    with pytest.raises(InvalidInputError) as info:
        Book().apply_fill(buy, contract_size=size)
    assert info.value.field == "contract_size"


def test_a_held_position_keeps_its_contract_size_without_the_argument() -> None:
    held = Position(OPT.symbol, Side.LONG, Decimal(1), Decimal(5), contract_size=Decimal(100))
    sell = Fill("s", OPT.symbol, Side.SHORT, Decimal(1), Decimal(7), NOW)
    assert Book((held,), cash=Decimal(0)).apply_fill(sell).cash == Decimal(200)


fills = st.lists(st.tuples(st.sampled_from([Side.LONG, Side.SHORT]), st.integers(1, 50),
                           st.integers(1, 100_000)), min_size=1, max_size=10)


@given(fills, st.sampled_from([BTC, OPT]))
def test_book_cash_and_positions_equal_the_paper_brokers(raw: list[tuple[Side, int, int]],
                                                         rules: MarketRules) -> None:
    broker = PaperBroker(MemoryKV(), [rules], starting_cash=START,
                         leverage={rules.symbol: rules.max_leverage})
    delivered = [broker.fill(rules.symbol, side, qty, rules.tick * ticks, fee_rate="0.0004",
                             fill_id=f"f{i}", now=NOW).fill
                 for i, (side, qty, ticks) in enumerate(raw)]
    book = Book(cash=START).apply_fills(delivered,
                                        contract_sizes={rules.symbol: rules.contract_size})
    assert book.cash == broker.cash
    assert [p.contract_size for p in book.positions] == \
        [p.contract_size for p in broker.positions()]
    assert [(p.side, p.quantity, p.entry_price) for p in book.positions] == \
        [(p.side, p.quantity, p.entry_price) for p in broker.positions()]


def test_a_pool_books_the_paper_brokers_pnl_with_contract_size_001() -> None:
    broker = paper(BTC)
    fills = [broker.fill(BTC.symbol, "BUY", 10, "60000.0", fee_rate="0.0004", fill_id="b",
                         strategy="trend", now=NOW).fill,
             broker.fill(BTC.symbol, "SELL", 4, "61000.0", fee_rate="0.0004", fill_id="s",
                         strategy="trend", now=NOW).fill]
    pool = Pool((SubAccount("trend", START),)).apply_fills(
        fills, contract_sizes={BTC.symbol: BTC.contract_size})
    trend = pool.account("trend")
    # 4 contracts x 0.01 BTC x 1000 USDT realized, minus fees on 6000 and 2440 USDT.
    assert trend.capital == START + Decimal(40) - Decimal("3.376")
    assert broker.realized_pnl == Decimal(40)
    held = trend.position(BTC.symbol)
    assert held is not None
    assert held.contract_size == BTC.contract_size
    with pytest.raises(InvalidInputError, match="contract_size"):
        pool.apply_fill(broker.fill(BTC.symbol, "SELL", 1, "61000.0", fee_rate=0,
                                    fill_id="x", strategy="trend", now=NOW).fill,
                        contract_size=1)
