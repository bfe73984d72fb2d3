"""The service decides on the capital tracker's high-water mark and day/week start equity.

A paper account (like ccxt's) reports no high-water mark and no period starts; before the
service applied the tracker's, a 22.5 % loss read as 0 % drawdown and 0 % daily loss, so the
drawdown ladder, the breaker and the loss limits never acted.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from riskdesk.demo import PAPER_BOOK, equity_rules, paper_service
from riskdesk.domain import Signal
from riskdesk.service import Service, Settings
from riskdesk.service._marks import CapitalMarks
from riskdesk.service._state import SaveNeededError

D = Decimal
PRICES = {"MSFT": D(100), "AAPL": D(50)}
OPENER = Signal(symbol="AAPL", side="LONG", score=75, expected_return_pct=3.0)
START = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _service(url: str, clock: Clock) -> Service:
    return paper_service(url, PRICES, markets={s: equity_rules(s) for s in PRICES},
                         starting_cash=D(100_000), book=PAPER_BOOK, clock=clock)


def _long_msft(service: Service, qty: int = 300) -> None:
    service.broker.fill("MSFT", "LONG", D(qty), D(100), fee_rate=D(0), fill_id=f"f{qty}",
                        now=service.clock())


def _mark(service: Service, price: str) -> None:
    service.broker.set_price("MSFT", D(price))
    service.marks.forget()  # read the tracker again now, not after its one-second reuse


def test_a_loss_reads_as_drawdown_and_daily_loss_and_refuses_openers(db_url: str) -> None:
    clock = Clock(START)
    service = _service(db_url, clock)
    try:
        _long_msft(service)  # 30,000 of 100,000 in MSFT
        service.record_capital()
        clock.now += timedelta(minutes=5)
        _mark(service, "30")  # -70 x 300 = -21,000: equity 79,000
        status = service.drawdown_status()
        assert status["drawdown_pct"] == pytest.approx(21.0)
        assert status["daily_pnl_pct"] == pytest.approx(-21.0)
        assert status["weekly_pnl_pct"] == pytest.approx(-21.0)
        assert status["state"] == "HEAVY"
        assert {"DRAWDOWN_HEAVY", "DAILY_LOSS_LIMIT"} <= set(status["reasons"])
        state = service.capital_state()
        assert D(state["high_water_mark"]) == D(100_000)
        assert state["drawdown_pct"] == pytest.approx(21.0)

        answer, _ = service.recommend(OPENER)
        assert answer["recommendation"] == "REJECT"
        assert "BREAKER_TRIPPED" in answer["reasons"]
        assert service.drawdown_status()["breaker_tripped"] is True
        # a reducer is never blocked by a rule meant for openers
        sell, _ = service.recommend(Signal(symbol="MSFT", side="SHORT", score=75,
                                           reduce_only=True))
        assert sell["intent"] == "REDUCE"
        assert sell["recommendation"] != "REJECT"
    finally:
        service.close()


def test_a_daily_loss_below_the_ladder_still_stops_openers(sqlite_url: str) -> None:
    clock = Clock(START)
    service = _service(sqlite_url, clock)
    try:
        _long_msft(service)
        service.record_capital()
        before, _ = service.recommend(OPENER)
        assert before["recommendation"] in ("ENTER", "CAUTION")
        _mark(service, "87")  # -3,900: 3.9 % down on the day (limit 3 %), drawdown NORMAL
        answer, _ = service.recommend(OPENER)
        assert answer["recommendation"] == "REJECT"
        assert "DAILY_LOSS_LIMIT" in answer["reasons"]
        assert "BREAKER_TRIPPED" not in answer["reasons"]
    finally:
        service.close()


def test_the_high_water_mark_survives_a_restart(sqlite_url: str) -> None:
    clock = Clock(START)
    service = _service(sqlite_url, clock)
    _long_msft(service)
    service.record_capital()
    _mark(service, "80")  # -6,000
    service.record_capital()
    service.close()
    again = Service.open(Settings(db_url=sqlite_url), clock=clock)  # prices as they were
    try:
        assert again.drawdown_status()["drawdown_pct"] == pytest.approx(6.0)
        assert D(again.capital_state()["high_water_mark"]) == D(100_000)
    finally:
        again.close()


def test_a_peak_read_between_two_samples_is_kept(sqlite_url: str) -> None:
    clock = Clock(START)
    service = _service(sqlite_url, clock)
    try:
        _long_msft(service)
        service.record_capital()
        _mark(service, "120")  # equity 106,000, read by a decision, never sampled
        service.recommend(OPENER)
        _mark(service, "110")  # equity 103,000
        assert service.drawdown_status()["drawdown_pct"] == pytest.approx(
            100 * (1 - 103_000 / 106_000))
        clock.now += timedelta(seconds=10)
        service.record_capital()
        latest = service.store.latest_capital()
        assert latest["high_water_mark"] == D(106_000)
        assert latest["equity"] == D(103_000)
    finally:
        service.close()


def test_the_first_read_of_a_new_day_starts_the_day(sqlite_url: str) -> None:
    clock = Clock(START)
    service = _service(sqlite_url, clock)
    try:
        _long_msft(service)
        service.record_capital()
        _mark(service, "90")  # -3,000 yesterday: -3 % on the day
        assert service.drawdown_status()["daily_pnl_pct"] == pytest.approx(-3.0)
        clock.now = START + timedelta(days=1)  # Thursday: same ISO week
        points = len(service.store.capital_history(START))
        status = service.drawdown_status()
        assert status["daily_pnl_pct"] == pytest.approx(0.0)
        assert status["weekly_pnl_pct"] == pytest.approx(-3.0)
        assert status["drawdown_pct"] == pytest.approx(3.0)
        history = service.store.capital_history(START)
        assert len(history) == points + 1  # the day's first snapshot, at the read
        assert history[-1]["at"] == clock.now
        assert history[-1]["day_start_equity"] == D(97_000)
        _mark(service, "80")
        assert service.drawdown_status()["daily_pnl_pct"] == pytest.approx(
            100 * (94_000 / 97_000 - 1))
        clock.now = START + timedelta(days=5)  # Monday: a new week
        status = service.drawdown_status()
        assert status["weekly_pnl_pct"] == pytest.approx(0.0)
        assert status["drawdown_pct"] == pytest.approx(6.0)
    finally:
        service.close()


def test_the_event_loop_path_records_the_day_start_on_a_thread(db_url: str) -> None:
    clock = Clock(START)
    service = _service(db_url, clock)
    try:
        assert service.store.latest_capital() is None
        answer, _ = asyncio.run(service.recommend_async(OPENER))
        assert answer["recommendation"] in ("ENTER", "CAUTION")
        first = service.store.latest_capital()
        assert first is not None
        assert first["at"] == START
        clock.now = START + timedelta(days=1)
        with pytest.raises(SaveNeededError, match="first capital snapshot"):
            service.account(clock.now, may_write=False)
        assert service.store.latest_capital()["at"] == START  # nothing written
        clock.now = START + timedelta(seconds=30)
        service.marks.forget()
        with pytest.raises(SaveNeededError, match="read again"):
            service.account(clock.now, may_write=False, may_read=False)
        again, _ = asyncio.run(service.recommend_async(OPENER))  # read on a thread
        assert again["recommendation"] in ("ENTER", "CAUTION")
        service.account(clock.now, may_write=False, may_read=False)  # held again: no read
    finally:
        service.close()


class _Store:
    """The two store calls the marks make, counted."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.reads = 0

    def latest_capital(self) -> dict[str, Any] | None:
        self.reads += 1
        return self.rows[-1] if self.rows else None


