"""Recorded fills feed Kelly: a signal without statistics is sized from the trade record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskdesk.demo import PAPER_BOOK, equity_rules, paper_service
from riskdesk.domain import Signal
from riskdesk.service import Service

D = Decimal
PRICES = {"MSFT": D("27.95")}


def _service(url: str) -> Service:
    return paper_service(url, PRICES, markets={"MSFT": equity_rules("MSFT")},
                         starting_cash=D(50000), config="aurora-kelly", book=PAPER_BOOK)


def _record_trades(service: Service, wins: int, losses: int) -> None:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    for i in range(wins + losses):
        pnl = D("30") if i < wins else D("-20")
        service.store.record_fill(f"t{i}", "MSFT", "SELL", D(1), D("27.95"), D(0), "scalp",
                                  at + timedelta(minutes=i), realized_pnl=pnl)


def test_kelly_without_statistics_is_rejected_until_enough_trades(sqlite_url: str) -> None:
    service = _service(sqlite_url)
    try:
        signal = Signal(symbol="MSFT", side="LONG", strategy="scalp")
        answer, _ = service.recommend(signal)
        assert answer["recommendation"] == "REJECT"
        assert Decimal(answer["quantity"]) == 0  # no default size

        _record_trades(service, wins=5, losses=5)  # below kelly.min_trades (30)
        answer, _ = service.recommend(signal)
        assert answer["recommendation"] == "REJECT"
    finally:
        service.close()


def test_kelly_is_sized_from_recorded_fills(sqlite_url: str) -> None:
    service = _service(sqlite_url)
    try:
        _record_trades(service, wins=36, losses=24)  # 60% wins, 1.5 win/loss: an edge
        stats = service.store.trade_stats("scalp", "MSFT", min_trades=30)
        assert stats.sufficient
        answer, _ = service.recommend(Signal(symbol="MSFT", side="LONG", strategy="scalp"))
        assert answer["recommendation"] in ("ENTER", "CAUTION")
        assert Decimal(answer["quantity"]) > 0
        # the journal keeps the statistics the decision was sized from
        entry = service.store.journal(limit=1)[0]
        text = str(entry)
        assert f"{stats.win_rate}"[:6] in text
    finally:
        service.close()
