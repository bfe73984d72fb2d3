"""riskdesk's persistent state: SQLite by default, PostgreSQL by URL, Alembic migrations.

``Store.open(url)`` gives the decision journal, the capital tracker, budget reservations that
are safe across processes, one group-committed write per decision (hold, journal row and
idempotent answer together, :class:`DecisionWrite`), desk state that survives a restart,
fills and trade statistics, reconciliation reports, idempotency keys and API keys. See
``docs/store.md``.
"""

from __future__ import annotations

from riskdesk.store._capital import CapitalHealth, capital_health, same_utc_day, same_utc_week
from riskdesk.store._engine import DEFAULT_SQLITE_PATH, ENV_VAR, make_engine, resolve_url
from riskdesk.store._holds import OpenersSeen
from riskdesk.store._keys import SCOPES, ApiKey, RevokedKeyError
from riskdesk.store._reservations import (
    HeldBudget,
    Reservation,
    ReservationLimits,
    ReservationOutcome,
    ReservationStatus,
    SymbolHeld,
)
from riskdesk.store._stats import TradeStats, shrunk_stats
from riskdesk.store._store import Store, alembic_config
from riskdesk.store._writes import (
    DecisionRecord,
    DecisionWrite,
    HoldRequest,
    RecordedDecision,
    WriteResult,
)

__all__ = [
    "DEFAULT_SQLITE_PATH",
    "ENV_VAR",
    "SCOPES",
    "ApiKey",
    "CapitalHealth",
    "DecisionRecord",
    "DecisionWrite",
    "HeldBudget",
    "HoldRequest",
    "OpenersSeen",
    "RecordedDecision",
    "Reservation",
    "ReservationLimits",
    "ReservationOutcome",
    "ReservationStatus",
    "RevokedKeyError",
    "Store",
    "SymbolHeld",
    "TradeStats",
    "WriteResult",
    "alembic_config",
    "capital_health",
    "make_engine",
    "resolve_url",
    "same_utc_day",
    "same_utc_week",
    "shrunk_stats",
]
