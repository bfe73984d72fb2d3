"""The capital tracker's marks on the broker's account: high-water mark, day and week start.

A broker reports equity, not the highest equity the account has had nor its equity at the
start of the day and week (Alpaca's ``last_equity`` aside). The capital tracker in the store
keeps them (``docs/store.md``, "Capital tracker"), and every account the service decides on
or shows carries them: without them drawdown and the daily and weekly loss would read 0 % and
the drawdown ladder, the circuit breaker and the loss limits would never act.

The day's and week's start are the tracker's (the equity of the first snapshot of the UTC day
and ISO week, for every broker alike). When no snapshot of the current UTC day exists, the
account read now is recorded as the day's first. The high-water mark is the highest of the
tracker's, the broker's and every equity this process has read; a snapshot recorded later
stores it, so a peak seen between two samples is kept.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from riskdesk.domain import AccountState
from riskdesk.errors import InvalidInputError
from riskdesk.service._state import SaveNeededError
from riskdesk.store import same_utc_day

#: How long the latest snapshot's marks are used before they are read again (seconds).
MARKS_MAX_AGE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Marks:
    """The marks of one capital snapshot."""

    at: datetime
    high_water_mark: Decimal
    day_start_equity: Decimal
    week_start_equity: Decimal

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Marks:
        """The marks of a snapshot as the store returns it."""
        return cls(row["at"], row["high_water_mark"], row["day_start_equity"],
                   row["week_start_equity"])


def stale_reason(account: AccountState, now: datetime, limit: float) -> str | None:
    """Why ``account`` is no state to record or size from at ``now``; ``None`` when fresh.

    Undated, or read more than ``limit`` seconds (``risk_management.max_state_age_seconds``)
    before or after ``now``.
    """
    if account.as_of is None:
        return "the broker's account state has no as_of time"
    age = abs((now - account.as_of).total_seconds())
    if age > limit:
        return (f"the broker's account state is {age:.0f}s old > {limit:g}s "
                "(risk_management.max_state_age_seconds)")
    return None


class MarkFields(TypedDict):
    """The tracker's marks as the ``AccountState`` fields they set."""

    high_water_mark: Decimal
    day_start_equity: Decimal
    week_start_equity: Decimal


class CapitalMarks:
    """Applies the tracker's marks to broker accounts; one per service.

    Parameters
    ----------
    store
        The store holding the capital snapshots.
    max_age
        Seconds a read of the latest snapshot is reused (another worker's snapshot is seen
        within this time; this process's own at once).
    monotonic
        The clock of that reuse.
    max_state_age
        Seconds an account state may be from the time it is used at
        (``risk_management.max_state_age_seconds``): an older one records no day's first
        snapshot.
    """

    def __init__(self, store: Any, *, max_age: float = MARKS_MAX_AGE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic,
                 max_state_age: float = math.inf) -> None:
        self._store = store
        self._max_age = max_age
        self._max_state_age = max_state_age
        self._monotonic = monotonic
        self._held: tuple[Marks | None, float] | None = None
        self._peak: Decimal | None = None
        self._lock = threading.Lock()

    def apply(self, account: AccountState, now: datetime, *,
              may_write: bool = True, may_read: bool = True) -> AccountState:
        """``account`` with the tracker's high-water mark and the day's and week's start.

        The fields are those of :meth:`fields_for` (see there for the parameters).
        """
        marks = self.fields_for(account, now, may_write=may_write, may_read=may_read)
        return dataclasses.replace(account, **marks)

    def fields_for(self, account: AccountState, now: datetime, *,
                   may_write: bool = True, may_read: bool = True) -> MarkFields:
        """The tracker's high-water mark and the day's and week's start for ``account``.

        As ``AccountState`` field names, to build the account a decision uses in one copy.

        Parameters
        ----------
        account
            The account as the broker reports it.
        now
            When it was read.
        may_write
            ``False`` where no I/O may block: when the day's first snapshot would have to be
            recorded, :class:`SaveNeededError` is raised instead.
        may_read
            ``False`` where not even a read may block (an event loop on a networked
            database): when the held marks are too old to use, :class:`SaveNeededError`.
        """
        peak = self._seen(account.equity)
        marks = self._latest(may_read)
        if marks is None or not same_utc_day(marks.at, now):
            if stale_reason(account, now, self._max_state_age) is not None:
                # A stale or undated account is no start of the day: nothing is recorded
                # (the desk refuses openers on such a state anyway).
                assert account.high_water_mark is not None
                held = account.high_water_mark if marks is None else marks.high_water_mark
                assert account.day_start_equity is not None
                assert account.week_start_equity is not None
                return {"high_water_mark": max(account.high_water_mark, held, peak),
                        "day_start_equity": account.day_start_equity,
                        "week_start_equity": account.week_start_equity}
            if not may_write:
                raise SaveNeededError("the day's first capital snapshot must be recorded")
            marks = self._record(account, now)
        assert account.high_water_mark is not None
        hwm = max(account.high_water_mark, marks.high_water_mark, peak)
        return {"high_water_mark": hwm, "day_start_equity": marks.day_start_equity,
                "week_start_equity": marks.week_start_equity}

    def record(self, account: AccountState, now: datetime) -> dict[str, Any]:
        """Record a snapshot of ``account`` (with this process's peak) and hold its marks."""
        peak = self._seen(account.equity)
        assert account.high_water_mark is not None
        row: dict[str, Any] = self._store.record_capital(
            dataclasses.replace(account, high_water_mark=max(account.high_water_mark, peak)),
            at=now)
        self._hold(Marks.of(row))
        return row

    def forget(self) -> None:
        """Read the latest snapshot again on next use."""
        self._held = None

    def _seen(self, equity: Decimal) -> Decimal:
        with self._lock:
            if self._peak is None or equity > self._peak:
                self._peak = equity
            return self._peak

    def _latest(self, may_read: bool = True) -> Marks | None:
        held = self._held
        t = self._monotonic()
        if held is not None and t - held[1] < self._max_age:
            return held[0]
        if not may_read:
            raise SaveNeededError("the capital marks must be read again")
        row = self._store.latest_capital()
        marks = None if row is None else Marks.of(row)
        self._held = (marks, t)
        return marks

    def _hold(self, marks: Marks) -> None:
        self._held = (marks, self._monotonic())

    def _record(self, account: AccountState, now: datetime) -> Marks:
        try:
            return Marks.of(self.record(account, now))
        except InvalidInputError:
            # Another worker, its clock ahead of ours, recorded a later snapshot: use it.
            self.forget()
            marks = self._latest()
            if marks is None:
                raise
            return marks
