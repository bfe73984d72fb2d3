"""Confirmations older than a day are settled: summed once, not walked by every decision.

A bot that confirms its fills and never releases them left every confirmation in the
account's holds, which each decision and each write walked: 5,000 of them took a decision
from 0.5 ms to 2.3 ms of CPU. Settled ones are kept as one summary per tier; they count
where a confirmed hold counts (a standing budget, ``as_of=None``) and nowhere else.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from store_support import T0

from riskdesk.store import ReservationLimits, Store
from riskdesk.store._holds import SETTLED_AFTER, Hold

D = Decimal
ROOMY = ReservationLimits(buying_power=D(10**9), max_exposure=D(10**9))
STANDING = ReservationLimits(buying_power=D(10_000), max_exposure=D(10**9))  # as_of None


def _confirmed(store: Store, n: int, notional: int, at: object, tier: str | None = None
               ) -> list[str]:
    limits = ReservationLimits(buying_power=D(10**9), max_exposure=D(10**9), tier=tier,
                               tier_cap=None if tier is None else D(10**9))
    ids = []
    for _ in range(n):
        r = store.reserve("a", "AAPL", D(notional), D(notional), ttl_seconds=60, now=at,
                          limits=limits)
        assert r is not None
        store.confirm(r.reservation_id, now=at)
        ids.append(r.reservation_id)
    return ids


def _walked(store: Store, at: object) -> list[Hold]:
    holds = store._holds.known("a", at)  # what a decision iterates
    assert holds is not None
    return holds


def test_old_confirmations_are_one_summary_that_still_binds_a_standing_budget(
        store: Store) -> None:
    ids = _confirmed(store, 40, 100, T0)
    later = T0 + SETTLED_AFTER + timedelta(minutes=1)
    # A standing budget (as_of None) still counts them: 4,000 of 10,000 held.
    out = store.try_reserve("a", "MSFT", D(6001), D(1), ttl_seconds=60, now=later,
                            limits=STANDING)
    assert out.reservation is None
    assert out.held_notional == D(4000)
    walked = _walked(store, later)
    assert len(walked) == 1  # one summary instead of 40 confirmations
    assert (walked[0].notional, walked[0].margin) == (D(4000), D(4000))
    # A decision on a state read after them does not count them.
    fresh = ReservationLimits(buying_power=D(10_000), max_exposure=D(10**9), as_of=later)
    assert store.try_reserve("a", "MSFT", D(9000), D(1), ttl_seconds=60, now=later,
                             limits=fresh).reservation is not None
    # Releasing a settled confirmation gives its budget back to the standing budget.
    for rid in ids[:10]:
        store.release(rid, now=later)
    out = store.try_reserve("a", "MSFT", D(1), D(1), ttl_seconds=60, now=later,
                            limits=STANDING)
    assert out.held_notional == D(3000) + D(9000)


def test_settled_confirmations_add_no_position_and_no_trade(store: Store) -> None:
    _confirmed(store, 5, 100, T0)
    later = T0 + SETTLED_AFTER + timedelta(hours=1)
    _confirmed(store, 1, 100, later)  # one of today
    symbols, opened = store.pending_openers("a", now=later, as_of=None,
                                            since=later - timedelta(hours=1))
    assert symbols == frozenset({"AAPL"})
    assert opened == 1
    symbols, _ = store.pending_openers("a", now=later, as_of=later, since=later)
    assert symbols == frozenset()


def test_tiers_keep_their_own_summaries_and_a_restart_agrees(store: Store) -> None:
    _confirmed(store, 3, 100, T0, tier="CORE")
    _confirmed(store, 2, 50, T0, tier="GROWTH")
    later = T0 + SETTLED_AFTER + timedelta(minutes=5)
    tiered = ReservationLimits(buying_power=D(10**9), max_exposure=D(10**9), tier="CORE",
                               tier_cap=D(400))
    out = store.try_reserve("a", "MSFT", D(101), D(1), ttl_seconds=60, now=later,
                            limits=tiered)
    assert out.reservation is None
    assert out.held_tier_notional == D(300)
    assert out.held_notional == D(400)
    store._holds.forget()  # a new process reads the holds from the database
    again = store.try_reserve("a", "MSFT", D(101), D(1), ttl_seconds=60, now=later,
                              limits=tiered)
    assert (again.reservation, again.held_tier_notional) == (None, D(300))
    assert sorted(h.tier or "" for h in _walked(store, later)) == ["CORE", "GROWTH"]


def test_the_held_budget_view_counts_settled_confirmations_like_the_decisions(
        store: Store) -> None:
    _confirmed(store, 4, 100, T0)
    later = T0 + SETTLED_AFTER + timedelta(minutes=1)
    _confirmed(store, 1, 50, later)
    standing = store.held_budget("a", now=later, as_of=None)
    assert (standing.count, standing.notional) == (5, D(450))
    assert [(s.symbol, s.count, s.notional) for s in standing.by_symbol] == [
        ("AAPL", 5, D(450))]
    read_now = store.held_budget("a", now=later, as_of=later - timedelta(seconds=1))
    assert (read_now.count, read_now.notional) == (1, D(50))  # only the fresh confirmation
