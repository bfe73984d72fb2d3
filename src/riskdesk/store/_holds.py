"""An account's budget holds inside a write transaction: catch up, expire the due ones, sum.

Shared by :meth:`~riskdesk.store.Store.try_reserve` (one hold per transaction) and
:meth:`~riskdesk.store.Store.record_decisions` (many per transaction). Both run inside a
transaction that no other writer for the account can interleave with (SQLite's write lock,
PostgreSQL's account lock row), so the holds they see are the account's true holds then.

Reading every hold row of an account in every transaction costs more than the rest of a
decision's write, so each store keeps the account's holds in memory (:class:`HoldLedger`) and
brings them up to date from ``reservation_events``: every change of a reservation appends an
event in the same transaction, and for one account the events commit in id order (their
writers hold the account's lock), so the events after the last one seen are exactly the
changes since. Applying an event is idempotent (a hold is set, marked confirmed or dropped by
its id), so a store's own events, read back on its next transaction, change nothing. Only
committed events are ever applied: a rolled-back transaction leaves the ledger as it was.

A confirmation older than :data:`SETTLED_AFTER` is settled: only its tier's and symbol's sum
is used. The first load of an account therefore reads the holds that are not settled row by
row and the settled ones as sums only (see :meth:`HoldLedger._load`), in one statement, so
that the rows, the sums and the last event id are of one snapshot. Such a confirmation,
released later, is taken out of its sum when its event is applied (:meth:`_Account.drop`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from riskdesk.errors import StaleStateError
from riskdesk.store import _tables as t

_R = t.reservations
_E = t.reservation_events
_ZERO = Decimal(0)
ACTIVE = "ACTIVE"
CONFIRMED = "CONFIRMED"
EXPIRED = "EXPIRED"


class Hold(NamedTuple):
    """One reservation as far as the budget is concerned."""

    notional: Decimal
    margin: Decimal
    tier: str | None
    active: bool
    expires_at: datetime
    confirmed_at: datetime | None
    symbol: str = ""
    created_at: datetime | None = None
    #: How many reservations it stands for (more than one: a summary of settled ones).
    size: int = 1

    def counts(self, now: datetime, as_of: datetime | None) -> bool:
        """Whether the hold binds budget for a decision at ``now`` on state as of ``as_of``.

        An active hold counts until it expires. A confirmed one counts until the account
        state shows the fill: when it was confirmed after ``as_of`` (always when ``as_of``
        is ``None``: the limits are then a standing budget).
        """
        if self.active:
            return self.expires_at > now
        return as_of is None or (self.confirmed_at is not None and self.confirmed_at > as_of)


_P_ACCOUNT = sa.bindparam("b_account", type_=_R.c.account_id.type)
_P_NOW = sa.bindparam("b_now", type_=_R.c.expires_at.type)
_P_LAST = sa.bindparam("b_last", type_=_E.c.id.type)
_P_CUTOFF = sa.bindparam("b_cutoff", type_=_R.c.confirmed_at.type)

_EXPIRE = (sa.update(_R)
           .where(_R.c.account_id == _P_ACCOUNT, _R.c.status == ACTIVE, _R.c.expires_at <= _P_NOW)
           .values(status=EXPIRED, settled_at=_P_NOW)
           .returning(_R.c.id, _R.c.notional, _R.c.margin))
_SINCE = (sa.select(_E.c.id, _E.c.event, _E.c.reservation_id, _E.c.at, _R.c.notional,
                    _R.c.margin, _R.c.tier, _R.c.expires_at, _R.c.symbol, _R.c.created_at,
                    _R.c.confirmed_at)
          .join(_R, _R.c.id == _E.c.reservation_id)
          .where(_E.c.id > _P_LAST, _E.c.account_id == _P_ACCOUNT)
          .order_by(_E.c.id))


def expire_due(conn: Connection, account_id: str, now: datetime) -> int:
    """Mark the account's active holds that expired at or before ``now``; returns how many.

    One ``UPDATE ... RETURNING`` and one multi-row insert of their ``EXPIRE`` events.
    """
    rows = conn.execute(_EXPIRE, {"b_account": account_id, "b_now": now}).all()
    if rows:
        conn.execute(sa.insert(_E), [
            {"reservation_id": r.id, "account_id": account_id, "event": "EXPIRE", "at": now,
             "notional": r.notional, "margin": r.margin} for r in rows])
    return len(rows)


#: A confirmation older than this is settled: taken to be in any account state a decision
#: uses (decisions refuse state older than ``max_data_age_seconds`` long before).
SETTLED_AFTER = timedelta(hours=24)

# What the first load of an account reads (kind, then the columns of a hold, its size and
# the account's last event id), in one statement: one snapshot on PostgreSQL too, whose
# reads run in autocommit. Its rows: each hold not settled at the load's cutoff (_ROW), the
# settled confirmations (_SETTLED) and the last event id (_MARK).
_ROW, _SETTLED, _MARK = 0, 1, 2
_NULL = sa.null()
_LIVE = sa.select(
    sa.literal_column(str(_ROW), sa.Integer()).label("kind"), _R.c.id, _R.c.notional,
    _R.c.margin, _R.c.tier, _R.c.status, _R.c.expires_at, _R.c.confirmed_at, _R.c.symbol,
    _R.c.created_at, sa.literal_column("1", sa.Integer()).label("size"),
    sa.cast(_NULL, _E.c.id.type).label("mark"),
).where(_R.c.account_id == _P_ACCOUNT, sa.or_(
    _R.c.status == ACTIVE,
    sa.and_(_R.c.status == CONFIRMED,
            sa.or_(_R.c.confirmed_at.is_(None), _R.c.confirmed_at >= _P_CUTOFF))))
_OLD = (_R.c.account_id == _P_ACCOUNT, _R.c.status == CONFIRMED, _R.c.confirmed_at < _P_CUTOFF)
_SETTLED_KIND = sa.literal_column(str(_SETTLED), sa.Integer())
_LAST = sa.select(
    sa.literal_column(str(_MARK), sa.Integer()), *[_NULL] * 10,
    sa.select(sa.func.coalesce(sa.func.max(_E.c.id), 0))
    .where(_E.c.account_id == _P_ACCOUNT).scalar_subquery())
#: PostgreSQL sums the settled confirmations itself: ``sum`` of a ``NUMERIC`` is exact.
_LOAD_SUMMED: sa.CompoundSelect[*tuple[Any, ...]] = sa.union_all(_LIVE, sa.select(
    _SETTLED_KIND, _NULL, sa.func.sum(_R.c.notional), sa.func.sum(_R.c.margin), _R.c.tier,
    _NULL, _NULL, sa.func.max(_R.c.confirmed_at), _R.c.symbol, _NULL, sa.func.count(), _NULL,
).where(*_OLD).group_by(_R.c.tier, _R.c.symbol), _LAST)
#: SQLite keeps money as decimal text, which its ``sum`` reads as floats: the settled
#: confirmations come row by row, only what their sums need, and are summed as they stream.
_LOAD_STREAMED: sa.CompoundSelect[*tuple[Any, ...]] = sa.union_all(_LIVE, sa.select(
    _SETTLED_KIND, _NULL, _R.c.notional, _R.c.margin, _R.c.tier, _NULL, _NULL,
    _R.c.confirmed_at, _R.c.symbol, _NULL, sa.literal_column("1", sa.Integer()), _NULL,
).where(*_OLD), _LAST)


@dataclass
class _Account:
    last_event: int
    #: The load's cutoff: confirmations before it were read as sums only (not by id).
    summed_before: datetime | None = None
    holds: dict[str, Hold] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Settled confirmations, kept out of every decision's loop: by id (those settled since
    #: the load), and summed by tier and symbol (with those settled before it).
    settled: dict[str, Hold] = field(default_factory=dict)
    sums: dict[tuple[str | None, str], Hold] = field(default_factory=dict)

    def view(self, now: datetime | None) -> list[Hold]:
        """The holds a decision iterates: live ones, and a summary of the settled ones.

        There is one summary per tier and symbol: a confirmed hold dated at the latest of its
        confirmations, so it counts where a confirmed hold counts (``as_of`` of ``None``, or
        older than it), and adds no trade of the day (it has no creation time).
        """
        if now is not None:
            self.settle(now)
        return [*self.holds.values(), *self.sums.values()]

    def settle(self, now: datetime) -> None:
        """Move confirmations older than :data:`SETTLED_AFTER` out of the live holds."""
        cutoff = now - SETTLED_AFTER
        old = [rid for rid, h in self.holds.items()
               if not h.active and h.confirmed_at is not None and h.confirmed_at < cutoff]
        if not old:
            return
        with self.lock:
            for rid in old:
                h = self.holds.pop(rid, None)
                if h is not None:
                    self.settled[rid] = h
                    self._add(h, 1)

    def drop(self, rid: str, given_back: Hold) -> None:
        """Forget a hold given back (released or expired), live or settled.

        ``given_back`` is the reservation as its event reads it (``confirmed_at`` included).
        A hold neither live nor settled by id that was confirmed before the load's cutoff was
        summed by the load: it comes out of its sum. That takes it out once, and only when it
        was added: the load's sums are of the snapshot of its last event id, a hold confirmed
        then can be given back only by a later event (a release), which is applied once
        (events are applied in id order, each once); a hold never confirmed has no
        ``confirmed_at``; and one confirmed after the load was granted or loaded as a live
        hold, so it is found by id.
        """
        if self.holds.pop(rid, None) is not None:
            return
        h = self.settled.pop(rid, None)
        if h is not None:
            self._add(h, -1)
        elif given_back.confirmed_at is not None and self.summed_before is not None \
                and given_back.confirmed_at < self.summed_before:
            self._add(given_back, -1)

    def _add(self, h: Hold, sign: int) -> None:
        """Add a settled hold to its summary (``sign`` 1) or take one out (-1)."""
        assert h.confirmed_at is not None
        key = (h.tier, h.symbol)
        s = self.sums.get(key)
        size = sign + (s.size if s else 0)
        if size <= 0:
            self.sums.pop(key, None)  # its last settled hold was given back
            return
        n = h.notional * sign + (s.notional if s else _ZERO)
        m = h.margin * sign + (s.margin if s else _ZERO)
        latest = h.confirmed_at if s is None or s.confirmed_at is None \
            else max(s.confirmed_at, h.confirmed_at)
        self.sums[key] = Hold(n, m, h.tier, False, latest, latest, h.symbol, None, size)


class HoldLedger:
    """Each account's holds as of its last reservation event seen (see the module notes)."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self._guard = threading.Lock()

    def holds(self, conn: Connection, account_id: str, *, earliest: datetime) -> list[Hold]:
        """The account's holds that may count, after marking the ones due at ``earliest``.

        Call it inside a write transaction holding the account's lock. Active holds expired
        at ``earliest`` are marked expired (with their events) and left out; confirmed holds
        are all returned (:func:`held` filters them by the decision's ``as_of``).
        """
        holds = self._up_to_date(conn, account_id, earliest).view(earliest)
        if any(h.active and h.expires_at <= earliest for h in holds):
            expire_due(conn, account_id, earliest)
            holds = [h for h in holds if not (h.active and h.expires_at <= earliest)]
        return holds

    def knows(self, account_id: str) -> bool:
        """Whether the account's holds were read (:meth:`known` answers without I/O)."""
        with self._guard:
            return account_id in self._accounts

    def known(self, account_id: str, now: datetime | None = None) -> list[Hold] | None:
        """The account's holds as last brought up to date, without I/O (``None``: never read).

        Holds granted, released or confirmed by another store since are not in it.
        """
        with self._guard:
            account = self._accounts.get(account_id)
        return None if account is None else account.view(now)

    def current(self, conn: Connection, account_id: str,
                now: datetime | None = None) -> list[Hold]:
        """The account's holds brought up to date on a read connection (nothing is marked).

        Active holds past their expiry are included: :meth:`Hold.counts` leaves them out.
        ``now`` also dates a first load (the current time when ``None``: see :meth:`_load`).
        """
        return self._up_to_date(conn, account_id, now).view(now)

    def _up_to_date(self, conn: Connection, account_id: str,
                    now: datetime | None) -> _Account:
        """The account's holds, loaded on first use, else caught up with the events since.

        ``now`` is the time of the decision or view that asks: a first load reads the
        confirmations settled then as sums only.
        """
        with self._guard:
            account = self._accounts.get(account_id)
        if account is None:
            account = self._load(conn, account_id, datetime.now(UTC) if now is None else now)
            with self._guard:
                account = self._accounts.setdefault(account_id, account)
        else:
            self._catch_up(conn, account_id, account)
        return account

    def forget(self, account_id: str | None = None) -> None:
        """Drop what is known of ``account_id`` (every account when ``None``)."""
        with self._guard:
            if account_id is None:
                self._accounts.clear()
            else:
                self._accounts.pop(account_id, None)

    @staticmethod
    def _load(conn: Connection, account_id: str, now: datetime) -> _Account:
        """Read the account's holds: live ones by id, confirmations settled at ``now`` summed.

        Settled confirmations are only ever used through their sums (per tier and symbol),
        and a bot that never releases its fills leaves them to pile up: they are not kept by
        id. The sums are exact decimals: summed by PostgreSQL, streamed and summed here on
        SQLite (whose ``sum`` of decimal text is a float).
        """
        cutoff = now - SETTLED_AFTER
        summed = _LOAD_SUMMED if conn.dialect.name == "postgresql" else _LOAD_STREAMED
        account = _Account(0, cutoff)
        totals: dict[tuple[str | None, str], list[Any]] = {}
        for kind, rid, n, m, tier, status, expires, confirmed, symbol, created, size, mark \
                in conn.execute(summed, {"b_account": account_id, "b_cutoff": cutoff}):
            if kind == _ROW:
                account.holds[rid] = Hold(n, m, tier, status == ACTIVE, expires, confirmed,
                                          symbol, created)
            elif kind == _SETTLED:
                total = totals.get((tier, symbol))
                if total is None:
                    totals[tier, symbol] = [size, n, m, confirmed]
                else:
                    total[0] += size
                    total[1] += n
                    total[2] += m
                    total[3] = max(total[3], confirmed)
            else:
                account.last_event = int(mark)
        for (tier, symbol), (size, n, m, latest) in totals.items():
            account.sums[tier, symbol] = Hold(n, m, tier, False, latest, latest, symbol, None,
                                              int(size))
        return account

    @staticmethod
    def _catch_up(conn: Connection, account_id: str, account: _Account) -> None:
        rows = conn.execute(_SINCE, {"b_account": account_id,
                                     "b_last": account.last_event}).all()
        if not rows:
            return
        with account.lock:  # readers catch up too: apply each event once, in order
            for event_id, event, rid, at, n, m, tier, expires, symbol, created, confirmed \
                    in rows:
                if event_id <= account.last_event:
                    continue
                HoldLedger._apply(account, event, rid, at,
                                  Hold(n, m, tier, True, expires, None, symbol, created),
                                  confirmed)
                account.last_event = int(event_id)

    @staticmethod
    def _apply(account: _Account, event: str, rid: str, at: datetime, hold: Hold,
               confirmed: datetime | None) -> None:
        """Apply one event of ``rid``.

        ``hold`` is the reservation as granted, ``confirmed`` its confirmation time as stored.
        """
        if event == "RESERVE":
            account.holds[rid] = hold
        elif event == "CONFIRM":
            h = account.holds.get(rid)
            if h is not None:
                account.holds[rid] = h._replace(active=False, confirmed_at=at)
        else:  # RELEASE, EXPIRE
            account.drop(rid, hold._replace(active=False, confirmed_at=confirmed))


