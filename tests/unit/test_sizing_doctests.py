"""The examples in the sizing docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["_capital_scaling", "_conviction", "_fixed", "_kelly", "_leverage", "_liquidity",
           "_profile", "_qty", "_stabilizer", "_stop"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"riskdesk.sizing.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_public_surface_is_deliberate() -> None:
    import riskdesk.sizing as sizing

    assert sorted(sizing.__all__) == sizing.__all__
    for name in sizing.__all__:
        assert getattr(sizing, name).__doc__, name
