"""Reconciliation: find where the desk's book and the broker disagree, and resolve it.

``reconcile(book, broker.account(now), policy, now)`` compares positions (missing, unknown,
quantity and entry-price drift) and cash, resolves each finding by the policy (adopt the
broker's value, flatten the unexpected exposure, or halt) and returns a report with the
resulting book. ``reconcile_pool`` does the same for per-strategy virtual sub-accounts sharing
one broker account. Both are pure: the same inputs give the same report, and reconciling the
resulting book against the same broker state changes nothing.
"""

from __future__ import annotations

from riskdesk.reconcile._book import Book, position_key
from riskdesk.reconcile._model import (
    CloseOrder,
    Finding,
    FindingKind,
    ReconcilePolicy,
    Resolution,
    Tolerances,
)
from riskdesk.reconcile._pool import UNASSIGNED, Pool, PoolReport, SubAccount, largest_remainder
from riskdesk.reconcile._pool_reconcile import reconcile_pool
from riskdesk.reconcile._reconcile import ReconciliationReport, reconcile, remote_cash
from riskdesk.reconcile._run import ReportStore, run_pool_reconciliation, run_reconciliation

__all__ = [
    "UNASSIGNED",
    "Book",
    "CloseOrder",
    "Finding",
    "FindingKind",
    "Pool",
    "PoolReport",
    "ReconcilePolicy",
    "ReconciliationReport",
    "ReportStore",
    "Resolution",
    "SubAccount",
    "Tolerances",
    "largest_remainder",
    "position_key",
    "reconcile",
    "reconcile_pool",
    "remote_cash",
    "run_pool_reconciliation",
    "run_reconciliation",
]
