"""Index the journal by strategy and decision time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

The multi-tier view asks for the latest decision of a plan (strategy ``"plan"``) on every call
of ``GET /api/capital/allocation/multi-tier`` and ``/analysis/complete``. Without this index
the database walks the journal back from its newest decision, and reads all of it when no plan
was ever made; with it the answer is one index probe.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_decisions_strategy_decided_at"


def upgrade() -> None:
    op.create_index(_NAME, "decisions", ["strategy", "decided_at"])


def downgrade() -> None:
    op.drop_index(_NAME, table_name="decisions")
