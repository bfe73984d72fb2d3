"""Budget reservations: holds on notional and margin that several processes share safely.

An approved opening order reserves its notional and margin for a time-to-live, then the
caller confirms it (filled), releases it (cancelled, or a confirmed position closed) or lets
it expire. ``reserve`` sums what the account already holds and refuses a hold that would
break a limit, inside one transaction that no other writer for the same account can
interleave with: on SQLite ``BEGIN IMMEDIATE`` (one writer for the database), on PostgreSQL a
per-account lock row taken with ``SELECT ... FOR UPDATE``. Every state change is appended to
``reservation_events`` in the same transaction, so the history can be replayed and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from riskdesk._ids import new_id
from riskdesk.domain import ReasonCode
from riskdesk.errors import ConflictError, InvalidInputError
from riskdesk.store import _tables as t
from riskdesk.store._base import (
    StoreBase,
    check_float,
    check_limit,
    check_money,
    check_optional_text,
    check_text,
    check_time,
)
from riskdesk.store._holds import Hold, expire_due, held, opener_counts

_R = t.reservations
_E = t.reservation_events
_ZERO = Decimal(0)
#: Longest time-to-live a reservation may ask for.
MAX_TTL_SECONDS = 7 * 24 * 3600.0


class ReservationStatus(StrEnum):
    """Where a reservation is in its life."""

    ACTIVE = "ACTIVE"
    CONFIRMED = "CONFIRMED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class ReservationLimits:
    """The limits a new reservation must fit under, from the caller's account state.

    Every cap is a notional in the account's quote currency except ``available_margin``.

    Parameters
    ----------
    buying_power
        What the account may still buy (notional), as of ``as_of``.
    max_exposure
        Cap on the account's total notional exposure.
    tier
        The capital tier the order belongs to (seed 001), optional; stored on the
        reservation.
    tier_cap
        Cap on the tier's notional; needs ``tier``.
    exposure
        The account's notional exposure in the state the limits come from.
    tier_exposure
        The tier's notional exposure in that state.
    available_margin
        Free margin, optional; when set, reserved margin must fit under it.
    as_of
        When the account state behind these numbers was read. Confirmed reservations
        confirmed after it are counted (the fill is not in that state yet); earlier ones are
        taken to be in it. ``None`` counts every confirmed reservation until it is released:
        the limits are then a standing budget.
    """

    buying_power: Decimal
    max_exposure: Decimal
    tier: str | None = None
    tier_cap: Decimal | None = None
    exposure: Decimal = _ZERO
    tier_exposure: Decimal = _ZERO
    available_margin: Decimal | None = None
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        s = object.__setattr__
        for name in ("buying_power", "max_exposure", "exposure", "tier_exposure"):
            s(self, name, check_money(getattr(self, name), f"limits.{name}"))
        s(self, "tier", check_optional_text(self.tier, "limits.tier", 64))
        if self.tier_cap is not None:
            s(self, "tier_cap", check_money(self.tier_cap, "limits.tier_cap"))
            if self.tier is None:
                raise InvalidInputError("limits.tier", None, "a tier name when tier_cap is set")
        if self.available_margin is not None:
            s(self, "available_margin",
              check_money(self.available_margin, "limits.available_margin"))
        if self.as_of is not None:
            check_time(self.as_of, "limits.as_of")


@dataclass(frozen=True, slots=True)
class Reservation:
    """A hold on an account's budget."""

    reservation_id: str
    account_id: str
    symbol: str
    notional: Decimal
    margin: Decimal
    tier: str | None
    status: ReservationStatus
    created_at: datetime
    expires_at: datetime
    confirmed_at: datetime | None = None
    settled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SymbolHeld:
    """What an account's counting holds tie up in one symbol."""

    symbol: str
    count: int
    notional: Decimal
    margin: Decimal


@dataclass(frozen=True, slots=True)
class HeldBudget:
    """The sum of an account's holds that count against its budget (see :meth:`held_budget`).

    ``by_symbol`` is ordered by notional, largest first, then by symbol.
    """

    count: int
    notional: Decimal
    margin: Decimal
    by_symbol: tuple[SymbolHeld, ...]


@dataclass(frozen=True, slots=True)
class ReservationOutcome:
    """The result of :meth:`ReservationOps.try_reserve`.

    ``reservation`` is ``None`` when refused; ``refused_by`` then names the limit
    (``INSUFFICIENT_BUYING_POWER``, ``EXPOSURE_LIMIT`` or ``CAP_TIER_BUDGET``) and ``note``
    gives the numbers. The ``held_*`` figures are what other reservations held at the time.
    """

    reservation: Reservation | None
    refused_by: ReasonCode | None
    held_notional: Decimal
    held_margin: Decimal
    held_tier_notional: Decimal
    note: str = ""


