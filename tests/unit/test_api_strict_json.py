"""The strict JSON parser of request bodies: ``json.loads`` unless an object repeats a key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskdesk.api._strict_json import DuplicateKeyError, loads, parse

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30)


@given(JSON_VALUES, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_a_body_without_a_repeated_key_parses_as_json_loads_parses_it(
        value: Any, encoding: str) -> None:
    body = json.dumps(value, ensure_ascii=False).encode(encoding, "surrogatepass")
    assert parse(body) == json.loads(body)
    assert loads(body) == json.loads(body)


@pytest.mark.parametrize(("raw", "loc"), [
    ('{"a": 1, "a": 1}', ("a",)),
    ('{"a": 1, "b": 2, "b": 3, "a": 4}', ("b",)),
    ('{"x": [0, {"y": {"z": 1, "z": 2}}]}', ("x", 1, "y", "z")),
    ('[[], [{"k": 1}, {"k": 1, "k\\u0000": 2, "k": 3}]]', (1, 1, "k")),
    ('{"outer": {"in": 1, "in": 2}, "outer": 3}', ("outer", "in")),
])
def test_a_repeated_key_is_refused_with_its_path(raw: str, loc: tuple[str | int, ...]) -> None:
    with pytest.raises(DuplicateKeyError) as caught:
        loads(raw.encode())
    assert (caught.value.key, caught.value.loc) == (loc[-1], loc)
    assert str(caught.value).startswith(f'duplicate key "{loc[-1]}"')
    with pytest.raises(DuplicateKeyError):
        parse(raw.encode())


@pytest.mark.parametrize(("raw", "error"), [
    ('{"a": {"b": 1, "b": 2}, ', json.JSONDecodeError),
    ('{"a": {"b": 1, "b": 2}, "c": ' + "[" * 100_000 + "]" * 100_000 + "}", RecursionError),
])
def test_a_body_that_is_not_json_besides_is_refused_for_that(
        raw: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        loads(raw.encode())
