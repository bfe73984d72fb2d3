"""What the exit engine tells the bot to do."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any


class ExitReason(StrEnum):
    """Why an exit action was emitted."""

    STOP_LOSS = "STOP_LOSS"
    """The protective stop (initial, break-even, trailing or pyramid) was touched."""
    TAKE_PROFIT = "TAKE_PROFIT"
    """The final target (or the ladder rung that completes it) was touched."""
    PARTIAL_TAKE_PROFIT = "PARTIAL_TAKE_PROFIT"
    """A rung of the take-profit ladder was touched."""
    TIME_STOP = "TIME_STOP"
    """The maximum holding time has passed."""
    BREAK_EVEN = "BREAK_EVEN"
    """The stop moved to the entry plus the fee offset."""
    TRAILING = "TRAILING"
    """The trailing stop tightened."""
    PYRAMID = "PYRAMID"
    """An add-on (and the stop move that protects it)."""


@dataclass(frozen=True, slots=True)
class MoveStop:
    """Move the protective stop to ``stop`` (always tighter than ``previous``)."""

    stop: Decimal
    previous: Decimal | None
    reason: ExitReason

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; Decimals as strings."""
        return {"action": "MOVE_STOP", "stop": str(self.stop),
                "previous": None if self.previous is None else str(self.previous),
                "reason": self.reason.value}


@dataclass(frozen=True, slots=True)
class Reduce:
    """Reduce the position by ``quantity`` at about ``price`` (a ladder rung)."""

    quantity: Decimal
    price: Decimal
    reason: ExitReason
    level: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; Decimals as strings."""
        return {"action": "REDUCE", "quantity": str(self.quantity), "price": str(self.price),
                "reason": self.reason.value, "level": self.level}


@dataclass(frozen=True, slots=True)
class Close:
    """Close the whole remaining ``quantity`` at about ``price``.

    ``level`` is the ladder index for a target, ``None`` for a stop or a time stop.
    """

    quantity: Decimal
    price: Decimal
    reason: ExitReason
    level: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; Decimals as strings."""
        return {"action": "CLOSE", "quantity": str(self.quantity), "price": str(self.price),
                "reason": self.reason.value, "level": self.level}


@dataclass(frozen=True, slots=True)
class Add:
    """Add ``quantity`` at about ``price`` (pyramiding); ``number`` counts adds from 1.

    The add opens risk: send it through the desk's opener checks before ordering it, and
    extend the protective stop order to the added quantity.
    """

    quantity: Decimal
    price: Decimal
    number: int
    reason: ExitReason = ExitReason.PYRAMID

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; Decimals as strings."""
        return {"action": "ADD", "quantity": str(self.quantity), "price": str(self.price),
                "reason": self.reason.value, "number": self.number}


ExitAction = MoveStop | Reduce | Close | Add
"""Any action the exit engine emits."""
