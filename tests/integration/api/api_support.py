"""Helpers of the HTTP API tests: a clock, a seeded paper service, keys."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client and warns once, at import, with httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from riskdesk.demo import paper_service
from riskdesk.domain import MarketRules
from riskdesk.service import Service

START = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
CASH = Decimal(100000)
PRICES = {"AAPL": Decimal("430.47"), "MSFT": Decimal("27.95"), "BTCUSDT": Decimal("60000")}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def markets() -> dict[str, MarketRules]:
    stock = {"step": Decimal(1), "tick": Decimal("0.01"), "min_qty": Decimal(1),
             "min_notional": Decimal(1)}
    return {
        "AAPL": MarketRules(symbol="AAPL", **stock),
        "MSFT": MarketRules(symbol="MSFT", **stock),
        "NOPRICE": MarketRules(symbol="NOPRICE", **stock),
        "BTCUSDT": MarketRules(symbol="BTCUSDT", step=Decimal("0.001"), tick=Decimal("0.1"),
                               min_notional=Decimal(5)),
    }


@dataclass
class Keys:
    read: str
    trade: str
    admin: str
    revoked: str
    revoked_id: str


@dataclass
class Api:
    client: TestClient
    service: Service
    clock: Clock
    keys: Keys

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        return {"X-API-Key": key or self.keys.trade, **extra}

    def journal_count(self) -> int:
        return len(self.service.store.journal(limit=1000))


def build_service(url: str, clock: Clock, preset: str = "default") -> Service:
    return paper_service(url, PRICES, markets=markets(), starting_cash=CASH, config=preset,
                         clock=clock)
