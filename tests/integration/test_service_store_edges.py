"""Edges of the state layer and the service a bot calls.

Reservations confirmed or released with a body, a service built with an unusable reservation
lifetime, the trading state's gauge after a restart, capital figures from a stale broker
account, journal trails and stored text the databases cannot hold, and the trading state's
rule that reducers always pass (through the recommendation and the plan).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from store_support import decision as journal_decision_of
from store_support import market as store_market
from store_support import signal as store_signal

from riskdesk.api import create_app
from riskdesk.config import RiskConfig
from riskdesk.demo import PAPER_BOOK, equity_rules, paper_service
from riskdesk.domain import AccountState, Adjustment, ReasonCode, TradingState
from riskdesk.errors import ConfigError, InvalidInputError, StaleStateError
from riskdesk.service import Service
from riskdesk.store import Store

D = Decimal
START = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)  # a Monday
PRICES = {"AAPL": D("430.47"), "MSFT": D("27.95")}
OPENER = {"symbol": "AAPL", "signal_score": 75}
RECOMMEND = "/api/capital/recommendation/position"


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _service(url: str, clock: Clock) -> Service:
    return paper_service(url, PRICES, markets={s: equity_rules(s) for s in PRICES},
                         starting_cash=D(100_000), book=PAPER_BOOK, clock=clock)


class Desk:
    """A paper service on a hand-moved clock, its HTTP client and two keys."""

    def __init__(self, url: str, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.service = _service(url, self.clock)
        _, trade = self.service.store.create_api_key("bot", ["trade"])
        _, admin = self.service.store.create_api_key("operator", ["admin"])
        self.trade = {"X-API-Key": trade}
        self.admin = {"X-API-Key": admin}
        self.client = TestClient(create_app(self.service, access_log=False))

    def close(self) -> None:
        self.client.close()
        self.service.close()

    def metric(self, name: str) -> float:
        for line in self.client.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"{name} not exported")


@pytest.fixture
def desk(db_url: str) -> Iterator[Desk]:
    d = Desk(db_url)
    yield d
    d.close()


def _stale(service: Service, age: timedelta) -> None:
    """Make the broker report its account as read ``age`` ago (a cached, stale reply)."""
    fresh = service.broker.account

    def stale(now: datetime) -> AccountState:
        return dataclasses.replace(fresh(now), as_of=now - age)

    service.broker.account = stale


# ---------------------------------------------------------------------- reservations
@pytest.mark.parametrize("action", ["confirm", "release"])
@pytest.mark.parametrize("body", [{"quantity": "1000"}, {"notional": "999999.99"},
                                  {"fill": {"quantity": 5}}, [1]])
def test_a_fill_sent_with_confirm_or_release_is_refused_and_the_hold_kept(
        desk: Desk, action: str, body: Any) -> None:
    # A reservation is confirmed for the notional it reserved; a fill larger than that (or
    # any other body) was answered 200 and silently ignored.
    answer = desk.client.post(RECOMMEND, json=OPENER, headers=desk.trade).json()
    assert answer["recommendation"] == "ENTER", answer
    rid = answer["reservation_id"]
    refused = desk.client.post(f"/api/reservations/{rid}/{action}", json=body,
                               headers=desk.trade)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body"]
    assert desk.service.store.reservation(rid).status.value == "ACTIVE"
    # no body, or an empty object, is what the endpoints take
    assert desk.client.post(f"/api/reservations/{rid}/{action}", json={},
                            headers=desk.trade).status_code == 200
    assert desk.client.post(f"/api/reservations/{rid}/{action}",
                            headers=desk.trade).status_code == 200


def test_confirm_twice_release_after_confirm_and_confirm_after_expiry(desk: Desk) -> None:
    c, h = desk.client, desk.trade
    rid = c.post(RECOMMEND, json=OPENER, headers=h).json()["reservation_id"]
    first = c.post(f"/api/reservations/{rid}/confirm", headers=h)
    again = c.post(f"/api/reservations/{rid}/confirm", headers=h)
    assert first.json() == again.json()
    assert again.json()["status"] == "CONFIRMED"
    assert c.post(f"/api/reservations/{rid}/release", headers=h).json()["status"] == "RELEASED"
    assert c.post(f"/api/reservations/{rid}/confirm", headers=h).status_code == 409
    late = c.post(RECOMMEND, json=OPENER, headers=h).json()["reservation_id"]
    desk.clock.now += timedelta(seconds=desk.service.reservation_ttl_seconds + 1)
    assert c.post(f"/api/reservations/{late}/confirm", headers=h).status_code == 409
    assert desk.service.store.reservation(late).status.value == "EXPIRED"
    for rid_sent, status in (("nope", 422), ("x" * 33, 422), ("a b", 422)):
        r = c.post(f"/api/reservations/{rid_sent}/confirm", headers=h)
        assert r.status_code == status
        assert r.json()["detail"][0]["loc"] == ["path", "reservation_id"]


@pytest.mark.parametrize("ttl", [0.0, -1.0, math.nan, math.inf, 10.0 ** 9])
def test_a_service_with_an_unusable_reservation_lifetime_does_not_start(ttl: float) -> None:
    # It started, and every approved opener was then a 422 blaming ``body.ttl_seconds``, a
    # field no request has.
    with pytest.raises(ConfigError, match="reservation_ttl_seconds"):
        Service(config=RiskConfig.load("default"), store=None, broker=None,
                reservation_ttl_seconds=ttl)


# ---------------------------------------------------------------------- trading state
def test_the_halted_gauge_follows_the_stored_state_after_a_restart(db_url: str) -> None:
    first = Desk(db_url)
    try:
        r = first.client.post("/api/admin/trading-state",
                              json={"state": "halt", "note": "exchange maintenance"},
                              headers=first.admin)
        assert r.status_code == 200, r.text
        assert first.metric("riskdesk_trading_halted") == 1.0
    finally:
        first.close()
    restarted = Desk(db_url)  # a restart, or another worker on the same database
    try:
        assert restarted.service.operator_state()["operator_state"] == "HALTED"
        assert restarted.metric("riskdesk_trading_halted") == 1.0
        other = Desk(db_url)
        try:
            other.client.post("/api/admin/trading-state", json={"state": "resume",
                                                                "note": "done"},
                              headers=other.admin)
        finally:
            other.close()
        assert restarted.metric("riskdesk_trading_halted") == 0.0
    finally:
        restarted.close()


@pytest.mark.parametrize("state", ["halt", "reduce-only"])
def test_a_halt_refuses_openers_and_passes_reducers_in_recommendations_and_plans(
        desk: Desk, state: str) -> None:
    desk.service.broker.fill("AAPL", "BUY", D(10), PRICES["AAPL"], fee_rate=D(0),
                             fill_id="f1", now=desk.clock())
    r = desk.client.post("/api/admin/trading-state", json={"state": state, "note": "x"},
                         headers=desk.admin)
    assert r.status_code == 200, r.text

    def recommend(**extra: Any) -> dict[str, Any]:
        answer = desk.client.post(RECOMMEND, json={**OPENER, **extra}, headers=desk.trade)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    for opener in (recommend(), recommend(symbol="MSFT"), recommend(side="SHORT",
                                                                    symbol="MSFT")):
        assert opener["recommendation"] == "REJECT"
        assert opener["reservation_id"] is None
    for reducer in (recommend(side="SHORT"), recommend(reduce_only=True),
                    recommend(side="SELL", reduce_only=True)):
        assert reducer["intent"] == "REDUCE"
        assert reducer["side"] == "SHORT"
        assert reducer["recommendation"] in ("ENTER", "CAUTION")
        assert D(reducer["quantity"]) == 10

    def plan(weight: float, symbol: str = "AAPL") -> list[dict[str, Any]]:
        r = desk.client.post("/api/orders/plan",
                             json={"targets": [{"symbol": symbol, "target_weight": weight}]},
                             headers=desk.trade)
        assert r.status_code == 200, r.text
        return r.json()["decisions"]  # type: ignore[no-any-return]

    for weight in (0.0, 0.01):  # close, or trim 4,304.70 to 1,000
        (trim,) = plan(weight)
        assert (trim["intent"], trim["side"]) == ("REDUCE", "SHORT")
        assert trim["recommendation"] in ("ENTER", "CAUTION")
        assert D(trim["quantity"]) > 0
    for weight, symbol in ((0.2, "AAPL"), (0.01, "MSFT")):
        (grow,) = plan(weight, symbol)
        assert grow["intent"] == "OPEN"
        assert grow["recommendation"] == "REJECT"
    assert not desk.service.store.reservations(status="ACTIVE")


# ---------------------------------------------------------------------- capital ledger
def test_a_stale_broker_account_records_no_capital_snapshot(desk: Desk) -> None:
    s = desk.service
    s.record_capital()
    before = s.store.capital_history(START - timedelta(days=1))
    _stale(s, timedelta(hours=2))
    desk.clock.now += timedelta(minutes=1)
    with pytest.raises(StaleStateError, match="old"):
        s.record_capital()
    assert s.sample_capital() is False
    assert s.store.capital_history(START - timedelta(days=1)) == before


def test_a_broker_account_without_as_of_records_no_capital_snapshot(desk: Desk) -> None:
    s = desk.service
    s.record_capital()
    before = s.store.capital_history(START - timedelta(days=1))
    fresh = s.broker.account
    s.broker.account = lambda now: dataclasses.replace(fresh(now), as_of=None)
    with pytest.raises(StaleStateError, match="as_of"):
        s.record_capital()
    assert s.store.capital_history(START - timedelta(days=1)) == before


def test_calculators_give_no_dollar_size_from_a_stale_account(desk: Desk) -> None:
    desk.service.record_capital()
    _stale(desk.service, timedelta(hours=2))
    c, h = desk.client, desk.trade
    kelly = {"win_rate": 0.58, "win_loss_ratio": 1.75}
    parity = {"volatilities": {"AAPL": 0.02, "MSFT": 0.03}}
    for path, body in (("/api/capital/position-size/kelly", kelly),
                       ("/api/capital/allocation/risk-parity", parity)):
        r = c.post(path, json=body, headers=h)
        assert r.status_code == 409, r.text
        assert "old" in r.json()["detail"]
        # the caller's own capital needs no account
        r = c.post(path, json={**body, "capital": "5000"}, headers=h)
        assert r.status_code == 200, r.text
    opener = c.post(RECOMMEND, json=OPENER, headers=h).json()
    assert opener["recommendation"] == "REJECT"
    assert "STATE_STALE" in opener["reasons"]


def test_the_days_first_read_of_a_stale_account_records_no_snapshot(desk: Desk) -> None:
    s = desk.service
    s.record_capital()
    desk.clock.now += timedelta(days=1)  # a new UTC day: no snapshot of it yet
    _stale(s, timedelta(hours=2))
    before = s.store.capital_history(START - timedelta(days=1))
    r = desk.client.post(RECOMMEND, json=OPENER, headers=desk.trade)
    assert r.status_code in (200, 409), r.text
    assert s.store.capital_history(START - timedelta(days=1)) == before


def test_the_high_water_mark_never_falls(desk: Desk) -> None:
    s = desk.service
    s.broker.fill("AAPL", "BUY", D(100), PRICES["AAPL"], fee_rate=D(0), fill_id="f1",
                  now=desk.clock())
    marks = []
    for price in ("430.47", "500", "300", "450", "520", "100"):
        desk.clock.now += timedelta(minutes=1)
        s.broker.set_price("AAPL", D(price))
        marks.append(s.store.record_capital(s.account(), at=desk.clock())["high_water_mark"])
    assert marks == sorted(marks)
    assert marks[-1] == D(100_000) + 100 * (D(520) - PRICES["AAPL"])


# ---------------------------------------------------------------------- journal, text
def test_a_trail_step_the_journal_cannot_name_is_refused(store: Store) -> None:
    base = journal_decision_of(1)
    bad = {
        "decision.trail[0].code": Adjustment("x", "BOGUS", 1.0, 2.0, "n"),  # type: ignore[arg-type]
        "decision.trail[0].step": Adjustment(5, ReasonCode.CONVICTION, 1.0, 2.0),  # type: ignore[arg-type]
        "decision.trail[0].note": Adjustment("x", ReasonCode.CONVICTION, 1.0, 2.0, None),  # type: ignore[arg-type]
        "decision.trail[0]": {"step": "x"},
    }
    for field, step in bad.items():
        with pytest.raises(InvalidInputError) as info:
            store.journal_decision(dataclasses.replace(base, trail=(step,)),
                                   signal=store_signal(1), account=None,
                                   market=store_market(), config_name="c")
        assert info.value.field == field
    assert store.journal(limit=10) == []


@pytest.mark.parametrize("text", ["a\x00b", "x\udcffy"])
def test_text_no_database_can_hold_is_refused_on_every_database(store: Store,
                                                                text: str) -> None:
    # PostgreSQL refused NUL and lone surrogates with a driver error (a 500, not a 422);
    # SQLite stored them. The command line passes undecodable bytes as lone surrogates.
    with pytest.raises(InvalidInputError) as info:
        store.journal_decision(journal_decision_of(1), signal=store_signal(1), account=None,
                               market=store_market(), config_name="c", request_id=text)
    assert info.value.field == "request_id"
    with pytest.raises(InvalidInputError) as info:
        store.save_desk_state({"trading_state": "HALTED"}, at=START, operator="op", note=text)
    assert info.value.field == "note"
    assert store.journal(limit=10) == []
    assert store.desk_state_record() is None


@pytest.mark.parametrize("note", ["a\x00b", "x\udcffy", "  "])
def test_an_operator_note_no_database_can_hold_is_refused(desk: Desk, note: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        desk.service.set_trading_state(TradingState.HALTED, operator="op", note=note)
    assert info.value.field == "note"
    assert desk.service.operator_state()["operator_state"] == "ACTIVE"
