"""Confirmations older than a day are settled: summed once, not walked by every decision.

A bot that confirms its fills and never releases them left every confirmation in the
account's holds, which each decision and each write walked: 5,000 of them took a decision
from 0.5 ms to 2.3 ms of CPU. Settled ones are kept as one summary per tier; they count
where a confirmed hold counts (a standing budget, ``as_of=None``) and nowhere else.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from store_support import T0, Clock

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


# ---------------------------------------------------------------------- the first load
#: Old confirmations with eight decimal places: summed as floats, they would be off.
_NOTIONALS = [D("1234.56789012") + k * D("1.11111111") for k in range(24)]
_LATER = T0 + SETTLED_AFTER + timedelta(minutes=1)


def _old(store: Store, symbol: str, tier: str | None, notionals: list[Decimal]
         ) -> dict[str, tuple[Decimal, Decimal]]:
    """Confirmed at ``T0``: settled a day later. Returns their (notional, margin) by id."""
    limits = ReservationLimits(buying_power=D(10**9), max_exposure=D(10**9), tier=tier,
                               tier_cap=None if tier is None else D(10**9))
    out = {}
    for n in notionals:
        m = n / 4
        r = store.reserve("a", symbol, n, m, ttl_seconds=60, now=T0, limits=limits)
        assert r is not None
        store.confirm(r.reservation_id, now=T0)
        out[r.reservation_id] = (n, m)
    return out


def _restarted(db_url: str) -> Store:
    return Store.open(db_url, clock=Clock(_LATER))


def _kept(store: Store) -> tuple[int, int, dict[tuple[str | None, str], int]]:
    """What the store's ledger keeps of account "a": live holds, settled ones by id, sums."""
    account = store._holds._accounts["a"]
    return len(account.holds), len(account.settled), {
        k: s.size for k, s in account.sums.items()}


def test_a_restart_reads_old_confirmations_as_exact_sums_not_rows(store: Store,
                                                                   db_url: str) -> None:
    core = _old(store, "AAPL", "CORE", _NOTIONALS)
    plain = _old(store, "MSFT", None, _NOTIONALS[:5])
    exact_n = sum(_NOTIONALS, D(0)) + sum(_NOTIONALS[:5], D(0))
    exact_m = sum((m for _, m in [*core.values(), *plain.values()]), D(0))
    assert D(str(sum(float(n) for n in _NOTIONALS))) != sum(_NOTIONALS, D(0))
    before = store.held_budget("a", now=_LATER, as_of=None)
    again = _restarted(db_url)
    try:
        after = again.held_budget("a", now=_LATER, as_of=None)
        assert (after.count, after.notional, after.margin) == (29, exact_n, exact_m)
        assert after == before
        # Nothing of them is kept row by row: one summary per tier and symbol.
        assert _kept(again) == (0, 0, {("CORE", "AAPL"): 24, (None, "MSFT"): 5})
        assert again.pending_openers("a", now=_LATER, as_of=None, since=T0) == \
            store.pending_openers("a", now=_LATER, as_of=None, since=T0)
        tiered = ReservationLimits(buying_power=D(10**9), max_exposure=D(10**9), tier="CORE",
                                   tier_cap=D(10**9))
        out = again.try_reserve("a", "NVDA", D(1), D(1), ttl_seconds=60, now=_LATER,
                                limits=tiered)
        assert (out.held_notional, out.held_margin, out.held_tier_notional) == (
            exact_n, exact_m, sum(_NOTIONALS, D(0)))
    finally:
        again.close()


