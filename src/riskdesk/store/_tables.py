"""The store's tables (SQLAlchemy Core). ``migrations/versions`` must build the same schema."""

from __future__ import annotations

import sqlalchemy as sa

from riskdesk.store._types import Money, UtcDateTime, id_type, json_type

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

#: One row per named lock; ``SELECT ... FOR UPDATE`` on it serializes writers on PostgreSQL.
store_locks = sa.Table(
    "store_locks", metadata,
    sa.Column("name", sa.String(200), primary_key=True),
)

capital_snapshots = sa.Table(
    "capital_snapshots", metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False, index=True),
    sa.Column("equity", Money(), nullable=False),
    sa.Column("total_wallet_balance", Money(), nullable=False),
    sa.Column("available_balance", Money(), nullable=False),
    sa.Column("margin_used", Money(), nullable=False),
    sa.Column("margin_used_pct", sa.Float(), nullable=False),
    sa.Column("unrealized_pnl", Money(), nullable=False),
    sa.Column("buying_power", Money(), nullable=False),
    sa.Column("high_water_mark", Money(), nullable=False),
    sa.Column("drawdown", sa.Float(), nullable=False),
    sa.Column("day_start_equity", Money(), nullable=False),
    sa.Column("week_start_equity", Money(), nullable=False),
    sa.Column("open_positions", sa.Integer(), nullable=False),
    sa.Column("gross_exposure", Money(), nullable=False),
    sa.Column("capital_status", sa.String(16), nullable=False),
)

decisions = sa.Table(
    "decisions", metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("decided_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.Column("request_id", sa.String(200), nullable=True, index=True),
    sa.Column("config_name", sa.String(200), nullable=False),
    sa.Column("symbol", sa.String(64), nullable=False, index=True),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("intent", sa.String(8), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("quantity", Money(), nullable=False),
    sa.Column("price", Money(), nullable=False),
    sa.Column("notional", Money(), nullable=False),
    sa.Column("leverage", Money(), nullable=False),
    sa.Column("margin_required", Money(), nullable=False),
    sa.Column("execution_method", sa.String(16), nullable=False),
    sa.Column("binding_cap", sa.String(64), nullable=True),
    sa.Column("risk_pct", sa.Float(), nullable=False),
    sa.Column("strategy", sa.String(200), nullable=True),
    sa.Column("account_equity_at_entry", Money(), nullable=True),
    sa.Column("position_size_usd", Money(), nullable=False),
    sa.Column("reasons", json_type(), nullable=False),
    sa.Column("close_symbols", json_type(), nullable=False),
    sa.Column("trail", json_type(), nullable=False),
    sa.Column("inputs", json_type(), nullable=False),
    # The latest decision of a strategy (Store.last_plan_at: the last rebalance); migration 0002.
    sa.Index(None, "strategy", "decided_at"),
)

idempotency_keys = sa.Table(
    "idempotency_keys", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("body_hash", sa.String(128), nullable=False),
    sa.Column("response", json_type(), nullable=True),
    sa.Column("owner", sa.String(32), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("completed_at", UtcDateTime(), nullable=True),
)

reservations = sa.Table(
    "reservations", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(200), nullable=False),
    sa.Column("symbol", sa.String(64), nullable=False),
    sa.Column("notional", Money(), nullable=False),
    sa.Column("margin", Money(), nullable=False),
    sa.Column("tier", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("confirmed_at", UtcDateTime(), nullable=True),
    sa.Column("settled_at", UtcDateTime(), nullable=True),
    # Serves both halves of the "held" query: active holds, and holds confirmed after a time.
    sa.Index(None, "account_id", "status", "confirmed_at"),
)

reservation_events = sa.Table(
    "reservation_events", metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("reservation_id", sa.String(32), sa.ForeignKey("reservations.id"),
              nullable=False, index=True),
    sa.Column("account_id", sa.String(200), nullable=False, index=True),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("notional", Money(), nullable=False),
    sa.Column("margin", Money(), nullable=False),
)

desk_state = sa.Table(
    "desk_state", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("state", json_type(), nullable=False),
)

trading_state_events = sa.Table(
    "trading_state_events", metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False, index=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("trading_state", sa.String(16), nullable=True),
    sa.Column("operator", sa.String(200), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    sa.Column("state", json_type(), nullable=False),
)

kv = sa.Table(
    "kv", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", json_type(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

fills = sa.Table(
    "fills", metadata,
    sa.Column("fill_id", sa.String(200), primary_key=True),
    sa.Column("symbol", sa.String(64), nullable=False, index=True),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("quantity", Money(), nullable=False),
    sa.Column("price", Money(), nullable=False),
    sa.Column("fee", Money(), nullable=False),
    sa.Column("strategy", sa.String(200), nullable=True, index=True),
    sa.Column("at", UtcDateTime(), nullable=False, index=True),
    sa.Column("realized_pnl", Money(), nullable=True),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
)

reconciliations = sa.Table(
    "reconciliations", metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("recorded_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("account_id", sa.String(200), nullable=True),
    sa.Column("report", json_type(), nullable=False),
)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("scopes", json_type(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
)
