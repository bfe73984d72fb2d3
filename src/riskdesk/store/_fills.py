"""Fills: each execution recorded once, whatever number of times it is reported."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from riskdesk.domain import Side
from riskdesk.errors import ConflictError
from riskdesk.store import _tables as t
from riskdesk.store._base import (
    StoreBase,
    check_limit,
    check_money,
    check_optional_text,
    check_text,
    check_time,
)

_F = t.fills
_SAME = ("symbol", "side", "quantity", "price")


class FillOps(StoreBase):
    """Record and read fills."""

    def record_fill(self, fill_id: str, symbol: str, side: Side | str, qty: Decimal,
                    price: Decimal, fee: Decimal, strategy: str | None, at: datetime,
                    realized_pnl: Decimal | None = None) -> bool:
        """Record a fill once.

        Parameters
        ----------
        fill_id
            The broker's execution id; the key that makes a duplicate report harmless.
        symbol
            Instrument.
        side
            BUY or SELL (LONG and SHORT accepted).
        qty
            Filled quantity, > 0.
        price
            Fill price, > 0.
        fee
            Fee paid in quote currency (negative for a rebate).
        strategy
            Strategy the fill belongs to, optional.
        at
            Execution time (timezone-aware).
        realized_pnl
            Profit or loss the fill realized when it closed or reduced a position; ``None``
            for an opening fill. Trade statistics count each such fill as one closed trade,
            won when positive.

        Returns
        -------
        bool
            ``True`` when recorded, ``False`` when ``fill_id`` was already recorded with the
            same symbol, side, quantity and price.

        Raises
        ------
        ConflictError
            If ``fill_id`` was recorded with a different symbol, side, quantity or price.
        InvalidInputError
            For bad input; nothing is written.
        """
        row = {
            "fill_id": check_text(fill_id, "fill_id"),
            "symbol": check_text(symbol, "symbol", 64),
            "side": "BUY" if Side.parse(side, "side") is Side.LONG else "SELL",
            "quantity": check_money(qty, "qty", allow_zero=False),
            "price": check_money(price, "price", allow_zero=False),
            "fee": check_money(fee, "fee", allow_negative=True),
            "strategy": check_optional_text(strategy, "strategy"),
            "at": check_time(at, "at"),
            "realized_pnl": None if realized_pnl is None else check_money(
                realized_pnl, "realized_pnl", allow_negative=True),
            "recorded_at": self._now(),
        }
        with self._write() as conn:
            if self._insert_ignore(conn, _F, row, ["fill_id"]):
                return True
            old = conn.execute(sa.select(_F).where(_F.c.fill_id == row["fill_id"])).one()
        diff = [k for k in _SAME if getattr(old, k) != row[k]]
        if diff:
            raise ConflictError(f"fill {fill_id!r} was already recorded with different "
                                f"{', '.join(diff)}")
        return False

    def fills(self, *, symbol: str | None = None, strategy: str | None = None,
              since: datetime | None = None, until: datetime | None = None,
              limit: int = 10_000) -> list[dict[str, Any]]:
        """Recorded fills, oldest first, optionally filtered.

        Returns
        -------
        list of dict
            ``fill_id``, ``symbol``, ``side`` (BUY/SELL), ``quantity``, ``price``, ``fee``,
            ``strategy``, ``at``, ``realized_pnl`` and ``recorded_at``.
        """
        check_limit(limit)
        stmt = sa.select(_F).order_by(_F.c.at, _F.c.fill_id).limit(limit)
        if symbol is not None:
            stmt = stmt.where(_F.c.symbol == symbol)
        if strategy is not None:
            stmt = stmt.where(_F.c.strategy == strategy)
        if since is not None:
            stmt = stmt.where(_F.c.at >= check_time(since, "since"))
        if until is not None:
            stmt = stmt.where(_F.c.at < check_time(until, "until"))
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def realized_pnls(self, *, strategy: str | None = None,
                      symbol: str | None = None) -> list[Decimal]:
        """Realized PnL of every closing fill, oldest first."""
        stmt = (sa.select(_F.c.realized_pnl).where(_F.c.realized_pnl.is_not(None))
                .order_by(_F.c.at, _F.c.fill_id))
        if strategy is not None:
            stmt = stmt.where(_F.c.strategy == check_text(strategy, "strategy"))
        if symbol is not None:
            stmt = stmt.where(_F.c.symbol == check_text(symbol, "symbol", 64))
        with self._read() as conn:
            return list(conn.execute(stmt).scalars())
