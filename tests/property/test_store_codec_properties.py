"""The journal's JSON codec: its fast path gives exactly what the checked path gives."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskdesk.errors import InvalidInputError
from riskdesk.store._codec import _checked, to_json


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
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                      | st.tuples(inner, inner)
                      | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=20)


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