def held(holds: Iterable[Hold], now: datetime, as_of: datetime | None,
         tier: str | None) -> tuple[Decimal, Decimal, Decimal]:
    """Held notional, held margin and held notional of ``tier`` (zero without a tier)."""
    notional = margin = tier_notional = _ZERO
    for h in holds:
        if h.counts(now, as_of):
            notional += h.notional
            margin += h.margin
            if tier is not None and h.tier == tier:
                tier_notional += h.notional
    return notional, margin, tier_notional


def opener_counts(holds: Iterable[Hold], now: datetime, as_of: datetime | None,
                  since: datetime) -> tuple[frozenset[str], int]:
    """The symbols of the holds that count, and how many holds were granted since ``since``.

    A hold granted since ``since`` is an opening order of the period unless it was given
    back: active and not expired at ``now``, or confirmed (whatever ``as_of``).
    """
    symbols = set()
    opened = 0
    # Hold.counts spelled out, and one test of expiry for both counts: this loop runs on
    # every decision.
    for h in holds:
        if h.active:
            if h.expires_at <= now:
                continue  # given back: neither held nor an opener of the period
            symbols.add(h.symbol)
        elif as_of is None or (h.confirmed_at is not None and h.confirmed_at > as_of):
            symbols.add(h.symbol)
        if h.created_at is not None and h.created_at >= since:
            opened += 1
    return frozenset(symbols), opened


