"""Initial schema: journal, capital snapshots, reservations, state, fills, reports, keys.

Revision ID: 0001
Revises:
Create Date: 2026-01-05

The column types are spelled out here, not imported, so that this revision keeps building the
same schema whatever later code does: money is NUMERIC on PostgreSQL and exact decimal text on
SQLite, times are timestamptz (naive UTC on SQLite), documents JSONB (JSON text on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                     primary_key=True, autoincrement=True)


def _money(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Numeric().with_variant(sa.String(64), "sqlite"),
                     nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _doc(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                     nullable=nullable)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _pk(table: str, *cols: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*cols, name=f"pk_{table}")


def _index(table: str, *cols: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(cols)}", table, list(cols))


def upgrade() -> None:
    op.create_table("store_locks", _text("name", 200), _pk("store_locks", "name"))

    op.create_table(
        "capital_snapshots", _id(), _time("at"),
        _money("equity"), _money("total_wallet_balance"), _money("available_balance"),
        _money("margin_used"), sa.Column("margin_used_pct", sa.Float(), nullable=False),
        _money("unrealized_pnl"), _money("buying_power"), _money("high_water_mark"),
        sa.Column("drawdown", sa.Float(), nullable=False),
        _money("day_start_equity"), _money("week_start_equity"),
        sa.Column("open_positions", sa.Integer(), nullable=False),
        _money("gross_exposure"), _text("capital_status", 16),
        _pk("capital_snapshots", "id"),
    )
    _index("capital_snapshots", "at")

    op.create_table(
        "decisions", _id(), _time("decided_at"), _time("recorded_at"),
        _text("request_id", 200, nullable=True), _text("config_name", 200),
        _text("symbol", 64), _text("side", 8), _text("intent", 8), _text("action", 32),
        _money("quantity"), _money("price"), _money("notional"), _money("leverage"),
        _money("margin_required"), _text("execution_method", 16),
        _text("binding_cap", 64, nullable=True),
        sa.Column("risk_pct", sa.Float(), nullable=False),
        _text("strategy", 200, nullable=True),
        _money("account_equity_at_entry", nullable=True), _money("position_size_usd"),
        _doc("reasons"), _doc("close_symbols"), _doc("trail"), _doc("inputs"),
        _pk("decisions", "id"),
    )
    _index("decisions", "decided_at")
    _index("decisions", "request_id")
    _index("decisions", "symbol")

    op.create_table(
        "idempotency_keys", _text("key", 200), _text("body_hash", 128),
        _doc("response", nullable=True), _text("owner", 32), _time("created_at"),
        _time("completed_at", nullable=True),
        _pk("idempotency_keys", "key"),
    )
    _index("idempotency_keys", "created_at")

    op.create_table(
        "reservations", _text("id", 32), _text("account_id", 200), _text("symbol", 64),
        _money("notional"), _money("margin"), _text("tier", 64, nullable=True),
        _text("status", 16), _time("created_at"), _time("expires_at"),
        _time("confirmed_at", nullable=True), _time("settled_at", nullable=True),
        _pk("reservations", "id"),
    )
    _index("reservations", "account_id", "status", "confirmed_at")

    op.create_table(
        "reservation_events", _id(), _text("reservation_id", 32), _text("account_id", 200),
        _text("event", 16), _time("at"), _money("notional"), _money("margin"),
        sa.ForeignKeyConstraint(["reservation_id"], ["reservations.id"],
                                name="fk_reservation_events_reservation_id_reservations"),
        _pk("reservation_events", "id"),
    )
    _index("reservation_events", "reservation_id")
    _index("reservation_events", "account_id")

    op.create_table(
        "desk_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False), _time("updated_at"),
        _doc("state"), _pk("desk_state", "id"),
    )
    op.create_table(
        "trading_state_events", _id(), _time("at"),
        sa.Column("version", sa.Integer(), nullable=False),
        _text("trading_state", 16, nullable=True), _text("operator", 200, nullable=True),
        sa.Column("note", sa.Text(), nullable=True), _doc("state"),
        _pk("trading_state_events", "id"),
    )
    _index("trading_state_events", "at")

    op.create_table("kv", _text("key", 200), _doc("value"), _time("updated_at"),
                    _pk("kv", "key"))

    op.create_table(
        "fills", _text("fill_id", 200), _text("symbol", 64), _text("side", 8),
        _money("quantity"), _money("price"), _money("fee"),
        _text("strategy", 200, nullable=True), _time("at"),
        _money("realized_pnl", nullable=True), _time("recorded_at"),
        _pk("fills", "fill_id"),
    )
    _index("fills", "symbol")
    _index("fills", "strategy")
    _index("fills", "at")

    op.create_table(
        "reconciliations", _id(), _time("recorded_at"),
        _text("account_id", 200, nullable=True), _doc("report"),
        _pk("reconciliations", "id"),
    )
    _index("reconciliations", "recorded_at")

    op.create_table(
        "api_keys", _text("key_id", 32), _text("name", 200), _text("key_hash", 64),
        _doc("scopes"), _time("created_at"), _time("revoked_at", nullable=True),
        _pk("api_keys", "key_id"),
    )


def downgrade() -> None:
    for table in ("api_keys", "reconciliations", "fills", "kv", "trading_state_events",
                  "desk_state", "reservation_events", "reservations", "idempotency_keys",
                  "decisions", "capital_snapshots", "store_locks"):
        op.drop_table(table)
