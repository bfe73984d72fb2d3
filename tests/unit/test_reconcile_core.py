"""reconcile(): findings, resolutions, tolerances, freshness, the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from riskdesk.brokers import Fill
from riskdesk.domain import AccountState, Position, Side
from riskdesk.errors import InvalidInputError, StaleStateError, StateError
from riskdesk.reconcile import (
    Book,
    CloseOrder,
    FindingKind,
    ReconcilePolicy,
    Resolution,
    Tolerances,
    reconcile,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
A, F, H = Resolution.ADOPT, Resolution.FLATTEN, Resolution.HALT


def pos(symbol: str, side: str, qty: str, entry: str, mark: str | None = None,
        **kw: Any) -> Position:
    return Position(symbol, Side.parse(side), Decimal(qty), Decimal(entry),
                    None if mark is None else Decimal(mark), **kw)


def remote(*positions: Position, cash: str = "10000", as_of: datetime | None = NOW) -> AccountState:
    upnl = sum((p.unrealized_pnl for p in positions), Decimal(0))
    return AccountState(equity=Decimal(cash) + upnl, available=Decimal(cash), as_of=as_of,
                        unrealized_pnl=upnl, positions=positions)


BTC_L = pos("BTC", "LONG", "0.05", "60000", "61000", leverage=Decimal(20))
ETH_S = pos("ETH", "SHORT", "0.5", "3000", "2950", leverage=Decimal(10))


def test_identical_book_is_clean_and_takes_the_broker_marks() -> None:
    mine = Book((pos("BTC", "LONG", "0.05", "60000", strategy="trend"),), cash=Decimal(10000))
    report = reconcile(mine, remote(BTC_L), ReconcilePolicy(), NOW)
    assert report.clean
    assert not report.halt
    assert report.actions == ()
    (kept,) = report.book.positions
    assert (kept.mark_price, kept.leverage, kept.strategy) == (Decimal(61000), 20, "trend")


@pytest.mark.parametrize(("missing", "kept", "halt"), [(A, False, False), (H, True, True)])
def test_position_closed_on_the_exchange(missing: Resolution, kept: bool, halt: bool) -> None:
    report = reconcile(Book((BTC_L, ETH_S)), remote(ETH_S),
                       ReconcilePolicy(missing=missing), NOW)
    (finding,) = report.findings
    assert finding.kind is FindingKind.MISSING_POSITION
    assert (finding.symbol, finding.local, finding.remote) == ("BTC", Decimal("0.05"), None)
    assert finding.drift == Decimal("-0.05")
    assert "liquidation" in finding.note
    assert (report.book.position("BTC", Side.LONG) is not None) == kept
    assert report.halt == halt


@pytest.mark.parametrize(("unknown", "in_book", "n_actions", "halt"), [
    (A, True, 0, False), (F, True, 1, False), (H, False, 0, True)])
def test_unknown_position(unknown: Resolution, in_book: bool, n_actions: int,
                          halt: bool) -> None:
    report = reconcile(Book((BTC_L,)), remote(BTC_L, ETH_S),
                       ReconcilePolicy(unknown=unknown), NOW)
    (finding,) = report.findings
    assert finding.kind is FindingKind.UNKNOWN_POSITION
    assert (report.book.position("ETH", Side.SHORT) is not None) == in_book
    assert len(report.actions) == n_actions
    assert report.halt == halt
    if report.actions:
        (close,) = report.actions
        assert (close.symbol, close.side, close.quantity, close.reduce_only) == (
            "ETH", Side.LONG, Decimal("0.5"), True)


def test_close_order_id_is_deterministic() -> None:
    policy = ReconcilePolicy(unknown=F)
    first = reconcile(Book(), remote(ETH_S), policy, NOW).actions
    later = reconcile(Book(), remote(ETH_S), policy, NOW + timedelta(seconds=30)).actions
    assert first == later
    assert first[0].client_order_id.startswith("rdflat-")
    assert len(first[0].client_order_id) <= 36  # Binance's limit for client ids
    other = CloseOrder.closing(pos("ETH", "SHORT", "0.6", "3000"), Decimal("0.6"),
                               FindingKind.UNKNOWN_POSITION)
    assert other.client_order_id != first[0].client_order_id


@pytest.mark.parametrize(("local_qty", "remote_qty", "resolution", "book_qty", "close_qty"), [
    ("0.05", "0.08", A, "0.08", None),
    ("0.05", "0.08", F, "0.08", "0.03"),
    ("0.05", "0.02", F, "0.02", None),   # a shortfall has nothing to flatten
    ("0.05", "0.08", H, "0.05", None),
])
def test_quantity_drift(local_qty: str, remote_qty: str, resolution: Resolution, book_qty: str,
                        close_qty: str | None) -> None:
    report = reconcile(Book((pos("BTC", "LONG", local_qty, "60000"),)),
                       remote(pos("BTC", "LONG", remote_qty, "60000")),
                       ReconcilePolicy(quantity=resolution), NOW)
    (finding,) = report.findings
    assert finding.kind is FindingKind.QUANTITY_DRIFT
    assert finding.resolution is resolution
    assert report.book.positions[0].quantity == Decimal(book_qty)
    assert [a.quantity for a in report.actions] == ([] if close_qty is None
                                                     else [Decimal(close_qty)])
    assert all(a.side is Side.SHORT for a in report.actions)


@pytest.mark.parametrize(("tol", "remote_qty", "drifts"), [
    (Tolerances(), "1.000", False),
    (Tolerances(), "1.001", True),
    (Tolerances(quantity_abs=Decimal("0.001")), "1.001", False),
    (Tolerances(quantity_rel=Decimal("0.01")), "1.010", False),
    (Tolerances(quantity_rel=Decimal("0.01")), "1.011", True),
])
def test_quantity_tolerances(tol: Tolerances, remote_qty: str, drifts: bool) -> None:
    report = reconcile(Book((pos("SOL", "LONG", "1.000", "150"),)),
                       remote(pos("SOL", "LONG", remote_qty, "150")),
                       ReconcilePolicy(tolerances=tol), NOW)
    assert (not report.clean) == drifts


@pytest.mark.parametrize(("tol", "remote_entry", "drifts"), [
    (Tolerances(), "60005", False),            # 0.83 bp < 1 bp
    (Tolerances(), "60010", True),             # 1.67 bp
    (Tolerances(price_rel=None), "65000", False),
    (Tolerances(price_rel=Decimal("0.001")), "60050", False),
])
def test_entry_price_drift(tol: Tolerances, remote_entry: str, drifts: bool) -> None:
    report = reconcile(Book((pos("BTC", "LONG", "1", "60000"),)),
                       remote(pos("BTC", "LONG", "1", remote_entry)),
                       ReconcilePolicy(tolerances=tol), NOW)
    assert (not report.clean) == drifts
    if drifts:
        assert report.findings[0].kind is FindingKind.PRICE_DRIFT
        assert report.book.positions[0].entry_price == Decimal(remote_entry)


def test_side_flip_is_a_missing_and_an_unknown_position() -> None:
    report = reconcile(Book((pos("BTC", "LONG", "1", "60000"),)),
                       remote(pos("BTC", "SHORT", "1", "61000")), ReconcilePolicy.adopt_all(),
                       NOW)
    assert [f.kind for f in report.findings] == [FindingKind.MISSING_POSITION,
                                                 FindingKind.UNKNOWN_POSITION]
    assert [p.side for p in report.book.positions] == [Side.SHORT]


@pytest.mark.parametrize(("cash", "balance", "expect_cash", "n", "halt"), [
    ("10000", A, "10000", 0, False),
    ("10005", A, "10000", 1, False),
    ("10005", H, "10005", 1, True),
    ("10000.005", A, "10000.005", 0, False),  # within the default cent
])
def test_balance_drift(cash: str, balance: Resolution, expect_cash: str, n: int,
                       halt: bool) -> None:
    report = reconcile(Book((BTC_L,), cash=Decimal(cash)), remote(BTC_L),
                       ReconcilePolicy(balance=balance), NOW)
    assert report.book.cash == Decimal(expect_cash)
    assert len(report.findings) == n
    assert report.halt == halt


def test_untracked_cash_is_taken_from_the_broker() -> None:
    report = reconcile(Book(), remote(cash="2500"), ReconcilePolicy(), NOW)
    assert report.clean
    assert report.book.cash == Decimal(2500)


def test_stale_or_untimed_broker_state_is_refused() -> None:
    old = remote(BTC_L, as_of=NOW - timedelta(minutes=5))
    with pytest.raises(StaleStateError):
        reconcile(Book(), old, ReconcilePolicy(), NOW)
    with pytest.raises(StateError):
        reconcile(Book(), remote(as_of=None), ReconcilePolicy(), NOW)
    assert reconcile(Book(), old, ReconcilePolicy.adopt_all(max_age=None), NOW).book.positions


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"missing": "FLATTEN"}, "policy.missing"),
    ({"price": F}, "policy.price"),
    ({"balance": "flatten"}, "policy.balance"),
    ({"unknown": "IGNORE"}, "policy.unknown"),
    ({"max_age": timedelta(0)}, "policy.max_age"),
])
def test_policy_validation(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        ReconcilePolicy(**kwargs)
    assert info.value.field == field


def test_policy_accepts_names() -> None:
    assert ReconcilePolicy(unknown="flatten").unknown is F  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    twin = (BTC_L, pos("BTC", "LONG", "1", "1"))
    with pytest.raises(InvalidInputError, match="one position per symbol and side"):
        Book(twin)
    with pytest.raises(InvalidInputError, match="one net position per symbol"):
        remote(*twin)
    with pytest.raises(InvalidInputError, match="now"):
        reconcile(Book(), remote(), ReconcilePolicy(), datetime(2024, 6, 1))
    with pytest.raises(InvalidInputError, match="local"):
        reconcile([BTC_L], remote(), ReconcilePolicy(), NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"tolerances\.price_rel"):
        Tolerances(price_rel=Decimal(-1))


def test_report_serializes_to_json_and_book_round_trips() -> None:
    mine = Book((BTC_L,), cash=Decimal("9990.5"), fill_ids=frozenset({"a", "b"}))
    report = reconcile(mine, remote(BTC_L, ETH_S), ReconcilePolicy(unknown=F), NOW,
                       account_id="binance-main")
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["account_id"] == "binance-main"
    assert doc["kind"] == "reconciliation"
    assert [f["kind"] for f in doc["findings"]] == ["UNKNOWN_POSITION", "BALANCE_DRIFT"]
    assert doc["actions"][0]["side"] == "BUY"
    assert doc["book"]["fill_ids"] == ["a", "b"]
    assert Book.from_dict(doc["book"]) == report.book


def test_book_from_bad_document_names_the_field() -> None:
    with pytest.raises(InvalidInputError) as info:
        Book.from_dict({"positions": [{"symbol": "BTC", "side": "LONG", "quantity": "x",
                                       "entry_price": "1"}]})
    assert info.value.field == "book.positions[0].quantity"


def test_book_applies_each_fill_once_and_tracks_cash() -> None:
    buy = Fill("f1", "BTC", Side.LONG, Decimal("0.1"), Decimal(60000), NOW, Decimal(6))
    sell = Fill("f2", "BTC", Side.SHORT, Decimal("0.1"), Decimal(61000), NOW, Decimal("6.1"))
    book = Book(cash=Decimal(1000)).apply_fills([buy, buy, sell, buy, sell])
    assert book.positions == ()
    assert book.cash == Decimal(1000) + Decimal(100) - Decimal("12.1")
    assert book.fill_ids == {"f1", "f2"}
    hedged = Book((pos("BTC", "LONG", "1", "1"), pos("BTC", "SHORT", "1", "1")))
    with pytest.raises(InvalidInputError, match="hedged"):
        hedged.apply_fill(buy)
