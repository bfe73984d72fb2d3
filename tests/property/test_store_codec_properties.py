"""The journal's JSON codec: its fast path gives exactly what the checked path gives."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskdesk.domain import (
    AccountState,
    Adjustment,
    BookLevel,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    Regime,
    Side,
    Signal,
)
from riskdesk.errors import InvalidInputError
from riskdesk.store._codec import _checked, to_json, validated_json_text
from riskdesk.store._journal import trail_json


class Color(Enum):
    RED = "red"
    BLUE = 2


@dataclass(frozen=True)
class Level:
    price: float
    size: Decimal
    tag: Color | None = None


leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.datetimes(timezones=st.just(UTC)), st.sampled_from(Color),
    st.builds(Level, st.floats(allow_nan=False, allow_infinity=False),
              st.decimals(allow_nan=False, allow_infinity=False, places=2),
              st.none() | st.sampled_from(Color)),
)
def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (st.lists(inner, max_size=4) | st.tuples(inner, inner)
            | st.dictionaries(st.text(max_size=4), inner, max_size=4))


values = st.recursive(leaves, _containers, max_leaves=20)


@given(values)
def test_fast_path_equals_checked_path(value: Any) -> None:
    assert to_json(value, "v") == _checked(value, "v")


@given(values, st.sampled_from([math.nan, math.inf, Decimal("NaN"), Decimal("-Infinity")]))
def test_a_non_finite_number_anywhere_is_named(value: Any, bad: Any) -> None:
    doc = {"ok": value, "deep": [{"x": bad}]}
    with pytest.raises(InvalidInputError) as info:
        to_json(doc, "row")
    assert info.value.field == "row.deep[0].x"


def test_unsupported_types_and_keys_are_named() -> None:
    with pytest.raises(InvalidInputError) as info:
        to_json({"a": [1, object()]}, "row")
    assert info.value.field == "row.a[1]"
    with pytest.raises(InvalidInputError) as info:
        to_json({"a": {1: 2}}, "row")
    assert info.value.field == "row.a"


def test_dataclass_fields_and_times_are_spelled_out() -> None:
    at = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    assert to_json([Level(1.5, Decimal("2.50"), Color.BLUE), at], "v") == [
        {"price": 1.5, "size": "2.50", "tag": 2}, "2026-01-05T14:30:00+00:00"]


# ---------------------------------------------------------------------- validated domain values
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2)
when = st.datetimes(timezones=st.just(UTC)) | st.none()
signals = st.builds(
    Signal, symbol=st.sampled_from(["AAPL", "BTC/USDT"]), side=st.sampled_from(list(Side)),
    score=finite | st.none(), strength=st.floats(0, 1) | st.none(),
    expected_return_pct=finite | st.none(), regime=st.sampled_from(list(Regime)) | st.none(),
    win_rate=st.floats(0, 1) | st.none(), strategy=st.text(max_size=5) | st.none(),
    reduce_only=st.booleans())
positions = st.builds(Position, symbol=st.sampled_from(["AAPL", "MSFT"]),
                      side=st.sampled_from(list(Side)), quantity=money, entry_price=money,
                      mark_price=money | st.none())
accounts = st.builds(AccountState, equity=money, available=money, as_of=when,
                     positions=st.lists(positions, max_size=3,
                                         unique_by=lambda p: p.symbol).map(tuple),
                     trades_today=st.integers(0, 50))
book = st.lists(st.builds(BookLevel, st.floats(0.01, 1e6), st.floats(0, 1e6)), max_size=5)
markets = st.builds(MarketSnapshot, rules=st.just(MarketRules(symbol="AAPL", step=Decimal(1),
                                                              tick=Decimal("0.01"))),
                    price=money, as_of=when, atr=money | st.none(),
                    volatility=st.floats(0, 5) | st.none(), bids=book.map(tuple),
                    asks=book.map(tuple))


@given(signals, accounts | st.none(), markets | st.none())
def test_validated_domain_values_encode_as_the_codec_does(
        signal: Signal, account: AccountState | None, market: MarketSnapshot | None) -> None:
    doc = {"signal": signal, "account": account, "market": market}
    assert json.loads(validated_json_text(doc, "inputs")) == to_json(doc, "inputs")


def test_anything_else_takes_the_checked_path() -> None:
    doc = {"signal": {"score": math.nan}}
    with pytest.raises(InvalidInputError) as info:
        validated_json_text(doc, "inputs")
    assert info.value.field == "inputs.signal.score"
    assert json.loads(validated_json_text({"x": [1, Decimal("2.5")]}, "d")) == {"x": [1, "2.5"]}


trail_values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5))
adjustments = st.builds(Adjustment, step=st.text(max_size=6),
                        code=st.sampled_from(list(ReasonCode)), before=trail_values,
                        after=trail_values, note=st.text(max_size=8))


@given(st.lists(adjustments, max_size=8))
def test_trail_encoding_matches_the_codec(trail: list[Adjustment]) -> None:
    finite = all(math.isfinite(a.before) and math.isfinite(a.after) for a in trail)
    if not finite:
        with pytest.raises(InvalidInputError) as want:
            to_json([a.to_dict() for a in trail], "decision.trail")
        with pytest.raises(InvalidInputError) as got:
            trail_json(tuple(trail))
        assert got.value.field == want.value.field
        return
    assert trail_json(tuple(trail)) == to_json([a.to_dict() for a in trail], "decision.trail")
