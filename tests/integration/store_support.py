"""Shared builders and the child-process programs of the store tests.

Run as a script (``python store_support.py burst URL``), it writes journal rows as fast as it
can and prints ``SEQ ID`` for each one after its commit returned.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import make_url

from riskdesk.domain import (
    AccountState,
    Action,
    Adjustment,
    Decision,
    ExecutionMethod,
    Intent,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    Side,
    Signal,
)
from riskdesk.store import ReservationLimits, Store

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


class Clock:
    """A settable clock for the store's record timestamps."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def account(equity: str = "55000", **kw: Any) -> AccountState:
    kw.setdefault("available", Decimal(equity) * Decimal("0.8"))
    kw.setdefault("as_of", T0)
    return AccountState(equity=Decimal(equity), **kw)


def market(price: str = "43210.123456789", symbol: str = "BTCUSDT") -> MarketSnapshot:
    rules = MarketRules(symbol, step=Decimal("0.001"), tick=Decimal("0.000000001"),
                        min_notional=Decimal("5"))
    return MarketSnapshot(rules, Decimal(price), as_of=T0, bid=Decimal(price),
                          ask=Decimal(price) + Decimal("0.5"), volatility=0.021)


def signal(seq: int = 0, symbol: str = "BTCUSDT") -> Signal:
    return Signal(symbol, Side.LONG, score=4.0 + (seq % 10) / 10, strategy="momentum")


def decision(seq: int = 0, symbol: str = "BTCUSDT",
             decided_at: datetime | None = T0) -> Decision:
    """A deterministic ENTER decision whose numbers depend on ``seq``."""
    qty = Decimal("0.001") * (seq % 50 + 1)
    price = Decimal("43210.123456789")
    notional = qty * price
    trail = (
        *(Adjustment("base_size", ReasonCode.CONVICTION, 0.0, 825.0 + k, f"step {k} of {seq}")
          for k in range(3)),
        Adjustment("cap", ReasonCode.CAP_MAX_POSITION_DOLLAR, 900.5, float(notional),
                   "max position dollar"),
    )
    return Decision(Action.ENTER, symbol, Side.LONG, Intent.OPEN, quantity=qty, price=price,
                    notional=notional, leverage=Decimal("3"),
                    margin_required=notional / 3, execution_method=ExecutionMethod.LIMIT,
                    binding_cap=ReasonCode.CAP_MAX_POSITION_DOLLAR, trail=trail,
                    reasons=(ReasonCode.LARGE_ORDER,) if seq % 7 == 0 else (),
                    risk_pct=float(notional / Decimal(55000)), decided_at=decided_at)


def journal_one(store: Store, seq: int) -> int:
    return store.journal_decision(
        decision(seq, decided_at=T0 + timedelta(seconds=seq)), signal=signal(seq),
        account=account(positions=(Position("ETHUSDT", Side.SHORT, Decimal("1.5"),
                                            Decimal("2250.5")),)),
        market=market(), config_name="equity-conviction", request_id=f"burst-{seq}")


def expected_row(seq: int) -> dict[str, Any]:
    """The columns ``journal_one(store, seq)`` writes."""
    d = decision(seq, decided_at=T0 + timedelta(seconds=seq))
    return {"request_id": f"burst-{seq}", "quantity": d.quantity, "price": d.price,
            "notional": d.notional, "margin_required": d.margin_required,
            "position_size_usd": d.notional, "account_equity_at_entry": Decimal("55000"),
            "decided_at": d.decided_at, "trail": [a.to_dict() for a in d.trail],
            "reasons": [r.value for r in d.reasons]}


def burst_main(url: str) -> None:
    store = Store.open(url)
    seq = 0
    while True:
        row_id = journal_one(store, seq)
        sys.stdout.write(f"{seq} {row_id}\n")
        sys.stdout.flush()
        seq += 1


# ---------------------------------------------------------------------- reservations
ACCOUNT = "acct-1"
LIMITS = {"buying_power": Decimal("20000"), "max_exposure": Decimal("18000"),
          "exposure": Decimal("3000"), "available_margin": Decimal("4000")}
TIER_CAPS = {"CORE": Decimal("9000"), "GROWTH": Decimal("6000")}


def limits_for(tier: str) -> ReservationLimits:
    return ReservationLimits(buying_power=LIMITS["buying_power"],
                             max_exposure=LIMITS["max_exposure"], tier=tier,
                             tier_cap=TIER_CAPS[tier], exposure=LIMITS["exposure"],
                             available_margin=LIMITS["available_margin"])