@dataclass(frozen=True, slots=True)
class OpenersSeen:
    """What a decision counted of the account's openers; checked again when it is written.

    Parameters
    ----------
    positions
        Symbols with a position in the account state decided on.
    pending
        Symbols with an approved opener not yet in that state (:meth:`Store.pending_openers`).
    opened
        Openers of the period counted (for a per-day trade limit), or ``None`` when no such
        limit applies.
    since
        Start of that period.
    """

    positions: frozenset[str]
    pending: frozenset[str]
    opened: int | None
    since: datetime


def check_openers(symbol: str, seen: OpenersSeen, holds: Callable[[], list[Hold]],
                  now: datetime, as_of: datetime | None) -> None:
    """Fail a write when openers granted since its decision count against it.

    ``holds`` gives the account's holds granted before the write (called only when a count
    can change the decision). Raises :class:`~riskdesk.errors.StaleStateError`: decide again.
    """
    new = symbol not in seen.positions and symbol not in seen.pending
    if not new and seen.opened is None:
        return  # neither count can change the decision
    pending, opened = opener_counts(holds(), now, as_of, seen.since)
    if new:
        others = pending - seen.positions - seen.pending - {symbol}
        if others:
            raise StaleStateError(f"openers for {', '.join(sorted(others))} were approved "
                                  f"while {symbol} was decided as a new position: decide again")
    if seen.opened is not None and opened > seen.opened:
        raise StaleStateError(f"{opened} openers since {seen.since.isoformat()} (decided on "
                              f"{seen.opened}): decide again")
