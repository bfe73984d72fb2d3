"""A market snapshot's book levels: the plain-float shortcut keeps exactly what the checked
conversion keeps, and refuses exactly what it refuses, naming the same field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskdesk.domain import BookLevel, MarketRules, MarketSnapshot
from riskdesk.domain._market import _checked_level
from riskdesk.errors import InvalidInputError

RULES = MarketRules(symbol="X", step=Decimal(1), tick=Decimal("0.01"))
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e16, max_value=1e16),
    st.sampled_from([0.0, -0.0, 1e15, 1e15 + 1e3, 5e-324, float("nan"), float("inf")]),
    st.integers(min_value=-10, max_value=10**16),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, max_value=10**16),
    st.booleans(), st.text(max_size=3))
levels = st.one_of(st.builds(BookLevel, numbers, numbers), st.tuples(numbers, numbers))


def _reference(side: str, raw: list[Any]) -> tuple[BookLevel, ...] | str:
    try:
        return tuple(_checked_level(lvl, f"market.{side}[{i}]") for i, lvl in enumerate(raw))
    except InvalidInputError as exc:
        return exc.field


@given(st.lists(levels, max_size=6), st.lists(levels, max_size=6))
def test_levels_match_the_checked_conversion(bids: list[Any], asks: list[Any]) -> None:
    want_bids, want_asks = _reference("bids", bids), _reference("asks", asks)
    first_error = want_bids if isinstance(want_bids, str) else \
        want_asks if isinstance(want_asks, str) else None
    if first_error is not None:
        with pytest.raises(InvalidInputError) as info:
            MarketSnapshot(rules=RULES, price=Decimal(1), bids=tuple(bids), asks=tuple(asks))
        assert info.value.field == first_error
        return
    snap = MarketSnapshot(rules=RULES, price=Decimal(1), bids=tuple(bids), asks=tuple(asks))
    assert snap.bids == want_bids
    assert snap.asks == want_asks
    assert all(type(x.price) is float for x in snap.bids + snap.asks)
    assert all(type(x.size) is float for x in snap.bids + snap.asks)
