"""A broker reporting an account the domain refuses is the broker's failure (503), not the
request's: no 422 on a body field, nothing decided or written."""

from __future__ import annotations

from decimal import Decimal

from api_support import PRICES, Clock, TestClient, markets

from riskdesk.api import create_app
from riskdesk.demo import paper_service


def test_an_equity_below_the_minimum_is_503_and_writes_nothing(sqlite_url: str) -> None:
    service = paper_service(sqlite_url, PRICES, markets=markets(),
                            starting_cash=Decimal("1e-9"), clock=Clock())
    try:
        _, key = service.store.create_api_key("bot", ["trade"])
        with TestClient(create_app(service, access_log=False)) as client:
            for _ in range(2):  # the route, then the fast lane (the key is cached)
                r = client.post("/api/capital/recommendation/position",
                                json={"symbol": "AAPL"}, headers={"X-API-Key": key})
                assert r.status_code == 503, r.text
                assert "unusable account" in r.json()["detail"]
                assert "account.equity" in r.json()["detail"]
            r = client.get("/api/capital/state", headers={"X-API-Key": key})
            assert r.status_code == 503, r.text
        assert service.store.journal(limit=10) == []
    finally:
        service.close()
