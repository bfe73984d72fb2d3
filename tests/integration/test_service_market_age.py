"""The service dates a market snapshot by the venue's book: an old book refuses openers.

The real ccxt code runs on recorded Binance USD-M responses (``test_brokers_ccxt.usdm``);
the recorded order book is dated 2024-06-01 12:00:00.118 UTC by the exchange.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_brokers_ccxt import BTC, usdm

from riskdesk.config import RiskConfig
from riskdesk.domain import Signal
from riskdesk.service import Service
from riskdesk.store import Store

BOOK_TIME = datetime(2024, 6, 1, 12, 0, 0, 118000, tzinfo=UTC)
PRESET = "crypto-capital-manager"  # reads the order book (liquidity enabled)


def _service(tmp_path: Path, now: datetime) -> Service:
    config = RiskConfig.preset(PRESET)
    assert config.liquidity.enabled
    broker, _ = usdm()
    store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}", config=config, clock=lambda: now,
                       migrate=True)
    return Service(config=config, store=store, broker=broker, clock=lambda: now)


def _stale_limit() -> float:
    return float(RiskConfig.preset(PRESET).risk_management.max_data_age_seconds)


def test_a_fresh_book_dates_the_snapshot_by_the_venue(tmp_path: Path) -> None:
    service = _service(tmp_path, BOOK_TIME + timedelta(seconds=2))
    try:
        snapshot = service.market(BTC, None, service.clock())
        assert snapshot.as_of == BOOK_TIME
        answer, _ = service.recommend(Signal(symbol=BTC, side="LONG", score=80,
                                             expected_return_pct=3.0))
        assert "MARKET_STALE" not in answer["reasons"]
    finally:
        service.close()


@pytest.mark.parametrize("late", [timedelta(minutes=5), timedelta(hours=6)])
def test_a_book_the_venue_dated_long_ago_refuses_an_opener(tmp_path: Path,
                                                           late: timedelta) -> None:
    assert late.total_seconds() > _stale_limit()
    service = _service(tmp_path, BOOK_TIME + late)
    try:
        answer, _ = service.recommend(Signal(symbol=BTC, side="LONG", score=80,
                                             expected_return_pct=3.0))
        assert answer["recommendation"] == "REJECT"
        assert "MARKET_STALE" in answer["reasons"]
        assert answer["quantity"] == "0" or float(answer["quantity"]) == 0.0
        stale = [a for a in answer["adjustments"] if a["code"] == "MARKET_STALE"]
        assert stale
        assert stale[0]["before"] == pytest.approx(late.total_seconds(), abs=0.2)
        held = service.store.held_budget(service.account_id, now=service.clock(), as_of=None)
        assert held.count == 0
    finally:
        service.close()


def test_a_reducer_is_not_refused_for_an_old_book(tmp_path: Path) -> None:
    # The recorded account is long 0.05 BTC: selling it down reduces risk.
    service = _service(tmp_path, BOOK_TIME + timedelta(hours=6))
    try:
        answer, _ = service.recommend(Signal(symbol=BTC, side="SHORT", score=80,
                                             reduce_only=True))
        assert answer["intent"] == "REDUCE"
        assert answer["recommendation"] != "REJECT"
        assert float(answer["quantity"]) > 0
    finally:
        service.close()