def _row(at: datetime, hwm: int, day: int, week: int) -> dict[str, Any]:
    return {"at": at, "high_water_mark": D(hwm), "day_start_equity": D(day),
            "week_start_equity": D(week)}


def test_another_workers_snapshot_is_read_once_the_held_one_is_a_second_old() -> None:
    from riskdesk.domain import AccountState

    t = [0.0]
    store = _Store([_row(START, 100, 100, 100)])
    marks = CapitalMarks(store, max_age=1.0, monotonic=lambda: t[0])
    account = AccountState(equity=D(90), available=D(90), as_of=START)
    assert marks.apply(account, START).high_water_mark == D(100)
    store.rows.append(_row(START + timedelta(seconds=1), 120, 100, 100))
    t[0] = 0.5
    assert marks.apply(account, START).high_water_mark == D(100)
    assert store.reads == 1
    t[0] = 1.0
    applied = marks.apply(account, START)
    assert applied.high_water_mark == D(120)
    assert applied.drawdown == pytest.approx(0.25)
    assert store.reads == 2


def test_a_worker_whose_clock_is_behind_uses_the_later_snapshot(sqlite_url: str) -> None:
    clock = Clock(START + timedelta(days=1, seconds=5))
    ahead = _service(sqlite_url, clock)
    behind = Service(config=ahead.config, store=ahead.store, broker=ahead.broker,
                     clock=lambda: START + timedelta(days=1) - timedelta(seconds=1))
    try:
        ahead.record_capital()  # the next day's first snapshot
        account = behind.account()  # its day has no snapshot; recording one is refused
        assert account.day_start_equity == D(100_000)
        assert len(ahead.store.capital_history(START)) == 1
    finally:
        ahead.close()
