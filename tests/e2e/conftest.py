"""A live riskdesk service on a free loopback port, for browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn
from e2e_support import START, Live

from riskdesk.api import create_app
from riskdesk.demo import paper_service
from riskdesk.domain import MarketRules

PRICES = {"AAPL": Decimal("430.47"), "MSFT": Decimal("27.95")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[Live]:
    rules = {s: MarketRules(symbol=s, step=Decimal(1), tick=Decimal("0.01"), min_qty=Decimal(1))
             for s in PRICES}
    service = paper_service(f"sqlite:///{tmp_path / 'e2e.db'}", PRICES, markets=rules,
                            starting_cash=Decimal(100000), clock=lambda: START)
    _, read_key = service.store.create_api_key("dashboard", ["read"])
    _, trade_key = service.store.create_api_key("bot", ["trade"])
    port = _free_port()
    config = uvicorn.Config(create_app(service, access_log=False), host="127.0.0.1",
                            port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    try:
        yield Live(base, service, read_key, trade_key)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        service.close()
