"""Decimal text at the boundary: only the plain grammar, not everything Python's Decimal reads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from riskdesk.domain import to_decimal
from riskdesk.errors import InvalidInputError


@pytest.mark.parametrize(("text", "expected"), [
    ("430", Decimal(430)), (" 4.30 ", Decimal("4.30")), ("-.5", Decimal("-0.5")),
    ("5.", Decimal(5)), ("+1E-3", Decimal("0.001")), ("1e3", Decimal(1000)),
])
def test_plain_decimal_text_is_read(text: str, expected: Decimal) -> None:
    assert to_decimal(text, "price", allow_negative=True) == expected


@pytest.mark.parametrize("text", [
    "4_30",  # Python's Decimal reads it as 430
    "\u0661\u0662\u0663",  # Arabic-Indic digits: 123 to Python's Decimal
    "NaN", "Infinity", "-inf", "1.2.3", "", "1e", "0x10", "1,000",
])
def test_other_text_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^price: "):
        to_decimal(text, "price", allow_negative=True)