class ReservationOps(StoreBase):
    """Reserve, confirm, release and expire budget holds."""

    def reserve(self, account_id: str, symbol: str, notional: Decimal, margin: Decimal, *,
                ttl_seconds: float, now: datetime,
                limits: ReservationLimits) -> Reservation | None:
        """Hold ``notional`` and ``margin`` for ``ttl_seconds``, or refuse (``None``).

        See :meth:`try_reserve` for the reason of a refusal; the parameters are the same.
        """
        return self.try_reserve(account_id, symbol, notional, margin, ttl_seconds=ttl_seconds,
                                now=now, limits=limits).reservation

    def try_reserve(self, account_id: str, symbol: str, notional: Decimal, margin: Decimal, *,
                    ttl_seconds: float, now: datetime,
                    limits: ReservationLimits) -> ReservationOutcome:
        """Atomically check the account's holds against ``limits`` and add this one.

        Held amounts are the active, unexpired reservations plus confirmed reservations not
        yet in the account state (see :class:`ReservationLimits`). The hold is refused when
        ``held + notional`` would exceed ``buying_power``, ``exposure + held + notional`` would
        exceed ``max_exposure``, the tier's figures would exceed ``tier_cap``, or held margin
        would exceed ``available_margin``. Reservations past their expiry are marked expired
        on the way.

        Parameters
        ----------
        account_id
            The account (or virtual sub-account) whose budget is shared.
        symbol
            The instrument, for the record.
        notional
            Order value, > 0.
        margin
            Margin the order ties up, 0 <= margin <= notional.
        ttl_seconds
            Time-to-live, in (0, 7 days].
        now
            The current time (timezone-aware); all processes should share one clock.
        limits
            The caps to respect.

        Returns
        -------
        ReservationOutcome
            The reservation, or the limit that refused it.

        Raises
        ------
        InvalidInputError
            For bad input (NaN, negative or zero notional, margin above notional, a naive
            time); nothing is written.
        """
        account_id = check_text(account_id, "account_id")
        symbol = check_text(symbol, "symbol", 64)
        notional = check_money(notional, "notional", allow_zero=False)
        margin = check_money(margin, "margin")
        if margin > notional:
            raise InvalidInputError("margin", margin, f"<= notional ({notional}): leverage >= 1")
        ttl = check_float(ttl_seconds, "ttl_seconds")
        if not 0 < ttl <= MAX_TTL_SECONDS:
            raise InvalidInputError("ttl_seconds", ttl_seconds, f"in (0, {MAX_TTL_SECONDS:g}]")
        check_time(now, "now")
        if not isinstance(limits, ReservationLimits):
            raise InvalidInputError("limits", limits, "a ReservationLimits")
        with self._write() as conn:
            self._lock(conn, f"reservations:{account_id}")
            holds = self._holds.holds(conn, account_id, earliest=now)
            h_notional, h_margin, h_tier = held(holds, now, limits.as_of, limits.tier)
            refused, note = check_limits(limits, notional, margin, h_notional, h_margin,
                                         h_tier)
            if refused is not None:
                return ReservationOutcome(None, refused, h_notional, h_margin, h_tier, note)
            res = Reservation(new_id(), account_id, symbol, notional, margin,
                              limits.tier, ReservationStatus.ACTIVE, now,
                              now + timedelta(seconds=ttl))
            conn.execute(sa.insert(_R), reservation_row(res))
            _event(conn, res.reservation_id, account_id, "RESERVE", now, notional, margin)
        return ReservationOutcome(res, None, h_notional, h_margin, h_tier)

    def confirm(self, reservation_id: str, *, now: datetime) -> Reservation:
        """Mark a reservation filled; confirming twice is harmless.

        Raises
        ------
        InvalidInputError
            For an unknown reservation id or a naive ``now``.
        ConflictError
            If the reservation was released or has expired (its budget may be held by
            others now); an expired one is marked so.
        """
        check_time(now, "now")
        with self._write() as conn:
            self._lock_for(conn, reservation_id)
            done = conn.execute(
                sa.update(_R).where(_R.c.id == reservation_id,
                                    _R.c.status == ReservationStatus.ACTIVE.value,
                                    _R.c.expires_at > now)
                .values(status=ReservationStatus.CONFIRMED.value, confirmed_at=now)
                .returning(*_R.c)).first()
            if done is not None:
                _event(conn, done.id, done.account_id, "CONFIRM", now, done.notional,
                       done.margin)
                return _reservation(done)
            row = conn.execute(sa.select(_R).where(_R.c.id == reservation_id)).one()
            status = ReservationStatus(row.status)
            if status is ReservationStatus.CONFIRMED:
                return _reservation(row)
            if status is not ReservationStatus.ACTIVE:
                raise ConflictError(f"reservation {reservation_id} is {status.value}; "
                                    "it cannot be confirmed")
            # Active but past its expiry: record the expiry (committed), then refuse.
            _settle(conn, row, ReservationStatus.EXPIRED, "EXPIRE", now)
        raise ConflictError(f"reservation {reservation_id} expired at "
                            f"{row.expires_at.isoformat()}; reserve again")

    def release(self, reservation_id: str, *, now: datetime) -> Reservation:
        """Give a reservation's budget back (order cancelled, or position closed).

        Releasing an active or confirmed reservation marks it released; releasing one that is
        already released or expired changes nothing.

        Raises
        ------
        InvalidInputError
            For an unknown reservation id or a naive ``now``.
        """
        check_time(now, "now")
        with self._write() as conn:
            self._lock_for(conn, reservation_id)
            done = conn.execute(
                sa.update(_R).where(_R.c.id == reservation_id, _R.c.status.in_(
                    (ReservationStatus.ACTIVE.value, ReservationStatus.CONFIRMED.value)))
                .values(status=ReservationStatus.RELEASED.value, settled_at=now)
                .returning(*_R.c)).first()
            if done is not None:
                _event(conn, done.id, done.account_id, "RELEASE", now, done.notional,
                       done.margin)
                return _reservation(done)
            return _reservation(conn.execute(
                sa.select(_R).where(_R.c.id == reservation_id)).one())

    def expire(self, now: datetime) -> int:
        """Mark every active reservation past its expiry as expired; returns how many."""
        check_time(now, "now")
        n = 0
        with self._write() as conn:
            accounts = conn.execute(
                sa.select(_R.c.account_id).distinct()
                .where(_R.c.status == ReservationStatus.ACTIVE.value, _R.c.expires_at <= now)
            ).scalars().all()
            for account_id in sorted(accounts):
                self._lock(conn, f"reservations:{account_id}")
                n += expire_due(conn, account_id, now)
        return n

    def reservation(self, reservation_id: str) -> Reservation:
        """One reservation by id (raises :class:`InvalidInputError` when unknown)."""
        with self._read() as conn:
            row = conn.execute(sa.select(_R).where(_R.c.id == reservation_id)).first()
        if row is None:
            raise InvalidInputError("reservation_id", reservation_id,
                                    "the id of an existing reservation")
        return _reservation(row)

    def reservations(self, account_id: str | None = None,
                     status: ReservationStatus | str | None = None, *,
                     limit: int = 100) -> list[Reservation]:
        """Reservations, newest first, optionally for one account and status."""
        check_limit(limit)
        stmt = sa.select(_R).order_by(_R.c.created_at.desc()).limit(limit)
        if account_id is not None:
            stmt = stmt.where(_R.c.account_id == account_id)
        if status is not None:
            stmt = stmt.where(_R.c.status == ReservationStatus(status).value)
        with self._read() as conn:
            return [_reservation(r) for r in conn.execute(stmt)]

    def held_budget(self, account_id: str, *, now: datetime,
                    as_of: datetime | None) -> HeldBudget:
        """What the account's reservations hold against its budget at ``now``, summed.

        The holds that count are those :meth:`try_reserve` counts for limits read ``as_of``:
        active reservations not expired at ``now``, and confirmed ones not yet in the account
        state (confirmed after ``as_of``; every confirmed one until released when ``as_of``
        is ``None``). One read, of the reservation events since the store last looked (the
        store keeps the account's holds in memory, settled confirmations summed); nothing is
        written (reservations past their expiry are left for the next write to mark).
        """
        account_id = check_text(account_id, "account_id")
        check_time(now, "now")
        if as_of is not None:
            check_time(as_of, "as_of")
        with self._read() as conn:
            current = self._holds.current(conn, account_id, now)
        symbols: dict[str, list[Hold]] = {}
        for hold in current:
            if hold.counts(now, as_of):
                symbols.setdefault(hold.symbol, []).append(hold)
        by_symbol = []
        for symbol, holds in symbols.items():
            n, m, _ = held(holds, now, as_of, None)
            by_symbol.append(SymbolHeld(symbol, sum(h.size for h in holds), n, m))
        by_symbol.sort(key=lambda s: (-s.notional, s.symbol))
        return HeldBudget(sum(s.count for s in by_symbol),
                          sum((s.notional for s in by_symbol), _ZERO),
                          sum((s.margin for s in by_symbol), _ZERO), tuple(by_symbol))

    def holds_known(self, account_id: str) -> bool:
        """Whether the store holds the account's holds in memory (see :meth:`pending_openers`)."""
        return self._holds.knows(account_id)

    def pending_openers(self, account_id: str, *, now: datetime, as_of: datetime | None,
                        since: datetime, fresh: bool = True) -> tuple[frozenset[str], int]:
        """The symbols of approved openers not yet in the account, and the openers since ``since``.

        The symbols are those of the holds :meth:`held_budget` counts (a symbol with an
        approved opener counts as an open position before its fill shows in the account). The
        number is of holds granted at or after ``since`` and not given back: active and not
        expired at ``now``, or confirmed (an opening order sent in the period).

        With ``fresh``, one read of the reservation events since the store last looked (the
        store keeps the account's holds in memory); without it, no I/O once the store has read
        the account's holds: what its last transaction saw (holds another process changed
        since are missing). Either way, holds granted later are checked again inside the
        transaction of a decision write that carries what was counted
        (:class:`~riskdesk.store.OpenersSeen`).
        """
        account_id = check_text(account_id, "account_id")
        check_time(now, "now")
        check_time(since, "since")
        if as_of is not None:
            check_time(as_of, "as_of")
        holds = None if fresh else self._holds.known(account_id, now)
        if holds is None:
            with self._read() as conn:
                holds = self._holds.current(conn, account_id, now)
        return opener_counts(holds, now, as_of, since)

    def reservation_events(self, account_id: str, *, after_id: int = 0,
                           limit: int = 100_000) -> list[dict[str, Any]]:
        """The account's reservation history in commit order (for audits and replay)."""
        check_limit(limit)
        stmt = (sa.select(_E).where(_E.c.account_id == account_id, _E.c.id > after_id)
                .order_by(_E.c.id).limit(limit))
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    # ------------------------------------------------------------------ internals
    def _lock_for(self, conn: Connection, reservation_id: str) -> None:
        """Take the lock of the reservation's account; unknown ids are bad input."""
        if not isinstance(reservation_id, str):
            raise InvalidInputError("reservation_id", reservation_id, "a reservation id")
        account_id = conn.execute(sa.select(_R.c.account_id)
                                  .where(_R.c.id == reservation_id)).scalar()
        if account_id is None:
            raise InvalidInputError("reservation_id", reservation_id,
                                    "the id of an existing reservation")
        self._lock(conn, f"reservations:{account_id}")