def test_releasing_an_old_confirmation_after_a_restart_takes_out_exactly_it(
        store: Store, db_url: str) -> None:
    core = _old(store, "AAPL", "CORE", _NOTIONALS[:6])
    plain = _old(store, "MSFT", None, _NOTIONALS[6:8])
    again = _restarted(db_url)
    try:
        start = again.held_budget("a", now=_LATER, as_of=None)
        assert _kept(again) == (0, 0, {("CORE", "AAPL"): 6, (None, "MSFT"): 2})
        first = next(iter(core))
        n, m = core[first]
        again.release(first, now=_LATER)
        one_less = again.held_budget("a", now=_LATER, as_of=None)
        assert (one_less.count, one_less.notional, one_less.margin) == (
            start.count - 1, start.notional - n, start.margin - m)
        assert _kept(again) == (0, 0, {("CORE", "AAPL"): 5, (None, "MSFT"): 2})
        # Released by another process: the events bring it in.
        for rid in plain:
            store.release(rid, now=_LATER)
        left = again.held_budget("a", now=_LATER, as_of=None)
        assert _kept(again) == (0, 0, {("CORE", "AAPL"): 5})
        assert [s.symbol for s in left.by_symbol] == ["AAPL"]
        assert (left.count, left.notional, left.margin) == (
            5, sum(_NOTIONALS[1:6], D(0)), sum((core[r][1] for r in list(core)[1:]), D(0)))
        for rid in list(core)[1:]:
            store.release(rid, now=_LATER)
        gone = again.held_budget("a", now=_LATER, as_of=None)
        assert (gone.count, gone.notional, gone.margin, gone.by_symbol) == (0, 0, 0, ())
        assert _kept(again) == (0, 0, {})
    finally:
        again.close()


def test_a_release_twice_or_an_expiry_of_an_unconfirmed_hold_leaves_the_sums(
        store: Store, db_url: str) -> None:
    core = _old(store, "AAPL", "CORE", _NOTIONALS[:4])
    active = store.reserve("a", "AAPL", D("5.5"), D("1.1"), ttl_seconds=60,
                           now=_LATER - timedelta(seconds=30), limits=ROOMY)
    released = store.reserve("a", "AAPL", D("7.25"), D("2"), ttl_seconds=60,
                             now=_LATER - timedelta(seconds=30), limits=ROOMY)
    assert active is not None
    assert released is not None
    again = _restarted(db_url)
    try:
        start = again.held_budget("a", now=_LATER, as_of=None)
        assert start.notional == sum(_NOTIONALS[:4], D(0)) + D("12.75")
        first = next(iter(core))
        again.release(first, now=_LATER)
        again.release(first, now=_LATER)  # a second release writes nothing
        store.release(first, now=_LATER)
        expected = start.notional - core[first][0] - D("7.25")
        store.release(released.reservation_id, now=_LATER)  # never confirmed
        store.release(released.reservation_id, now=_LATER)
        for _ in range(3):  # the events already applied are not applied again
            b = again.held_budget("a", now=_LATER, as_of=None)
            assert (b.count, b.notional) == (4, expected)
        # The active one expires: never confirmed, it was never in a sum.
        assert store.expire(_LATER + timedelta(minutes=5)) == 1
        b = again.held_budget("a", now=_LATER + timedelta(minutes=5), as_of=None)
        assert (b.count, b.notional, b.margin) == (
            3, sum(_NOTIONALS[1:4], D(0)), sum((m for _, m in list(core.values())[1:]), D(0)))
        assert _kept(again) == (0, 0, {("CORE", "AAPL"): 3})
    finally:
        again.close()


def test_an_old_time_confirmed_after_the_load_comes_out_once(store: Store,
                                                             db_url: str) -> None:
    _old(store, "AAPL", None, _NOTIONALS[:3])
    again = _restarted(db_url)
    try:
        start = again.held_budget("a", now=_LATER, as_of=None)
        # Granted and confirmed after the load, at a time before the load's cutoff.
        late = _old(store, "AAPL", None, [D("0.12345678")])
        (rid, (n, m)), = late.items()
        b = again.held_budget("a", now=_LATER, as_of=None)
        assert (b.count, b.notional, b.margin) == (
            start.count + 1, start.notional + n, start.margin + m)
        store.release(rid, now=_LATER)
        b = again.held_budget("a", now=_LATER, as_of=None)
        assert (b.count, b.notional, b.margin) == (start.count, start.notional, start.margin)
    finally:
        again.close()
