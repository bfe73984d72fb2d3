"""Reconciliation reports, stored as JSON documents."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from riskdesk.store import _tables as t
from riskdesk.store._base import StoreBase, check_limit, check_optional_text
from riskdesk.store._codec import to_json_object

_RC = t.reconciliations


class ReportOps(StoreBase):
    """Save and list reconciliation reports."""

    def save_reconciliation(self, report: dict[str, Any]) -> int:
        """Store a reconciliation report; returns its id.

        Parameters
        ----------
        report
            The report as a dict (Decimals and datetimes are stored as strings). An
            ``account_id`` key, when present, is also stored in its own column.

        Returns
        -------
        int
            The report id.
        """
        doc = to_json_object(report, "report")
        account_id = check_optional_text(doc.get("account_id"), "report.account_id")
        with self._write() as conn:
            new_id = conn.execute(sa.insert(_RC).values(
                recorded_at=self._now(), account_id=account_id, report=doc,
            ).returning(_RC.c.id)).scalar_one()
        return int(new_id)

    def reconciliations(self, limit: int = 20, *,
                        account_id: str | None = None) -> list[dict[str, Any]]:
        """Reports, newest first: ``id``, ``recorded_at``, ``account_id`` and ``report``."""
        check_limit(limit)
        stmt = sa.select(_RC).order_by(_RC.c.id.desc()).limit(limit)
        if account_id is not None:
            stmt = stmt.where(_RC.c.account_id == account_id)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]
