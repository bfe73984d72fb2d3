"""Frozen slotted values made cheaper: a memo slot, and direct slot writes for __init__."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any


class Memo:
    """Base class giving a frozen dataclass one private slot, ``_memo``.

    The slot is not a dataclass field: it takes no part in ``__init__``, equality, hashing,
    ``repr``, ``dataclasses.fields`` or ``dataclasses.replace`` (a replaced copy starts
    empty). It holds figures derived from the immutable fields, so filling it (with
    ``object.__setattr__``) never changes what the value means. A copy made by ``pickle`` or
    ``copy`` arrives with the slot unset; readers treat unset as empty.
    """

    __slots__ = ("_memo",)
    _memo: Any  # whatever the subclass derives; None until then


def slot_setters(cls: type) -> tuple[Callable[[Any, Any], None], ...]:
    """The ``__set__`` of each field's slot of a slotted dataclass, in field order.

    A frozen dataclass's generated ``__init__`` sets every field through
    ``object.__setattr__``; an ``__init__`` that calls these setters instead writes the same
    slots in about half the time, and the class stays frozen (its ``__setattr__`` still
    refuses). Types built on every decision use it; ``tests/unit/test_domain_fast.py``
    checks that each such ``__init__`` matches the dataclass fields.
    """
    return tuple(cls.__dict__[f.name].__set__ for f in fields(cls))
