"""Price bars the exit engine reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from riskdesk.domain import to_decimal
from riskdesk.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class Bar:
    """One completed price bar.

    Parameters
    ----------
    open, high, low, close
        Prices, > 0, with ``low <= open, close <= high``.
    ts
        When the bar closed (timezone-aware); the time stop compares against it.
    atr
        Average true range in price units at the bar's close, >= 0, optional; the ATR and
        chandelier trailing stops use the latest ATR seen.
    """

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    ts: datetime
    atr: Decimal | None = None

    def __post_init__(self) -> None:
        s = object.__setattr__
        for name in ("open", "high", "low", "close"):
            s(self, name, to_decimal(getattr(self, name), f"bar.{name}", allow_zero=False))
        if self.atr is not None:
            s(self, "atr", to_decimal(self.atr, "bar.atr"))
        if self.low > min(self.open, self.close):
            raise InvalidInputError("bar.low", self.low,
                                    f"<= open ({self.open}) and close ({self.close})")
        if self.high < max(self.open, self.close):
            raise InvalidInputError("bar.high", self.high,
                                    f">= open ({self.open}) and close ({self.close})")
        if not isinstance(self.ts, datetime) or self.ts.tzinfo is None:
            raise InvalidInputError("bar.ts", self.ts, "a timezone-aware datetime")

    def reflected(self, pivot: Decimal) -> Bar:
        """The bar mirrored around ``pivot`` (``p -> 2 x pivot - p``; high and low swap)."""
        two = 2 * pivot
        return Bar(two - self.open, two - self.low, two - self.high, two - self.close,
                   self.ts, self.atr)
