"""Store benchmarks: journal writes per second and one reservation round trip, per database.

SQLite runs on a temporary file (WAL, synchronous=FULL). PostgreSQL runs on a temporary
database created on ``RISKDESK_BENCH_PG_ADMIN_URL`` (default: the local server's ``test``
database) and dropped afterwards; its rows are skipped with the reason when no server answers.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from benchmarks.runner import Bench
from riskdesk.domain import (
    AccountState,
    Action,
    Adjustment,
    Decision,
    Intent,
    MarketRules,
    MarketSnapshot,
    ReasonCode,
    Side,
    Signal,
)
from riskdesk.store import ReservationLimits, Store

PG_ADMIN_URL = os.environ.get("RISKDESK_BENCH_PG_ADMIN_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
JOURNAL_ROWS = 400
T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def _postgres() -> Iterator[str | None]:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                             connect_args={"connect_timeout": 5})
    try:
        conn = admin.connect()
    except OperationalError as exc:
        print(f"  store: PostgreSQL rows skipped: no server answers at {PG_ADMIN_URL} "
              f"({str(exc.orig).strip().splitlines()[0] if exc.orig else exc})",
              file=sys.stderr, flush=True)
        yield None
        return
    name = f"riskdesk_bench_{uuid.uuid4().hex[:12]}"
    with conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _decision_inputs() -> tuple[Decision, Signal, AccountState, MarketSnapshot]:
    rules = MarketRules("BTCUSDT", step=Decimal("0.001"), tick=Decimal("0.1"))
    market = MarketSnapshot(rules, Decimal("43210.5"), as_of=T0)
    account = AccountState(equity=Decimal(55000), available=Decimal(44000), as_of=T0)
    trail = tuple(Adjustment("step", ReasonCode.REGIME, 1000.0, 900.0 - k, "regime x0.9")
                  for k in range(8))
    decision = Decision(Action.ENTER, "BTCUSDT", Side.LONG, Intent.OPEN,
                        quantity=Decimal("0.019"), price=Decimal("43210.5"),
                        notional=Decimal("820.9995"), leverage=Decimal(3),
                        margin_required=Decimal("273.6665"), trail=trail,
                        binding_cap=ReasonCode.CAP_MAX_POSITION_DOLLAR, decided_at=T0)
    return decision, Signal("BTCUSDT", Side.LONG, score=4.2), account, market


def _journal_rate(store: Store) -> float:
    decision, signal, account, market = _decision_inputs()

    def write() -> None:
        store.journal_decision(decision, signal=signal, account=account, market=market,
                               config_name="bench")

    write()
    t0 = time.perf_counter()
    for _ in range(JOURNAL_ROWS):
        write()
    return JOURNAL_ROWS / (time.perf_counter() - t0)


def _round_trip(store: Store) -> Callable[[], None]:
    tick = [0]

    def reserve_confirm() -> None:
        tick[0] += 1
        now = T0 + timedelta(seconds=tick[0])
        # The account state is as of now: earlier confirmations are in it, not held.
        limits = ReservationLimits(buying_power=Decimal(100_000), max_exposure=Decimal(200_000),
                                   as_of=now)
        r = store.reserve("bench", "BTCUSDT", Decimal(1000), Decimal(200), ttl_seconds=30,
                          now=now, limits=limits)
        assert r is not None
        store.confirm(r.reservation_id, now=now + timedelta(microseconds=1))

    return reserve_confirm


def main(bench: Bench) -> None:
    for label, opener in (("sqlite", _sqlite), ("postgresql", _postgres)):
        with opener() as url:
            if url is None:
                continue
            store = Store.open(url, migrate=True)
            try:
                rate = _journal_rate(store)
                bench.record(f"journal_writes_{label}", rate, "rows/s",
                             note=f"{JOURNAL_ROWS} sequential committed rows, one writer")
                bench.time(f"reserve_confirm_{label}", _round_trip(store),
                           note="reserve + confirm, two committed transactions")
            finally:
                store.close()
