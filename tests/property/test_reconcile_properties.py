"""Reconciliation invariants: adopt makes the book the broker's, twice changes nothing,
duplicate fills count once, a pool's net equals the broker's and no share over-takes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from riskdesk.brokers import PaperBroker
from riskdesk.domain import AccountState, MarketRules, Position, Side
from riskdesk.reconcile import (
    Book,
    Pool,
    ReconcilePolicy,
    Resolution,
    SubAccount,
    Tolerances,
    largest_remainder,
    reconcile,
    reconcile_pool,
    remote_cash,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SYMBOLS = ("BTC", "ETH", "SOL")
EXACT = Tolerances(price_rel=Decimal(0), balance_abs=Decimal(0))

quantities = st.integers(1, 5_000).map(lambda n: Decimal(n).scaleb(-3))
prices = st.integers(100, 10_000_000).map(lambda n: Decimal(n).scaleb(-2))
sides = st.sampled_from([Side.LONG, Side.SHORT])
cash = st.integers(10**9, 10**11).map(lambda n: Decimal(n).scaleb(-2))
resolutions = st.sampled_from(list(Resolution))
no_flatten = st.sampled_from([Resolution.ADOPT, Resolution.HALT])


@st.composite
def positions(draw: Any, strategy: str | None = None,
              one_way: bool = False) -> tuple[Position, ...]:
    if one_way:  # one side per symbol, as a one-way (netting) account holds
        keys = set(draw(st.dictionaries(st.sampled_from(SYMBOLS), sides, max_size=3)).items())
    else:
        keys = draw(st.sets(st.tuples(st.sampled_from(SYMBOLS), sides), max_size=4))
    return tuple(Position(s, side, draw(quantities), draw(prices), draw(prices),
                          leverage=Decimal(draw(st.integers(1, 20))), strategy=strategy)
                 for s, side in sorted(keys))


@st.composite
def broker_states(draw: Any) -> AccountState:
    # One net position per symbol, as AccountState takes them (books may be hedged).
    held = draw(positions(one_way=True))
    wallet = draw(cash)
    upnl = sum((p.unrealized_pnl for p in held), Decimal(0))
    return AccountState(equity=wallet + upnl, available=wallet, as_of=NOW, unrealized_pnl=upnl,
                        positions=held)


@st.composite
def books(draw: Any) -> Book:
    return Book(draw(positions(strategy=draw(st.sampled_from([None, "trend"])))),
                cash=draw(st.none() | cash))


policies = st.builds(ReconcilePolicy, missing=no_flatten, unknown=resolutions,
                     quantity=resolutions, price=no_flatten, balance=no_flatten,
                     tolerances=st.sampled_from([Tolerances(), EXACT,
                                                 Tolerances(quantity_rel=Decimal("0.01"),
                                                            price_rel=Decimal("0.001"))]))


def summary(held: tuple[Position, ...]) -> dict[tuple[str, Side], tuple[Any, ...]]:
    return {(p.symbol, p.side): (p.quantity, p.entry_price, p.mark_price) for p in held}


@given(books(), broker_states())
def test_after_adopting_the_book_equals_the_broker(book: Book, remote: AccountState) -> None:
    report = reconcile(book, remote, ReconcilePolicy.adopt_all(EXACT), NOW)
    assert summary(report.book.positions) == summary(remote.positions)
    assert report.book.cash == remote_cash(remote)
    assert not report.halt
    assert report.actions == ()
    # Strategy tags and fill ids of the book survive.
    tags = {(p.symbol, p.side): p.strategy for p in book.positions}
    for p in report.book.positions:
        assert p.strategy == tags.get((p.symbol, p.side))
    assert report.book.fill_ids == book.fill_ids


@given(books(), broker_states(), policies)
def test_reconciling_twice_changes_nothing(book: Book, remote: AccountState,
                                           policy: ReconcilePolicy) -> None:
    first = reconcile(book, remote, policy, NOW)
    second = reconcile(first.book, remote, policy, NOW)
    assert second.book == first.book
    assert second.actions == ()
    # What is left is exactly what was halted, and it is still halted.
    halted = [(f.kind, f.symbol, f.side) for f in first.findings
              if f.resolution is Resolution.HALT]
    assert [(f.kind, f.symbol, f.side) for f in second.findings] == halted
    assert second.halt == first.halt
    assert all(f.resolution is Resolution.HALT for f in second.findings)


@given(books(), broker_states(), policies)
def test_flatten_orders_only_close_broker_exposure(book: Book, remote: AccountState,
                                                   policy: ReconcilePolicy) -> None:
    report = reconcile(book, remote, policy, NOW)
    held = {(p.symbol, p.side): p.quantity for p in remote.positions}
    for order in report.actions:
        assert order.reduce_only
        assert 0 < order.quantity <= held[(order.symbol, order.side.opposite)]


RULES = [MarketRules(s, Decimal("0.001"), Decimal("0.01"), max_leverage=Decimal(100))
         for s in SYMBOLS]


class MemoryKV:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    def get_kv(self, key: str) -> dict[str, Any] | None:
        return self.docs.get(key)

    def put_kv(self, key: str, value: dict[str, Any]) -> None:
        self.docs[key] = value


fills = st.lists(st.tuples(st.sampled_from(SYMBOLS), sides, quantities, prices,
                           st.sampled_from(["0", "0.0004", "-0.0001"])),
                 min_size=1, max_size=12)


@given(fills, st.data())
def test_duplicate_fills_are_applied_once(raw: list[tuple[Any, ...]], data: Any) -> None:
    start = Decimal(10**11)
    unique = [(f"id-{i}", *row) for i, row in enumerate(raw)]
    # Deliver some fills again, anywhere later in the stream (a replayed websocket, a retry).
    replays = data.draw(st.lists(st.integers(0, len(unique) - 1), max_size=8))
    stream = list(unique)
    for i in replays:
        stream.insert(data.draw(st.integers(i + 1, len(stream))), unique[i])
    exchange = PaperBroker(MemoryKV(), RULES, starting_cash=start,
                           leverage=dict.fromkeys(SYMBOLS, 100))
    delivered = [exchange.fill(s, side, q, p, fee_rate=r, fill_id=i, now=NOW).fill
                 for i, s, side, q, p, r in stream]
    applied = Book(cash=start).apply_fills(delivered)
    first_seen: dict[str, Any] = {}
    for fill in delivered:
        first_seen.setdefault(fill.fill_id, fill)
    once = Book(cash=start).apply_fills(list(first_seen.values()))
    assert applied == once
    assert len(applied.fill_ids) == len(unique)
    report = reconcile(applied, exchange.account(NOW), ReconcilePolicy.adopt_all(EXACT), NOW)
    assert report.clean


@st.composite
def pools(draw: Any) -> Pool:
    names = draw(st.lists(st.sampled_from(["trend", "meanrev", "carry"]), unique=True,
                          min_size=1, max_size=3))
    accounts = []
    for name in names:
        keys = draw(st.sets(st.sampled_from(SYMBOLS), max_size=3))
        held = tuple(Position(s, draw(sides), draw(quantities), draw(prices))
                     for s in sorted(keys))
        accounts.append(SubAccount(name, draw(cash), held))
    return Pool(tuple(accounts))


@given(pools(), broker_states())
def test_adopted_pool_nets_to_the_broker_and_is_stable(pool: Pool,
                                                       remote: AccountState) -> None:
    report = reconcile_pool(pool, remote, ReconcilePolicy.adopt_all(EXACT), NOW)
    after = report.pool
    for symbol in SYMBOLS:
        theirs = sum((p.quantity * p.side.sign for p in remote.positions if p.symbol == symbol),
                     Decimal(0))
        assert after.net(symbol) == theirs
    assert after.capital == remote_cash(remote)
    # A shortfall never takes more than a sub-account held, nor flips it.
    for a in pool.accounts:
        for p in a.positions:
            now_held = after.account(a.strategy).position(p.symbol)
            if now_held is not None and a.strategy != after.unassigned:
                assert now_held.side is p.side
                assert now_held.quantity <= p.quantity
    again = reconcile_pool(after, remote, ReconcilePolicy.adopt_all(EXACT), NOW)
    assert again.clean
    assert again.pool == after


@given(st.dictionaries(st.sampled_from("abcdef"), st.integers(1, 10_000), min_size=1),
       st.data(), st.integers(0, 4))
def test_largest_remainder_is_exact_and_capped(weights: dict[str, int], data: Any,
                                               scale: int) -> None:
    unit = Decimal(1).scaleb(-scale)
    w = {k: Decimal(v) * unit for k, v in weights.items()}
    total = Decimal(data.draw(st.integers(0, sum(weights.values())))) * unit
    shares = largest_remainder(total, w, unit)
    assert sum(shares.values()) == total
    whole = sum(w.values())
    for k, share in shares.items():
        assert 0 <= share <= w[k]
        assert share % unit == 0
        assert abs(share - total * w[k] / whole) < unit
