"""Turn domain values and caller dicts into JSON documents without losing a digit.

Decimals become strings, datetimes ISO-8601 strings, enums their value, dataclasses and
mappings objects, tuples and lists arrays. NaN and infinities are refused: JSON cannot hold
them, and a risk record with a NaN in it is a bug upstream.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import IO, Any

from riskdesk.errors import InvalidInputError

JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]


def to_json(value: object, field: str) -> JsonValue:
    """A JSON-ready copy of ``value``.

    Parameters
    ----------
    value
        ``None``, booleans, numbers, strings, Decimals, datetimes, enums, dataclasses,
        mappings with string keys, lists and tuples, nested.
    field
        Name of the value, used in error messages (nested paths are appended).

    Returns
    -------
    JsonValue
        Built from ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``.

    Raises
    ------
    InvalidInputError
        For NaN or infinite numbers, non-string keys and unsupported types.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return to_json(value.value, field)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(field, value, "a finite number")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidInputError(field, value, "a finite number")
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name), f"{field}.{f.name}")
                for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInputError(f"{field}", k, "string keys")
            out[k] = to_json(v, f"{field}.{k}")
        return out
    if isinstance(value, list | tuple):
        return [to_json(v, f"{field}[{i}]") for i, v in enumerate(value)]
    raise InvalidInputError(field, value, "a JSON-serializable value")


def to_json_object(value: object, field: str) -> dict[str, Any]:
    """Like :func:`to_json` for a value that must be a JSON object (a mapping)."""
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, value, "a dict")
    out = to_json(value, field)
    assert isinstance(out, dict)
    return out


def write_jsonl(fp: IO[str], row: Mapping[str, Any]) -> None:
    """Write one JSON line, Decimals and datetimes as strings."""
    fp.write(json.dumps(to_json(row, "row"), separators=(",", ":"), ensure_ascii=False))
    fp.write("\n")
