"""Approved openers not yet filled count as open positions and as the day's trades.

Brokers report positions once filled and no trade count. Before the service counted the
approved openers it holds budget for, a bot limited to 2 concurrent positions (or 2 trades a
day) was approved for every new symbol it asked about until its first fill showed.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from riskdesk.demo import PAPER_BOOK, equity_rules, paper_service
from riskdesk.domain import Signal
from riskdesk.errors import StaleStateError
from riskdesk.service import Service
from riskdesk.store import OpenersSeen

D = Decimal
SYMBOLS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH"]
PRICES = {s: D(50) for s in SYMBOLS}


def _config(tmp_path: Path, body: str) -> str:
    path = tmp_path / "limits.yaml"
    path.write_text(body)
    return str(path)


def _two_positions(tmp_path: Path) -> str:
    return _config(tmp_path, "extends: default\nname: two-positions\n"
                             "risk_management:\n  max_concurrent_positions: 2\n")


def _service(url: str, config: str, clock: Any = None) -> Service:
    return paper_service(url, PRICES, markets={s: equity_rules(s) for s in PRICES},
                         starting_cash=D(1_000_000), book=PAPER_BOOK, config=config,
                         clock=clock)


def _open(service: Service, symbol: str) -> dict[str, Any]:
    answer, _ = service.recommend(Signal(symbol=symbol, side="LONG", score=75,
                                         expected_return_pct=3.0))
    return answer


def test_approved_openers_count_as_positions_until_given_back(sqlite_url: str,
                                                              tmp_path: Path) -> None:
    service = _service(sqlite_url, _two_positions(tmp_path))
    try:
        first, second = _open(service, "AAA"), _open(service, "BBB")
        assert first["recommendation"] in ("ENTER", "CAUTION")
        assert second["recommendation"] in ("ENTER", "CAUTION")
        third = _open(service, "CCC")
        assert third["recommendation"] == "REJECT"
        assert "MAX_POSITIONS" in third["reasons"]
        note = next(a for a in third["adjustments"] if a["code"] == "MAX_POSITIONS")["note"]
        assert "2 approved, not yet filled" in note
        # more of a symbol already approved is not a new position
        again = _open(service, "AAA")
        assert "MAX_POSITIONS" not in again["reasons"]
        # giving one back frees its place
        service.release_reservation(first["reservation_id"])
        if again["reservation_id"] is not None:
            service.release_reservation(again["reservation_id"])
        assert _open(service, "CCC")["recommendation"] in ("ENTER", "CAUTION")
    finally:
        service.close()


def test_a_filled_opener_is_counted_once(sqlite_url: str, tmp_path: Path) -> None:
    service = _service(sqlite_url, _two_positions(tmp_path))
    try:
        first = _open(service, "AAA")
        service.confirm_reservation(first["reservation_id"])
        service.broker.fill("AAA", "LONG", D(first["quantity"]), D(50), fee_rate=D(0),
                            fill_id="a1", now=service.clock() + timedelta(seconds=1))
        assert _open(service, "BBB")["recommendation"] in ("ENTER", "CAUTION")
        assert _open(service, "CCC")["recommendation"] == "REJECT"
    finally:
        service.close()


def test_concurrent_openers_never_exceed_the_position_limit(db_url: str,
                                                            tmp_path: Path) -> None:
    service = _service(db_url, _two_positions(tmp_path))
    actions: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(len(SYMBOLS))

    def client(symbol: str) -> None:
        start.wait()
        answer = _open(service, symbol)
        with lock:
            actions[answer["recommendation"]] += 1

    try:
        pool = [threading.Thread(target=client, args=(s,)) for s in SYMBOLS]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        approved = actions["ENTER"] + actions["CAUTION"]
        assert approved == 2, actions
        held = service.store.held_budget(service.account_id, now=service.clock(), as_of=None)
        assert len(held.by_symbol) == 2
    finally:
        service.close()


def test_a_write_counting_fewer_openers_than_were_granted_is_decided_again(
        sqlite_url: str, tmp_path: Path) -> None:
    service = _service(sqlite_url, _two_positions(tmp_path))
    try:
        now = service.clock()
        account = service.account(now)
        since = now - timedelta(hours=1)
        stale = OpenersSeen(frozenset(), frozenset(), None, since)
        assert _open(service, "AAA")["recommendation"] in ("ENTER", "CAUTION")
        from riskdesk.service._deciding import decision_record

        decision = service.session.desk.recommend(
            Signal(symbol="BBB", side="LONG", score=75, expected_return_pct=3.0), account,
            service.market("BBB", None, now), now=now)
        assert decision.approved
        record = decision_record(decision, signal=Signal(symbol="BBB", side="LONG", score=75),
                                 account=account, market=None, config=service.config,
                                 config_name="t", ttl_seconds=60, account_id="default",
                                 seen=stale)
        from riskdesk.store import DecisionWrite

        with pytest.raises(StaleStateError, match="AAA"):
            service.store.record_decisions(DecisionWrite((record,), now))
        assert [e["symbol"] for e in service.store.journal(limit=10)] == ["AAA"]
    finally:
        service.close()


def test_the_days_approved_openers_count_as_its_trades(sqlite_url: str,
                                                       tmp_path: Path) -> None:
    config = _config(tmp_path, "extends: phased-options\nname: two-trades\n"
                               "phases:\n  trades_per_day: [2, 2, 2, 2, 2]\n")
    clock_now = [datetime(2026, 11, 18, 15, 0, tzinfo=UTC)]
    service = _service(sqlite_url, config, clock=lambda: clock_now[0])
    try:
        answers = [_open(service, s) for s in ("AAA", "BBB")]
        assert all(a["recommendation"] in ("ENTER", "CAUTION") for a in answers), answers
        for a in answers:
            service.confirm_reservation(a["reservation_id"])
        third = _open(service, "AAA")
        assert third["recommendation"] == "REJECT"
        assert "TRADES_PER_DAY" in third["reasons"]
        clock_now[0] += timedelta(days=1)  # a new UTC day
        fourth = _open(service, "AAA")
        assert "TRADES_PER_DAY" not in fourth["reasons"]
    finally:
        service.close()
