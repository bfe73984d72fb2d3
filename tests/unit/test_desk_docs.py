from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import riskdesk.desk._desk
from riskdesk import ReasonCode

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("code", list(ReasonCode))
def test_every_reason_code_is_documented(code):
    assert f"`{code.value}`" in (DOCS / "reason-codes.md").read_text(encoding="utf-8")


def test_desk_docstring_example_runs():
    result = doctest.testmod(riskdesk.desk._desk, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
