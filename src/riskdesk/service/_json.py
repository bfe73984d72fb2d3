"""Turn the desk's result objects into JSON-ready values."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value``.

    Objects with ``to_dict()`` use it; dataclasses become dicts; ``Decimal`` becomes its
    string (exact), enums their value, datetimes ISO 8601; tuples and sets become lists.
    Non-finite floats become ``None`` so that a response is always valid JSON.

    Parameters
    ----------
    value
        Any value the desk or the store returned.

    Returns
    -------
    Any
        Built from dict, list, str, int, float, bool and None only.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return jsonable(value.tolist())
    raise TypeError(f"cannot turn {type(value).__name__} into JSON")
