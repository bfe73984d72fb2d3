"""The paper broker's synthetic order book (a paper simulation around the mark)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from riskdesk.brokers import PaperBroker, SyntheticBook
from riskdesk.domain import MarketRules
from riskdesk.errors import InvalidInputError

D = Decimal
STOCK = MarketRules(symbol="AAPL", step=D(1), tick=D("0.01"), min_qty=D(1))


class MemoryKV:
    def __init__(self) -> None:
        self.docs: dict[str, Any] = {}

    def get_kv(self, key: str) -> Any:
        return self.docs.get(key)

    def put_kv(self, key: str, value: Any) -> None:
        self.docs[key] = value


@pytest.mark.parametrize(("mark", "half", "step", "levels", "tick"), [
    ("430.47", 2.0, 1.0, 10, "0.01"),
    ("27.95", 5.0, 2.0, 3, "0.01"),
    ("60000", 0.5, 0.5, 20, "0.1"),
    ("1.00", 1.0, 1.0, 5, "0.01"),  # ticks coarser than the spacing: levels step a tick out
])
def test_book_brackets_the_mark_on_ticks(mark: str, half: float, step: float, levels: int,
                                         tick: str) -> None:
    rules = MarketRules(symbol="X", step=D(1), tick=D(tick))
    book = SyntheticBook(half_spread_bps=half, levels=levels, level_step_bps=step,
                         level_notional=D(100_000)).quote(D(mark), rules, depth=50)
    m = float(mark)
    assert len(book.asks) == levels
    assert 0 < len(book.bids) <= levels
    assert book.bids[0].price < m < book.asks[0].price
    # At least the configured half spread away, rounded outwards to the tick.
    assert book.bids[0].price <= m * (1 - half / 1e4) + 1e-9
    assert book.asks[0].price >= m * (1 + half / 1e4) - 1e-9
    prices = [lvl.price for lvl in book.bids + book.asks]
    assert all(D(repr(p)) % D(tick) == 0 for p in prices)
    # Each level rests the configured notional.
    for lvl in book.bids + book.asks:
        assert lvl.price * lvl.size == pytest.approx(100_000)


def test_depth_cuts_the_book() -> None:
    book = SyntheticBook(levels=10).quote(D("430.47"), STOCK, depth=3)
    assert len(book.bids) == len(book.asks) == 3


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"half_spread_bps": 0}, "book.half_spread_bps"),
    ({"half_spread_bps": float("nan")}, "book.half_spread_bps"),
    ({"level_step_bps": -1.0}, "book.level_step_bps"),
    ({"levels": 0}, "book.levels"),
    ({"levels": True}, "book.levels"),
    ({"level_notional": D(0)}, "book.level_notional"),
    ({"level_notional": D("NaN")}, "book.level_notional"),
])
def test_bad_settings_are_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        SyntheticBook(**kwargs)
    assert info.value.field == field


def test_settings_round_trip_and_unknown_keys_are_refused() -> None:
    book = SyntheticBook(half_spread_bps=3.0, levels=4, level_step_bps=2.5,
                         level_notional=D("12345.67"))
    assert SyntheticBook.from_dict(book.to_dict()) == book
    with pytest.raises(InvalidInputError, match=r"book\.spread"):
        SyntheticBook.from_dict({"spread": 1})


def test_paper_broker_quotes_the_synthetic_book_only_when_configured() -> None:
    plain = PaperBroker(MemoryKV(), [STOCK], starting_cash=D(1000))
    plain.set_price("AAPL", D("430.47"))
    assert plain.order_book("AAPL").bids == ()

    quoting = PaperBroker(MemoryKV(), [STOCK], starting_cash=D(1000), book=SyntheticBook())
    assert quoting.order_book("AAPL").asks == ()  # no mark yet: nothing to quote around
    quoting.set_price("AAPL", D("430.47"))
    book = quoting.order_book("AAPL", depth=5)
    assert len(book.bids) == 5
    assert book.bids[0].price < 430.47 < book.asks[0].price
    # A book set by hand wins over the synthetic one.
    quoting.set_book("AAPL", [("430.40", "10")], [("430.50", "10")])
    assert quoting.order_book("AAPL").bids[0].price == 430.40


def test_paper_broker_refuses_a_book_of_the_wrong_type() -> None:
    with pytest.raises(InvalidInputError, match="book"):
        PaperBroker(MemoryKV(), [STOCK], starting_cash=D(1000), book={"levels": 3})  # type: ignore[arg-type]
