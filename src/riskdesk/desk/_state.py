"""The part of a desk that must survive a restart: trading state, breaker, drawdown level."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from riskdesk.domain import TradingState
from riskdesk.errors import InvalidInputError
from riskdesk.limits import BreakerState, DrawdownLevel, DrawdownStatus

_KEYS = frozenset({"trading_state", "breaker", "drawdown_level", "note", "updated_at",
                   "updated_by", "drawdown_multiplier"})


@dataclass(frozen=True, slots=True)
class DeskState:
    """What the desk remembers between calls; the caller persists it (the desk does no I/O).

    Parameters
    ----------
    trading_state
        The state an operator set: ACTIVE, REDUCING or HALTED. The breaker and margin RED
        halt new risk on top of it without changing it.
    breaker
        The drawdown circuit breaker.
    drawdown_level
        The drawdown level recorded at the last evaluation (recovery steps back from it).
    note
        The last change, in words.
    updated_at
        When it last changed.
    updated_by
        Who changed it last (an operator's name, or ``"desk"`` for automatic changes).
    drawdown_multiplier
        The drawdown size multiplier applied at the last evaluation while recovery held it
        below its level's own (the next evaluation raises it by at most
        ``drawdown.recovery_step``); ``None`` when the level's own multiplier applied. A
        state stored without it loads as ``None``.
    """

    trading_state: TradingState = TradingState.ACTIVE
    breaker: BreakerState = field(default_factory=BreakerState)
    drawdown_level: DrawdownLevel = DrawdownLevel.NORMAL
    note: str = ""
    updated_at: datetime | None = None
    updated_by: str | None = None
    drawdown_multiplier: float | None = None

    def __post_init__(self) -> None:
        s = object.__setattr__
        try:
            s(self, "trading_state", TradingState(self.trading_state))
        except ValueError:
            raise InvalidInputError("state.trading_state", self.trading_state,
                                    f"one of {[t.value for t in TradingState]}") from None
        try:
            s(self, "drawdown_level", DrawdownLevel(self.drawdown_level))
        except ValueError:
            raise InvalidInputError("state.drawdown_level", self.drawdown_level,
                                    f"one of {[d.value for d in DrawdownLevel]}") from None
        if not isinstance(self.breaker, BreakerState):
            raise InvalidInputError("state.breaker", self.breaker, "a BreakerState")
        if not isinstance(self.note, str):
            raise InvalidInputError("state.note", self.note, "a string")
        if self.updated_at is not None and (not isinstance(self.updated_at, datetime)
                                            or self.updated_at.tzinfo is None):
            raise InvalidInputError("state.updated_at", self.updated_at,
                                    "a timezone-aware datetime")
        if self.updated_by is not None and not isinstance(self.updated_by, str):
            raise InvalidInputError("state.updated_by", self.updated_by, "a string or null")
        m = self.drawdown_multiplier
        if m is not None:
            if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0.0 <= m < math.inf:
                raise InvalidInputError("state.drawdown_multiplier", m,
                                        "a finite number >= 0 or null")
            s(self, "drawdown_multiplier", float(m))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"trading_state": self.trading_state.value, "breaker": self.breaker.to_dict(),
                "drawdown_level": self.drawdown_level.value, "note": self.note,
                "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
                "updated_by": self.updated_by, "drawdown_multiplier": self.drawdown_multiplier}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeskState:
        """Rebuild from :meth:`to_dict` output; unknown keys are an error.

        Parameters
        ----------
        data
            The mapping.

        Returns
        -------
        DeskState
            The state.

        Raises
        ------
        InvalidInputError
            Naming the first key that is unknown or holds an unusable value.
        """
        if not isinstance(data, dict):
            raise InvalidInputError("state", data, "a mapping")
        extra = set(data) - _KEYS
        if extra:
            raise InvalidInputError("state", sorted(extra), f"only the keys {sorted(_KEYS)}")
        at = data.get("updated_at")
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at)
            except ValueError:
                raise InvalidInputError("state.updated_at", at, "an ISO 8601 timestamp") \
                    from None
        breaker = data.get("breaker")
        return cls(
            trading_state=data.get("trading_state", TradingState.ACTIVE),
            breaker=BreakerState() if breaker is None else BreakerState.from_dict(breaker),
            drawdown_level=data.get("drawdown_level", DrawdownLevel.NORMAL),
            note=data.get("note", ""),
            updated_at=at,
            updated_by=data.get("updated_by"),
            drawdown_multiplier=data.get("drawdown_multiplier"),
        )


def state_unchanged(state: DeskState, dd: DrawdownStatus) -> bool:
    """True when recording ``dd`` leaves ``state`` as it is (level, multiplier, breaker)."""
    return dd.level is state.drawdown_level \
        and dd.recovery_multiplier == state.drawdown_multiplier \
        and (dd.breaker is state.breaker or dd.breaker == state.breaker)
