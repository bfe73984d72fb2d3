"""JSON bodies of the deciding answers, encoded with orjson."""

from __future__ import annotations

from typing import Any

import orjson


def json_bytes(value: dict[str, Any]) -> bytes:
    """``value`` as compact UTF-8 JSON.

    ``value`` is built from dicts, lists, strings, finite floats, ints, booleans and ``None``
    (the service's answers are); anything else raises ``TypeError``, as the standard
    library's encoder would.
    """
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise TypeError(str(exc)) from exc
