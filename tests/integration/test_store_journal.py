from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from store_support import T0, Clock, account, decision, expected_row, journal_one, market, signal

from riskdesk.domain import Action, Adjustment, Intent, ReasonCode, Side
from riskdesk.errors import InvalidInputError
from riskdesk.store import Store
from riskdesk.store import _tables as t


@pytest.fixture
def store(db_url: str) -> Any:
    s = Store.open(db_url, clock=Clock(T0 + timedelta(hours=1)), migrate=True)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Any:
    s = Store.open(sqlite_url, clock=Clock(T0 + timedelta(hours=1)), migrate=True)
    yield s
    s.close()


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.decisions)).scalar_one())


def test_round_trip_keeps_every_number_and_the_attribution(store: Store) -> None:
    row_id = journal_one(store, 3)
    row = store.journal_entry(row_id)
    for key, value in expected_row(3).items():
        assert row[key] == value, key
    assert str(row["price"]) == "43210.123456789"
    assert row["binding_cap"] == "CAP_MAX_POSITION_DOLLAR"
    assert row["action"] == "ENTER"
    assert row["config_name"] == "equity-conviction"
    assert row["recorded_at"] == T0 + timedelta(hours=1)
    assert row["decided_at"].utcoffset() == timedelta(0)
    # Seed 003's attribution context.
    assert row["context"]["account_equity_at_entry"] == Decimal("55000")
    assert row["context"]["position_size_usd"] == row["notional"]
    assert row["context"]["strategy"] == "momentum"
    assert row["context"]["score"] == pytest.approx(4.3)
    inputs = row["inputs"]
    assert inputs["account"]["equity"] == "55000"
    assert inputs["account"]["positions"][0]["side"] == "SHORT"
    assert inputs["market"]["rules"]["tick"] == "1E-9"
    assert inputs["signal"]["strategy"] == "momentum"


def test_reject_without_state_is_journaled(store: Store) -> None:
    d = replace(decision(1), action=Action.REJECT, quantity=Decimal(0), notional=Decimal(0),
                margin_required=Decimal(0), trail=(), binding_cap=None,
                reasons=(ReasonCode.STATE_MISSING,), decided_at=None)
    row_id = store.journal_decision(d, signal=signal(), account=None, market=None,
                                    config_name="default")
    row = store.journal_entry(row_id)
    assert row["account_equity_at_entry"] is None
    assert row["reasons"] == ["STATE_MISSING"]
    assert row["decided_at"] == T0 + timedelta(hours=1)  # the store's clock
    assert row["inputs"]["account"] is None


def test_query_filters_and_order(store: Store) -> None:
    ids = [journal_one(store, i) for i in range(5)]
    eth = store.journal_decision(decision(9, symbol="ETHUSDT"), signal=signal(9, "ETHUSDT"),
                                 account=account(), market=market(symbol="ETHUSDT"),
                                 config_name="default")
    assert [r["id"] for r in store.journal(limit=3)] == [eth, ids[4], ids[3]]
    assert [r["id"] for r in store.journal(symbol="ETHUSDT")] == [eth]
    since = store.journal(since=T0 + timedelta(seconds=3), symbol="BTCUSDT")
    assert [r["id"] for r in since] == [ids[4], ids[3]]


def test_export_jsonl(store: Store) -> None:
    ids = [journal_one(store, i) for i in range(7)]
    buf = io.StringIO()
    assert store.export_journal_jsonl(buf, batch=3) == 7
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert [x["id"] for x in lines] == ids
    assert lines[2]["price"] == "43210.123456789"
    assert lines[2]["context"]["account_equity_at_entry"] == "55000"
    assert lines[2]["trail"][0]["code"] == "CONVICTION"
    buf = io.StringIO()
    assert store.export_journal_jsonl(buf, since=T0 + timedelta(seconds=2),
                                      until=T0 + timedelta(seconds=4)) == 2


def _nan_trail() -> Any:
    return replace(decision(), trail=(Adjustment("cap", ReasonCode.CAP_SYMBOL, float("nan"),
                                                 1.0),))


@pytest.mark.parametrize(("make", "field"), [
    (lambda: replace(decision(), notional=Decimal("NaN")), "decision.notional"),
    (lambda: replace(decision(), quantity=Decimal("-1")), "decision.quantity"),
    (lambda: replace(decision(), price=Decimal("Infinity")), "decision.price"),
    (lambda: replace(decision(), risk_pct=float("inf")), "decision.risk_pct"),
    (lambda: replace(decision(), leverage=Decimal(0)), "decision.leverage"),
    (lambda: replace(decision(), decided_at=T0.replace(tzinfo=None)), "decision.decided_at"),
    (_nan_trail, "decision.trail[0].before"),
    (lambda: {"action": "ENTER"}, "decision"),
])
def test_bad_decision_writes_nothing(sqlite_store: Store, make: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        sqlite_store.journal_decision(make(), signal=signal(), account=account(),
                                      market=market(), config_name="default")
    assert info.value.field == field
    assert _count(sqlite_store) == 0


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"config_name": ""}, "config_name"),
    ({"signal": None}, "signal"),
    ({"account": {"equity": 1}}, "account"),
    ({"request_id": "x" * 201}, "request_id"),
])
def test_bad_journal_arguments_write_nothing(sqlite_store: Store, kwargs: dict[str, Any],
                                             field: str) -> None:
    args: dict[str, Any] = {"signal": signal(), "account": account(), "market": market(),
                            "config_name": "default"}
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        sqlite_store.journal_decision(decision(), **args)
    assert info.value.field == field
    assert _count(sqlite_store) == 0


def test_unknown_journal_id(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="journal_id"):
        store.journal_entry(12345)


def test_reduce_decision_sides(store: Store) -> None:
    d = replace(decision(2), side=Side.SHORT, intent=Intent.REDUCE)
    row = store.journal_entry(store.journal_decision(
        d, signal=signal(), account=account(), market=market(), config_name="default"))
    assert (row["side"], row["intent"]) == ("SHORT", "REDUCE")


def test_nan_writes_nothing_on_either_database(store: Store) -> None:
    with pytest.raises(InvalidInputError, match=r"decision\.notional"):
        store.journal_decision(replace(decision(), notional=Decimal("NaN")), signal=signal(),
                               account=account(), market=market(), config_name="default")
    assert _count(store) == 0