def check_limits(limits: ReservationLimits, notional: Decimal, margin: Decimal,
                 h_notional: Decimal, h_margin: Decimal,
                 h_tier: Decimal) -> tuple[ReasonCode | None, str]:
    """The limit a new hold would break on top of what is held, with the numbers, or None."""
    if h_notional + notional > limits.buying_power:
        return ReasonCode.INSUFFICIENT_BUYING_POWER, (
            f"held {h_notional} + {notional} > buying power {limits.buying_power}")
    if limits.exposure + h_notional + notional > limits.max_exposure:
        return ReasonCode.EXPOSURE_LIMIT, (
            f"exposure {limits.exposure} + held {h_notional} + {notional} > max exposure "
            f"{limits.max_exposure}")
    if limits.tier_cap is not None and limits.tier_exposure + h_tier + notional \
            > limits.tier_cap:
        return ReasonCode.CAP_TIER_BUDGET, (
            f"tier {limits.tier}: exposure {limits.tier_exposure} + held {h_tier} + "
            f"{notional} > tier cap {limits.tier_cap}")
    if limits.available_margin is not None and h_margin + margin > limits.available_margin:
        return ReasonCode.INSUFFICIENT_BUYING_POWER, (
            f"held margin {h_margin} + {margin} > available margin {limits.available_margin}")
    return None, ""


def _settle(conn: Connection, row: Any, status: ReservationStatus, event: str,
            now: datetime) -> None:
    conn.execute(sa.update(_R).where(_R.c.id == row.id).values(status=status.value,
                                                               settled_at=now))
    _event(conn, row.id, row.account_id, event, now, row.notional, row.margin)


def _event(conn: Connection, reservation_id: str, account_id: str, event: str, at: datetime,
           notional: Decimal, margin: Decimal) -> None:
    conn.execute(sa.insert(_E), {"reservation_id": reservation_id, "account_id": account_id,
                                 "event": event, "at": at, "notional": notional,
                                 "margin": margin})


def reservation_row(res: Reservation) -> dict[str, Any]:
    """The ``reservations`` row of a new hold."""
    return {"id": res.reservation_id, "account_id": res.account_id, "symbol": res.symbol,
            "notional": res.notional, "margin": res.margin, "tier": res.tier,
            "status": res.status.value, "created_at": res.created_at,
            "expires_at": res.expires_at}


def _reservation(row: Any) -> Reservation:
    return Reservation(row.id, row.account_id, row.symbol, row.notional, row.margin, row.tier,
                       ReservationStatus(row.status), row.created_at, row.expires_at,
                       row.confirmed_at, row.settled_at)
