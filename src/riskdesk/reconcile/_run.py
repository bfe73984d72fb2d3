"""One reconciliation pass against a live broker: read, compare, store the report."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from riskdesk.brokers import Broker
from riskdesk.reconcile._book import Book
from riskdesk.reconcile._model import ReconcilePolicy
from riskdesk.reconcile._pool import Pool, PoolReport
from riskdesk.reconcile._pool_reconcile import reconcile_pool
from riskdesk.reconcile._reconcile import ReconciliationReport, reconcile


class ReportStore(Protocol):
    """Where reports go (``riskdesk.store`` implements it)."""

    def save_reconciliation(self, report: dict[str, Any]) -> Any:
        """Persist one report document."""
        ...


def run_reconciliation(broker: Broker, book: Book, policy: ReconcilePolicy, now: datetime, *,
                       store: ReportStore | None = None,
                       account_id: str | None = None) -> ReconciliationReport:
    """Read the broker's account at ``now``, reconcile ``book`` with it and store the report.

    Parameters
    ----------
    broker
        The broker to read.
    book
        The desk's book.
    policy
        Resolutions and tolerances.
    now
        Time of the pass; the broker state is stamped with it.
    store
        Optional store; the report's ``to_dict()`` is saved there.
    account_id
        Account name for the report (defaults to the broker's name).

    Returns
    -------
    ReconciliationReport
        The report; the caller sends its close orders and honours its halt flag.
    """
    report = reconcile(book, broker.account(now), policy, now,
                       account_id=account_id or broker.name)
    if store is not None:
        store.save_reconciliation(report.to_dict())
    return report


def run_pool_reconciliation(broker: Broker, pool: Pool, policy: ReconcilePolicy,
                            now: datetime, *, store: ReportStore | None = None,
                            account_id: str | None = None) -> PoolReport:
    """Like :func:`run_reconciliation`, for virtual sub-accounts sharing the broker account."""
    report = reconcile_pool(pool, broker.account(now), policy, now,
                            account_id=account_id or broker.name)
    if store is not None:
        store.save_reconciliation(report.to_dict())
    return report
