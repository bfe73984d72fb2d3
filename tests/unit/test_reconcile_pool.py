"""Virtual sub-accounts reconciled as a pool: allocation of drift per sub-account."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from riskdesk.brokers import Fill
from riskdesk.domain import AccountState, Position, Side
from riskdesk.errors import InvalidInputError
from riskdesk.reconcile import (
    UNASSIGNED,
    FindingKind,
    Pool,
    ReconcilePolicy,
    Resolution,
    SubAccount,
    Tolerances,
    largest_remainder,
    reconcile_pool,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
D = Decimal


def pos(symbol: str, side: Side, qty: str, entry: str) -> Position:
    return Position(symbol, side, D(qty), D(entry))


def broker(*positions: Position, cash: str = "10000") -> AccountState:
    return AccountState(equity=D(cash), available=D(cash), as_of=NOW, positions=positions)


def pool(unassigned_btc: str | None = None) -> Pool:
    accounts = [SubAccount("trend", D(6000), (pos("BTC", Side.LONG, "1.0", "60000"),)),
                SubAccount("meanrev", D(4000), (pos("BTC", Side.LONG, "0.5", "62000"),))]
    if unassigned_btc:
        accounts.append(SubAccount(UNASSIGNED, D(0),
                                   (pos("BTC", Side.LONG, unassigned_btc, "61000"),)))
    return Pool(tuple(accounts))


def qty(p: Pool, strategy: str, symbol: str = "BTC") -> Decimal:
    held = p.account(strategy).position(symbol)
    return D(0) if held is None else held.quantity * held.side.sign


ADOPT = ReconcilePolicy.adopt_all()


def test_matching_pool_is_clean() -> None:
    report = reconcile_pool(pool(), broker(pos("BTC", Side.LONG, "1.5", "60666.67")), ADOPT, NOW)
    assert report.clean
    assert [a.strategy for a in report.pool.accounts] == ["meanrev", "trend", UNASSIGNED]


def test_shortfall_is_shared_pro_rata_to_quantity() -> None:
    report = reconcile_pool(pool(), broker(pos("BTC", Side.LONG, "1.2", "60666.67")), ADOPT,
                            NOW)
    assert (qty(report.pool, "trend"), qty(report.pool, "meanrev")) == (D("0.8"), D("0.4"))
    by = {f.strategy: f for f in report.findings if f.kind is FindingKind.QUANTITY_DRIFT}
    assert (by["trend"].local, by["trend"].remote) == (D("1.0"), D("0.8"))
    assert by["meanrev"].drift == D("-0.1")


def test_shortfall_comes_out_of_the_unassigned_bucket_first() -> None:
    report = reconcile_pool(pool("0.1"), broker(pos("BTC", Side.LONG, "1.3", "60666.67")),
                            ADOPT, NOW)
    # 0.3 short: 0.1 from unassigned, then 0.2 split 1.0 : 0.5 on a 0.1 grid
    # (exact 0.133 / 0.067 -> floors 0.1 / 0.0, the leftover 0.1 to the larger remainder).
    assert qty(report.pool, UNASSIGNED) == 0
    assert (qty(report.pool, "trend"), qty(report.pool, "meanrev")) == (D("0.9"), D("0.4"))
    assert report.pool.net("BTC") == D("1.3")


def test_liquidation_empties_every_sub_account() -> None:
    report = reconcile_pool(pool(), broker(cash="9000"), ADOPT, NOW)
    assert report.pool.net("BTC") == 0
    kinds = {(f.kind, f.strategy) for f in report.findings}
    assert (FindingKind.MISSING_POSITION, "trend") in kinds
    assert (FindingKind.MISSING_POSITION, "meanrev") in kinds
    assert report.pool.capital == D(9000)


@pytest.mark.parametrize(("resolution", "n_actions"), [(Resolution.ADOPT, 0),
                                                       (Resolution.FLATTEN, 1)])
def test_excess_goes_to_unassigned(resolution: Resolution, n_actions: int) -> None:
    # Entry checks off: the excess is booked at the broker's entry price.
    policy = ReconcilePolicy(quantity=resolution, tolerances=Tolerances(price_rel=None))
    report = reconcile_pool(pool(), broker(pos("BTC", Side.LONG, "1.8", "61000")), policy, NOW)
    assert (qty(report.pool, "trend"), qty(report.pool, "meanrev")) == (D("1.0"), D("0.5"))
    bucket = report.pool.account(UNASSIGNED).position("BTC")
    assert bucket is not None
    assert (bucket.quantity, bucket.entry_price) == (D("0.3"), D(61000))
    assert len(report.actions) == n_actions
    if report.actions:
        assert (report.actions[0].side, report.actions[0].quantity) == (Side.SHORT, D("0.3"))


def test_halt_leaves_the_pool_alone() -> None:
    policy = ReconcilePolicy(quantity=Resolution.HALT, price=Resolution.HALT)
    before = pool()
    report = reconcile_pool(before, broker(pos("BTC", Side.LONG, "1.2", "60666.67")), policy,
                            NOW)
    assert report.halt
    (finding,) = report.findings
    assert (finding.strategy, finding.local, finding.remote) == (None, D("1.5"), D("1.2"))
    assert report.pool.net("BTC") == D("1.5")


def test_opposing_strategies_net_and_only_the_net_direction_gives_up() -> None:
    p = Pool((SubAccount("long", D(5000), (pos("ETH", Side.LONG, "1", "3000"),)),
              SubAccount("short", D(5000), (pos("ETH", Side.SHORT, "0.4", "3100"),))))
    clean = reconcile_pool(p, broker(pos("ETH", Side.LONG, "0.6", "3000")),
                           ReconcilePolicy.adopt_all(), NOW)
    assert not [f for f in clean.findings if f.kind is FindingKind.QUANTITY_DRIFT]
    cut = reconcile_pool(p, broker(pos("ETH", Side.LONG, "0.3", "3000")), ADOPT, NOW)
    assert (qty(cut.pool, "long", "ETH"), qty(cut.pool, "short", "ETH")) == (D("0.7"),
                                                                          D("-0.4"))


def test_side_flip_on_the_broker() -> None:
    report = reconcile_pool(pool(), broker(pos("BTC", Side.SHORT, "0.2", "59000")), ADOPT, NOW)
    assert (qty(report.pool, "trend"), qty(report.pool, "meanrev")) == (0, 0)
    assert qty(report.pool, UNASSIGNED) == D("-0.2")
    assert {f.kind for f in report.findings} >= {FindingKind.MISSING_POSITION,
                                                FindingKind.UNKNOWN_POSITION}


def test_entry_drift_shifts_every_sub_account_equally() -> None:
    report = reconcile_pool(pool(), broker(pos("BTC", Side.LONG, "1.5", "60700")), ADOPT, NOW)
    (finding,) = report.findings
    assert finding.kind is FindingKind.PRICE_DRIFT
    trend = report.pool.account("trend").position("BTC")
    meanrev = report.pool.account("meanrev").position("BTC")
    assert trend is not None
    assert meanrev is not None
    assert meanrev.entry_price - trend.entry_price == D(2000)
    avg = (trend.quantity * trend.entry_price + meanrev.quantity * meanrev.entry_price) / D("1.5")
    assert abs(avg - D(60700)) < D("1e-20")
    again = reconcile_pool(report.pool, broker(pos("BTC", Side.LONG, "1.5", "60700")), ADOPT,
                           NOW)
    assert again.clean


def test_balance_drift_is_shared_pro_rata_to_capital() -> None:
    report = reconcile_pool(pool(), broker(pos("BTC", Side.LONG, "1.5", "60666.67"),
                                           cash="9990"), ADOPT, NOW)
    assert (report.pool.account("trend").capital, report.pool.account("meanrev").capital) == (
        D(5994), D(3996))
    assert report.pool.capital == D(9990)
    drifts = {f.strategy: f.drift for f in report.findings}
    assert drifts == {"meanrev": D(-4), "trend": D(-6)}


def test_balance_drift_without_capital_goes_to_unassigned() -> None:
    p = Pool((SubAccount("a", D(0)),))
    report = reconcile_pool(p, broker(cash="123.45"), ADOPT, NOW)
    assert report.pool.account(UNASSIGNED).capital == D("123.45")


def test_fills_are_booked_to_their_strategy_once() -> None:
    p = pool()
    add = Fill("t-7", "BTC", Side.LONG, D("0.5"), D(64000), NOW, D(3), "trend")
    close = Fill("m-2", "BTC", Side.SHORT, D("0.5"), D(63000), NOW, D(2), "meanrev")
    after = p.apply_fills([add, close, add, close])
    assert qty(after, "trend") == D("1.5")
    trend = after.account("trend").position("BTC")
    assert trend is not None
    assert trend.entry_price == (D(60000) + D("0.5") * 64000) / D("1.5")
    assert qty(after, "meanrev") == 0
    assert after.account("meanrev").capital == D(4000) + D(500) - D(2)
    assert after.account("trend").capital == D(6000) - D(3)
    orphan = Fill("o-1", "BTC", Side.LONG, D("0.1"), D(60000), NOW)
    assert qty(after.apply_fill(orphan), UNASSIGNED) == D("0.1")
    with pytest.raises(InvalidInputError, match="strategy"):
        p.apply_fill(Fill("x", "BTC", Side.LONG, D(1), D(1), NOW, strategy="ghost"))


def test_pool_validation_and_round_trip() -> None:
    with pytest.raises(InvalidInputError, match="used once"):
        Pool((SubAccount("a", D(1)), SubAccount("a", D(2))))
    with pytest.raises(InvalidInputError, match="strategy"):
        SubAccount("a", D(1), (Position("BTC", Side.LONG, D(1), D(1), strategy="b"),))
    with pytest.raises(InvalidInputError, match="one position per symbol"):
        SubAccount("a", D(1), (pos("BTC", Side.LONG, "1", "1"), pos("BTC", Side.SHORT, "1", "1")))
    p = pool("0.1").apply_fill(Fill("f", "ETH", Side.SHORT, D(2), D(3000), NOW, strategy="trend"))
    doc = json.loads(json.dumps(p.to_dict()))
    assert Pool.from_dict(doc) == p


@pytest.mark.parametrize(("total", "weights", "unit", "expected"), [
    ("2", {"a": "1", "b": "1", "c": "1"}, "1", {"a": "1", "b": "1", "c": "0"}),
    ("1", {"a": "1", "b": "1"}, "1", {"a": "1", "b": "0"}),
    ("1", {"a": "1", "b": "3"}, "1", {"a": "0", "b": "1"}),
    ("0.3", {"a": "1.0", "b": "0.5"}, "0.1", {"a": "0.2", "b": "0.1"}),
    ("10", {"x": "6000", "y": "4000"}, "1", {"x": "6", "y": "4"}),
    ("0.02", {"x": "1", "y": "1", "z": "1"}, "0.01", {"x": "0.01", "y": "0.01", "z": "0.00"}),
])
def test_largest_remainder_table(total: str, weights: dict[str, str], unit: str,
                                 expected: dict[str, str]) -> None:
    shares = largest_remainder(D(total), {k: D(v) for k, v in weights.items()}, D(unit))
    assert shares == {k: D(v) for k, v in expected.items()}
    assert sum(shares.values()) == D(total)