@dataclass
class WorkerResult:
    granted: int = 0
    confirmed: int = 0
    refused: Counter[str] = field(default_factory=Counter)


def reservation_worker(url: str, proc: int, threads: int, requests: int) -> dict[str, Any]:
    """Hammer one account from ``threads`` threads; returns counts."""
    store = Store.open(url, pool_size=threads)
    results = [WorkerResult() for _ in range(threads)]

    def client(k: int) -> None:
        rng = random.Random(proc * 1000 + k)
        res = results[k]
        held: list[str] = []
        for _ in range(requests):
            tier = rng.choice(("CORE", "GROWTH"))
            notional = Decimal(rng.randrange(200, 1600, 50))
            margin = notional / rng.choice((Decimal(2), Decimal(5), Decimal(10)))
            out = store.try_reserve(ACCOUNT, "BTCUSDT", notional, margin, ttl_seconds=3600,
                                    now=datetime.now(UTC), limits=limits_for(tier))
            if out.reservation is None:
                assert out.refused_by is not None
                res.refused[out.refused_by.value] += 1
            else:
                res.granted += 1
                rid = out.reservation.reservation_id
                if rng.random() < 0.5:
                    store.confirm(rid, now=datetime.now(UTC))
                    res.confirmed += 1
                    held.append(rid)
                else:
                    store.release(rid, now=datetime.now(UTC))
            if held and (len(held) > 1 or rng.random() < 0.3):
                store.release(held.pop(0), now=datetime.now(UTC))
        for rid in held:
            store.release(rid, now=datetime.now(UTC))

    pool = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    store.close()
    total = WorkerResult()
    for r in results:
        total.granted += r.granted
        total.confirmed += r.confirmed
        total.refused.update(r.refused)
    return {"granted": total.granted, "confirmed": total.confirmed,
            "refused": dict(total.refused)}


def replay_peaks(events: list[dict[str, Any]], tiers: dict[str, str | None]) -> dict[str, Any]:
    """Replay reservation events in commit order; return the peak held amounts.

    RESERVE adds the hold, RELEASE and EXPIRE remove it, CONFIRM keeps it (the limits in these
    tests are a standing budget). Raises on an impossible sequence.
    """
    live: dict[str, tuple[Decimal, Decimal, str | None]] = {}
    notional = margin = Decimal(0)
    tier_held: dict[str | None, Decimal] = defaultdict(Decimal)
    peak = {"notional": Decimal(0), "margin": Decimal(0)}
    tier_peak: dict[str | None, Decimal] = defaultdict(Decimal)
    for e in events:
        rid = e["reservation_id"]
        if e["event"] == "RESERVE":
            assert rid not in live, f"reserved twice: {rid}"
            live[rid] = (e["notional"], e["margin"], tiers[rid])
            notional += e["notional"]
            margin += e["margin"]
            tier_held[tiers[rid]] += e["notional"]
        elif e["event"] in ("RELEASE", "EXPIRE"):
            n, m, tier = live.pop(rid)
            notional -= n
            margin -= m
            tier_held[tier] -= n
        else:
            assert e["event"] == "CONFIRM"
            assert rid in live, f"confirmed a settled reservation: {rid}"
        peak["notional"] = max(peak["notional"], notional)
        peak["margin"] = max(peak["margin"], margin)
        for tier, v in tier_held.items():
            tier_peak[tier] = max(tier_peak[tier], v)
    return {"peak": peak, "tier_peak": dict(tier_peak), "open": len(live)}

# ---------------------------------------------------------------------- SQLite locks
def sqlite_path(url: str) -> str:
    database = make_url(url).database
    assert database
    return database


@contextmanager
def write_locked(url: str) -> Iterator[None]:
    """Another connection holds the SQLite write lock (readers go on: WAL)."""
    holder = sqlite3.connect(sqlite_path(url), isolation_level=None, timeout=5)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


@contextmanager
def fully_locked(store: Store) -> Iterator[None]:
    """Another connection holds every lock of the SQLite file: reads fail too.

    An exclusive lock in WAL mode needs every other connection closed, so the store's pool is
    emptied first (it reconnects on its next use).
    """
    store.engine.dispose()
    holder = sqlite3.connect(sqlite_path(str(store.engine.url)), isolation_level=None,
                             timeout=5)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()  # the exclusive locking mode keeps the lock until the close


if __name__ == "__main__":
    if sys.argv[1] == "burst":
        burst_main(sys.argv[2])
    else:
        raise SystemExit(f"unknown program {sys.argv[1]!r}")

