"""``Store.last_plan_at``: the latest plan decision that sent an order (the last rebalance)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from store_support import T0, Clock, account, decision, market

from riskdesk.domain import Action, Decision, Side, Signal
from riskdesk.store import Store


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url, clock=Clock(T0 + timedelta(hours=1)), migrate=True)
    yield s
    s.close()


def _journal(store: Store, d: Decision, strategy: str | None) -> None:
    store.journal_decision(d, signal=Signal(d.symbol, Side.LONG, strategy=strategy),
                           account=account(), market=market(), config_name="default")


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _refused(at: datetime, action: Action = Action.REJECT,
             quantity: Decimal = Decimal(0)) -> Decision:
    return replace(decision(1, decided_at=at), action=action, quantity=quantity,
                   notional=Decimal(0), margin_required=Decimal(0))


def test_none_until_a_plan_sends_an_order(store: Store) -> None:
    assert store.last_plan_at() is None
    # A recommendation, unlabelled or under another strategy, is not a rebalance.
    _journal(store, decision(1, decided_at=_at(1)), "momentum")
    _journal(store, decision(2, decided_at=_at(2)), None)
    _journal(store, decision(3, decided_at=_at(3)), "planner")
    # A plan whose lines were refused or held moved nothing.
    _journal(store, _refused(_at(4)), "plan")
    _journal(store, _refused(_at(5), Action.HOLD), "plan")
    # CAUTION without a size sends nothing either; "0E-8" is zero (SQLite keeps the text).
    _journal(store, _refused(_at(6), Action.CAUTION, Decimal("0E-8")), "plan")
    assert store.last_plan_at() is None


def test_the_latest_approved_plan_decision_dates_the_rebalance(store: Store) -> None:
    _journal(store, decision(1, decided_at=_at(10)), "plan")
    assert store.last_plan_at() == _at(10)
    # Journaled later but decided earlier: the decision time counts, not the row order.
    _journal(store, decision(2, decided_at=_at(5)), "plan")
    assert store.last_plan_at() == _at(10)
    # A later refused plan, and a later order that is no plan, leave it where it is.
    _journal(store, _refused(_at(20)), "plan")
    _journal(store, decision(3, decided_at=_at(30)), "momentum")
    assert store.last_plan_at() == _at(10)
    # Every approving action counts, whatever the size.
    _journal(store, replace(decision(4, decided_at=_at(40)), action=Action.CAUTION,
                            quantity=Decimal("0.001")), "plan")
    assert store.last_plan_at() == _at(40)
    _journal(store, replace(decision(5, decided_at=_at(50)),
                            action=Action.ENTER_AND_CLOSE_WORST), "plan")
    assert store.last_plan_at() == _at(50)


def test_the_time_comes_back_aware_utc_to_the_microsecond(store: Store) -> None:
    east = timezone(timedelta(hours=5, minutes=30))
    at = datetime(2026, 1, 5, 20, 0, 1, 123456, tzinfo=east)
    _journal(store, decision(1, decided_at=at), "plan")
    found = store.last_plan_at()
    assert found == at
    assert found is not None
    assert found.utcoffset() == timedelta(0)


def test_the_journal_has_the_index_the_query_reads(store: Store) -> None:
    with store.engine.connect() as conn:
        indexes = {ix["name"]: ix["column_names"]
                   for ix in sa.inspect(conn).get_indexes("decisions")}
    assert indexes["ix_decisions_strategy_decided_at"] == ["strategy", "decided_at"]
