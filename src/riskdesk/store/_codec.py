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

import orjson

from riskdesk.domain import AccountState, BookLevel, MarketSnapshot, Signal
from riskdesk.errors import InvalidInputError

JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]


class _UnfitError(Exception):
    """Raised by the fast path; the slow path then names the offending field."""


def _same(value: Any) -> JsonValue:
    return value  # type: ignore[no-any-return]


def _float(value: Any) -> JsonValue:
    if not math.isfinite(value):
        raise _UnfitError
    return value  # type: ignore[no-any-return]


def _decimal(value: Any) -> JsonValue:
    if not value.is_finite():
        raise _UnfitError
    return str(value)


def _iso(value: Any) -> JsonValue:
    return value.isoformat()  # type: ignore[no-any-return]


#: Leaves kept as they are; floats are kept when finite (checked inline by the containers).
_PLAIN = frozenset({str, int, bool, type(None)})


def _item(value: Any) -> JsonValue:
    """One element of a container: plain leaves inline, the rest through :func:`_fast`."""
    kind = type(value)
    if kind in _PLAIN:
        return value  # type: ignore[no-any-return]
    if kind is float:
        if value - value != 0.0:  # NaN or an infinity
            raise _UnfitError
        return value  # type: ignore[no-any-return]
    return _fast(value)


def _sequence(value: Any) -> JsonValue:
    return [_item(v) for v in value]


def _set(value: Any) -> JsonValue:
    try:
        items = sorted(value)
    except TypeError:
        raise _UnfitError from None
    return [_item(v) for v in items]


def _mapping(value: Any) -> JsonValue:
    out: dict[str, Any] = {}
    for k, v in value.items():
        if type(k) is not str:
            raise _UnfitError
        out[k] = _item(v)
    return out


#: Converters by exact type; dataclasses and enums are added as they are first met.
_CONVERTERS: dict[type, Any] = {
    type(None): _same, bool: _same, int: _same, str: _same, float: _float,
    Decimal: _decimal, datetime: _iso, date: _iso, list: _sequence, tuple: _sequence,
    dict: _mapping, set: _set, frozenset: _set,
}


def _converter(kind: type) -> Any:
    """A converter for ``kind`` (a dataclass or an enum), or ``None`` for the checked path."""
    if issubclass(kind, Enum):
        def enum(value: Any) -> JsonValue:
            return _fast(value.value)
        return enum
    if dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in dataclasses.fields(kind))

        def record(value: Any) -> JsonValue:
            return {name: _item(getattr(value, name)) for name in names}
        return record
    return None


def _fast(value: object) -> JsonValue:
    """:func:`to_json` without tracking the field path (the common, valid case)."""
    convert = _CONVERTERS.get(type(value))
    if convert is None:
        convert = _converter(type(value))
        if convert is None:
            # Subclasses of the plain types and anything else: the checked path decides.
            raise _UnfitError
        _CONVERTERS[type(value)] = convert
    return convert(value)  # type: ignore[no-any-return]


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
    try:
        return _fast(value)
    except _UnfitError:
        return _checked(value, field)


def _checked(value: object, field: str) -> JsonValue:
    """:func:`to_json` tracking the field path, to name what cannot be stored."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return _checked(value.value, field)
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
        return {f.name: _checked(getattr(value, f.name), f"{field}.{f.name}")
                for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInputError(f"{field}", k, "string keys")
            out[k] = _checked(v, f"{field}.{k}")
        return out
    if isinstance(value, list | tuple):
        return [_checked(v, f"{field}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, set | frozenset) and all(isinstance(v, str) for v in value):
        return [_checked(v, f"{field}[{i}]") for i, v in enumerate(sorted(value))]
    raise InvalidInputError(field, value, "a JSON-serializable value")


def to_json_object(value: object, field: str) -> dict[str, Any]:
    """Like :func:`to_json` for a value that must be a JSON object (a mapping)."""
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, value, "a dict")
    out = to_json(value, field)
    assert isinstance(out, dict)
    return out


#: Field names of the dataclasses the inputs hold, in declaration order.
_FIELDS: dict[type, tuple[str, ...]] = {}


def _inputs_default(value: Any) -> Any:
    kind = type(value)
    if kind is Decimal:
        return str(value)  # finite: the domain types refuse anything else
    if kind is BookLevel:  # a book has many: built here, faster than the generic way
        return {"price": value.price, "size": value.size}
    if kind is frozenset or kind is set:
        return sorted(value)  # symbols
    names = _FIELDS.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(kind):
            if isinstance(value, datetime | date):
                return value.isoformat()
            raise TypeError(kind.__name__)
        names = _FIELDS.setdefault(kind, tuple(f.name for f in dataclasses.fields(kind)))
    return {name: getattr(value, name) for name in names}


#: The value types whose constructors refuse NaN, infinities and unknown types in every field
#: (``riskdesk.domain``): encoded as they are, without walking them first.
_VALIDATED: tuple[type, ...] = (Signal, AccountState, MarketSnapshot)


def validated_json_text(document: Mapping[str, object], field: str) -> str:
    """JSON text of a mapping of validated domain values (and ``None``).

    Equal, once parsed, to ``json.dumps(to_json(document))``: the domain value types check
    every number when they are built, so they are encoded directly (orjson: dataclasses by
    field, enums by value, Decimals as strings, datetimes in ISO 8601). Any other value takes
    :func:`to_json`'s checked path.
    """
    if all(v is None or type(v) in _VALIDATED for v in document.values()):
        try:
            return orjson.dumps(document, default=_inputs_default,
                                option=orjson.OPT_PASSTHROUGH_DATETIME
                                | orjson.OPT_PASSTHROUGH_DATACLASS).decode()
        except TypeError:  # orjson.JSONEncodeError: something the checked path must name
            pass
    return json.dumps(to_json_object(document, field), separators=(",", ":"),
                      ensure_ascii=False)


def write_jsonl(fp: IO[str], row: Mapping[str, Any]) -> None:
    """Write one JSON line, Decimals and datetimes as strings."""
    fp.write(json.dumps(to_json(row, "row"), separators=(",", ":"), ensure_ascii=False))
    fp.write("\n")
