"""The capital tracker (seed 001): snapshots, capital status, high-water mark, period starts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from riskdesk.config import CapitalStatus
from riskdesk.domain import AccountState
from riskdesk.errors import InvalidInputError
from riskdesk.store import _tables as t
from riskdesk.store._base import StoreBase, check_limit, check_time

_C = t.capital_snapshots


class CapitalHealth(StrEnum):
    """Seed 001's capital status, by margin used as a fraction of equity."""

    HEALTHY = "HEALTHY"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    EMERGENCY = "EMERGENCY"


def capital_health(margin_used_pct: float, thresholds: CapitalStatus) -> CapitalHealth:
    """Classify margin usage.

    Parameters
    ----------
    margin_used_pct
        Margin used as a fraction of equity (0.16 = 16%).
    thresholds
        ``warning``, ``critical`` and ``emergency`` fractions; each level starts at its
        threshold (inclusive).

    Returns
    -------
    CapitalHealth
        HEALTHY below ``warning``, then WARNING, CRITICAL, EMERGENCY.
    """
    if margin_used_pct >= thresholds.emergency:
        return CapitalHealth.EMERGENCY
    if margin_used_pct >= thresholds.critical:
        return CapitalHealth.CRITICAL
    if margin_used_pct >= thresholds.warning:
        return CapitalHealth.WARNING
    return CapitalHealth.HEALTHY


def same_utc_day(a: datetime, b: datetime) -> bool:
    """Both times fall on the same UTC calendar day."""
    return a.astimezone(UTC).date() == b.astimezone(UTC).date()


def same_utc_week(a: datetime, b: datetime) -> bool:
    """Both times fall in the same ISO week (Monday 00:00 UTC to Sunday 24:00 UTC)."""
    return a.astimezone(UTC).isocalendar()[:2] == b.astimezone(UTC).isocalendar()[:2]


class CapitalOps(StoreBase):
    """Record capital snapshots and read the capital history."""

    def record_capital(self, account: AccountState, *, at: datetime) -> dict[str, Any]:
        """Record a capital snapshot of ``account`` taken at ``at``.

        The tracker keeps its own high-water mark (the highest equity it has seen, or the
        account's own mark when higher) and the equity at the start of the UTC day and of the
        ISO week (the first snapshot recorded in each). Capital status comes from
        ``config.capital_status`` by margin used as a fraction of equity.

        Parameters
        ----------
        account
            The account state.
        at
            When the state was read; must not be earlier than the latest snapshot.

        Returns
        -------
        dict
            The stored snapshot (see :meth:`latest_capital`).

        Raises
        ------
        InvalidInputError
            For a naive ``at``, an ``at`` before the latest snapshot, or a non-AccountState.
        """
        if not isinstance(account, AccountState):
            raise InvalidInputError("account", account, "an AccountState")
        check_time(at, "at")
        a = account
        assert a.high_water_mark is not None
        assert a.buying_power is not None
        with self._write() as conn:
            self._lock(conn, "capital")
            prev = conn.execute(sa.select(_C).order_by(_C.c.at.desc(), _C.c.id.desc())
                                .limit(1)).first()
            if prev is not None and at < prev.at:
                raise InvalidInputError("at", at, "a time not earlier than the latest capital "
                                        f"snapshot ({prev.at.isoformat()})")
            hwm = max(a.high_water_mark, a.equity,
                      prev.high_water_mark if prev is not None else a.equity)
            day_start = prev.day_start_equity if prev is not None and same_utc_day(
                prev.at, at) else a.equity
            week_start = prev.week_start_equity if prev is not None and same_utc_week(
                prev.at, at) else a.equity
            row = {
                "at": at,
                "equity": a.equity,
                "total_wallet_balance": a.equity - a.unrealized_pnl,
                "available_balance": a.available,
                "margin_used": a.margin_used,
                "margin_used_pct": a.margin_used_pct,
                "unrealized_pnl": a.unrealized_pnl,
                "buying_power": a.buying_power,
                "high_water_mark": hwm,
                "drawdown": float(1 - a.equity / hwm),
                "day_start_equity": day_start,
                "week_start_equity": week_start,
                "open_positions": len(a.positions),
                "gross_exposure": sum((p.notional for p in a.positions), Decimal(0)),
                "capital_status": capital_health(a.margin_used_pct,
                                                 self._config.capital_status).value,
            }
            new_id = conn.execute(sa.insert(_C).returning(_C.c.id), row).scalar_one()
        return _out({"id": new_id, **row})

    def latest_capital(self) -> dict[str, Any] | None:
        """The latest snapshot, or ``None`` when none was recorded.

        Returns
        -------
        dict or None
            ``at``, ``equity``, ``total_wallet_balance``, ``available_balance``,
            ``margin_used``, ``margin_used_pct`` (fraction), ``unrealized_pnl``,
            ``buying_power``, ``high_water_mark``, ``drawdown`` (fraction),
            ``day_start_equity``, ``week_start_equity``, ``daily_pnl_pct``,
            ``weekly_pnl_pct`` (fractions), ``open_positions``, ``gross_exposure`` and
            ``capital_status``. Money is ``Decimal``, times aware UTC.
        """
        with self._read() as conn:
            r = conn.execute(sa.select(_C).order_by(_C.c.at.desc(), _C.c.id.desc())
                             .limit(1)).first()
        return None if r is None else _out(dict(r._mapping))

    def capital_history(self, since: datetime, until: datetime | None = None, *,
                        limit: int = 100_000) -> list[dict[str, Any]]:
        """Snapshots with ``since <= at < until``, oldest first.

        Parameters
        ----------
        since
            Start of the range (inclusive).
        until
            End of the range (exclusive); open-ended when ``None``.
        limit
            Most rows returned (the oldest ones in the range).

        Returns
        -------
        list of dict
            Snapshots in the shape of :meth:`latest_capital`.
        """
        check_time(since, "since")
        check_limit(limit)
        stmt = sa.select(_C).where(_C.c.at >= since)
        if until is not None:
            check_time(until, "until")
            if until < since:
                raise InvalidInputError("until", until, f"a time >= since ({since})")
            stmt = stmt.where(_C.c.at < until)
        stmt = stmt.order_by(_C.c.at, _C.c.id).limit(limit)
        with self._read() as conn:
            return [_out(dict(r._mapping)) for r in conn.execute(stmt)]


def _out(row: dict[str, Any]) -> dict[str, Any]:
    equity: Decimal = row["equity"]
    row["daily_pnl_pct"] = float(equity / row["day_start_equity"] - 1)
    row["weekly_pnl_pct"] = float(equity / row["week_start_equity"] - 1)
    return row
