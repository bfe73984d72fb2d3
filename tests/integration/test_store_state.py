from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from store_support import T0

from riskdesk.errors import ConflictError, InvalidInputError
from riskdesk.store import Store
from riskdesk.store import _tables as t

HALTED = {"trading_state": "HALTED", "breaker": {"tripped": True, "until": "2026-01-06T00:00:00Z",
                                                 "reason": "DAILY_LOSS_LIMIT"},
          "trades_today": 4}


def test_desk_state_survives_a_restart(db_url: str) -> None:
    with Store.open(db_url, migrate=True) as store:
        assert store.load_desk_state() is None
        assert store.save_desk_state({"trading_state": "ACTIVE"}, at=T0) == 1
        assert store.save_desk_state(HALTED, at=T0 + timedelta(minutes=5), operator="breaker",
                                     note="daily loss 3.1% > 3%") == 2
    with Store.open(db_url) as store:
        assert store.load_desk_state() == HALTED
        record = store.desk_state_record()
        assert record is not None
        assert record["version"] == 2
        assert record["updated_at"] == T0 + timedelta(minutes=5)
        events = store.trading_state_events()
    assert [(e["version"], e["trading_state"], e["operator"]) for e in events] == [
        (2, "HALTED", "breaker"), (1, "ACTIVE", None)]
    assert events[0]["note"] == "daily loss 3.1% > 3%"
    assert events[0]["state"] == HALTED


def test_optimistic_version_check(store: Store) -> None:
    assert store.save_desk_state({"trading_state": "ACTIVE"}, at=T0, expected_version=0) == 1
    with pytest.raises(ConflictError, match="version 1"):
        store.save_desk_state({"trading_state": "HALTED"}, at=T0, expected_version=0)
    assert store.load_desk_state() == {"trading_state": "ACTIVE"}
    assert len(store.trading_state_events()) == 1
    assert store.save_desk_state({"trading_state": "REDUCING"}, at=T0, expected_version=1) == 2


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"state": {"equity": float("nan")}}, "state.equity"),
    ({"state": ["ACTIVE"]}, "state"),
    ({"state": {1: "x"}}, "state"),
    ({"state": {"trading_state": "X" * 17}}, "state.trading_state"),
    ({"at": T0.replace(tzinfo=None)}, "at"),
    ({"expected_version": -1}, "expected_version"),
    ({"operator": ""}, "operator"),
])
def test_bad_desk_state_writes_nothing(sqlite_store: Store, kwargs: dict[str, Any],
                                       field: str) -> None:
    args: dict[str, Any] = {"state": {"trading_state": "ACTIVE"}, "at": T0}
    args.update(kwargs)
    state = args.pop("state")
    with pytest.raises(InvalidInputError) as info:
        sqlite_store.save_desk_state(state, **args)
    assert info.value.field == field
    assert sqlite_store.load_desk_state() is None
    assert sqlite_store.trading_state_events() == []


def test_kv_round_trip_and_replace(store: Store) -> None:
    assert store.get_kv("paper:acct") is None
    store.put_kv("paper:acct", {"cash": Decimal("1000.50"), "positions": [{"qty": "0.1"}],
                                "as_of": T0})
    assert store.get_kv("paper:acct") == {"cash": "1000.50", "positions": [{"qty": "0.1"}],
                                          "as_of": T0.isoformat()}
    store.put_kv("paper:acct", {"cash": "900"})
    assert store.get_kv("paper:acct") == {"cash": "900"}
    assert store.delete_kv("paper:acct") is True
    assert store.delete_kv("paper:acct") is False
    with pytest.raises(InvalidInputError):
        store.put_kv("bad", {"x": Decimal("NaN")})
    with pytest.raises(InvalidInputError):
        store.put_kv("", {"x": 1})
    assert store.get_kv("bad") is None


def test_reconciliation_reports(store: Store) -> None:
    first = store.save_reconciliation({"account_id": "main", "findings": [],
                                       "balance_drift": Decimal("0.00")})
    second = store.save_reconciliation({"account_id": "sub-1", "findings": [
        {"kind": "MISSING_POSITION", "symbol": "ETHUSDT", "policy": "adopt"}]})
    assert second > first
    reports = store.reconciliations(10)
    assert [r["id"] for r in reports] == [second, first]
    assert reports[1]["report"]["balance_drift"] == "0.00"
    assert reports[0]["recorded_at"] == T0
    assert [r["id"] for r in store.reconciliations(10, account_id="main")] == [first]
    with pytest.raises(InvalidInputError):
        store.save_reconciliation({"drift": float("inf")})
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count())
                            .select_from(t.reconciliations)).scalar() == 2
