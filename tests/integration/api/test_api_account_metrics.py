"""The account's risk state on ``/metrics``: gauges read when it is scraped, once per scrape
whatever the number of workers, and left out (the scrape still answers) when the account
cannot be read."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from api_support import CASH, PRICES, Api, Clock, TestClient, markets
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from store_support import fully_locked

from riskdesk.api import create_app
from riskdesk.config import RiskConfig
from riskdesk.demo import paper_service
from riskdesk.desk import DeskState
from riskdesk.errors import BrokerError
from riskdesk.limits import BreakerState
from riskdesk.service import Service
from riskdesk.service._paper import open_paper_broker
from riskdesk.store import Store

PG_ADMIN_URL = os.environ.get("RISKDESK_TEST_PG_ADMIN_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
URL = "/api/capital/recommendation/position"
REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75, "market_regime": "TRENDING",
       "win_rate": 0.58, "market": {"bid": "430.46", "ask": "430.48"}}
ACCOUNT_GAUGES = ("riskdesk_account_equity", "riskdesk_account_available",
                  "riskdesk_margin_used_ratio", "riskdesk_drawdown_ratio",
                  "riskdesk_breaker_tripped", "riskdesk_reserved_notional",
                  "riskdesk_reserved_margin", "riskdesk_reserved_orders",
                  "riskdesk_margin_zone", "riskdesk_capital_status", "riskdesk_trading_state")


def _series(text: str) -> dict[str, float]:
    """Every sample of a text exposition, by its name and labels."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            assert name not in out, f"{name} is exported twice"
            out[name] = float(value)
    return out


def _scrape(client: TestClient) -> dict[str, float]:
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    return _series(r.text)


def _state(series: dict[str, float], name: str, label: str) -> str:
    """The one state of an enum-like gauge set to 1."""
    on = [k for k, v in series.items() if k.startswith(f"{name}{{{label}=") and v == 1.0]
    assert len(on) == 1, on
    return on[0].split('"')[1]


def _read(api: Api, path: str) -> dict:
    r = api.client.get(path, headers=api.headers(api.keys.read))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_the_gauges_show_the_account_as_the_dashboard_does(api: Api) -> None:
    series = _scrape(api.client)
    analysis = _read(api, "/api/capital/analysis/complete")
    capital = analysis["capital_state"]
    assert series["riskdesk_account_up"] == 1.0
    assert series["riskdesk_account_equity"] == float(capital["equity"])
    assert series["riskdesk_account_equity"] == float(CASH)
    assert series["riskdesk_account_available"] == float(capital["available_balance"])
    assert series["riskdesk_drawdown_ratio"] == pytest.approx(capital["drawdown_pct"] / 100)
    assert series["riskdesk_margin_used_ratio"] == pytest.approx(
        analysis["margin_status"]["margin_used_pct"] / 100)
    assert series["riskdesk_breaker_tripped"] == 0.0
    assert series["riskdesk_reserved_notional"] == 0.0
    assert series["riskdesk_reserved_orders"] == 0.0
    assert _state(series, "riskdesk_margin_zone", "zone") == \
        analysis["margin_status"]["zone"] == "GREEN"
    assert _state(series, "riskdesk_capital_status", "status") == capital["capital_status"]
    assert _state(series, "riskdesk_trading_state", "state") == "ACTIVE"
    # Every state is exported, the others at 0, so that an alert on one never finds it absent.
    assert {k for k in series if k.startswith("riskdesk_margin_zone{")} == {
        f'riskdesk_margin_zone{{zone="{z}"}}' for z in ("GREEN", "YELLOW", "ORANGE", "RED")}


def test_an_approved_recommendation_shows_as_reserved(api: Api) -> None:
    r = api.client.post(URL, json=REC, headers=api.headers())
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["recommendation"] in ("ENTER", "CAUTION"), answer
    series = _scrape(api.client)
    assert series["riskdesk_reserved_notional"] == float(answer["position_size_usd"]) > 0
    assert series["riskdesk_reserved_margin"] == float(answer["margin_required"])
    assert series["riskdesk_reserved_orders"] == 1.0
    capital = _read(api, "/api/capital/state")
    assert series["riskdesk_account_equity"] == float(capital["equity"])
    assert series["riskdesk_account_available"] == float(capital["available_balance"])
    r = api.client.post(f"/api/reservations/{answer['reservation_id']}/release",
                        headers=api.headers())
    assert r.status_code == 200, r.text
    series = _scrape(api.client)
    assert series["riskdesk_reserved_notional"] == 0.0
    assert series["riskdesk_reserved_orders"] == 0.0


def test_a_halted_desk_shows_in_the_gauges(api: Api) -> None:
    r = api.client.post("/api/admin/trading-state", json={"state": "halt", "note": "drill"},
                        headers=api.headers(api.keys.admin))
    assert r.status_code == 200, r.text
    series = _scrape(api.client)
    assert _state(series, "riskdesk_trading_state", "state") == "HALTED"
    assert series["riskdesk_breaker_tripped"] == 0.0


def test_a_tripped_breaker_shows_in_the_gauges(api: Api) -> None:
    store = api.service.store
    record = store.desk_state_record()
    now = api.clock()
    state = DeskState(breaker=BreakerState().trip(now, 24.0, "DAILY_LOSS_LIMIT"))
    store.save_desk_state(state.to_dict(), at=now, operator="breaker", note="daily loss",
                          expected_version=0 if record is None else record["version"])
    series = _scrape(api.client)
    assert series["riskdesk_breaker_tripped"] == 1.0
    assert _state(series, "riskdesk_trading_state", "state") == "HALTED"
    assert _read(api, "/api/capital/drawdown/status")["breaker_tripped"] is True
    # The pause over, the breaker no longer blocks: the gauge follows.
    api.clock.advance(timedelta(hours=25).total_seconds())
    assert _scrape(api.client)["riskdesk_breaker_tripped"] == 0.0


def test_a_broker_that_cannot_be_read_leaves_the_gauges_out(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_: object) -> None:
        raise BrokerError("broker unreachable")

    assert _scrape(api.client)["riskdesk_account_read_failures_total"] == 0.0
    monkeypatch.setattr(api.service.broker, "account", down)
    series = _scrape(api.client)
    assert series["riskdesk_account_up"] == 0.0
    assert series["riskdesk_account_read_failures_total"] == 1.0
    assert not [k for k in series if k.startswith(ACCOUNT_GAUGES)]
    assert any(k.startswith("riskdesk_http_requests_total{") for k in series)
    monkeypatch.undo()
    series = _scrape(api.client)
    assert series["riskdesk_account_up"] == 1.0
    assert series["riskdesk_account_equity"] == float(CASH)


# ---------------------------------------------------------------------- database outage
@contextmanager
def _postgres_unreadable(store: Store) -> Iterator[None]:
    """The database refuses connections and its open ones are terminated."""
    name = make_url(str(store.engine.url)).database
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 f"WHERE datname = '{name}'")
        try:
            yield
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        admin.dispose()


def test_an_unreadable_store_leaves_the_gauges_out_and_the_scrape_answers(db_url: str) -> None:
    clock = Clock()
    paper_service(db_url, PRICES, markets=markets(), starting_cash=CASH, clock=clock).close()
    config = RiskConfig.load("default")
    with ExitStack() as stack:
        store = Store.open(db_url, config=config, clock=clock, busy_timeout_ms=50)
        stack.callback(store.close)
        service = Service(config=config, store=store, broker=open_paper_broker(store),
                          clock=clock)
        client = stack.enter_context(TestClient(create_app(service, access_log=False)))
        assert _scrape(client)["riskdesk_account_up"] == 1.0
        outage = fully_locked if db_url.startswith("sqlite") else _postgres_unreadable
        with outage(store):
            series = _scrape(client)
        assert series["riskdesk_account_up"] == 0.0
        assert series["riskdesk_account_read_failures_total"] == 1.0
        assert not [k for k in series if k.startswith(ACCOUNT_GAUGES)]
        assert series['riskdesk_http_requests_total{method="GET",route="/metrics",'
                      'status="200"}'] == 1.0
        # The database back, the next scrape reads the account again.
        assert _scrape(client)["riskdesk_account_equity"] == float(CASH)


# ---------------------------------------------------------------------- several workers
WORKER = textwrap.dedent("""
    from riskdesk.service import Metrics
    m = Metrics()
    m.decisions.labels(action="ENTER").inc(2)
    m.requests.labels(method="GET", route="/metrics", status="200").inc()
""")


def test_the_gauges_appear_once_with_several_workers(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    for _ in range(2):  # two workers' files, each with its own pid
        subprocess.run([sys.executable, "-c", WORKER], env=env, check=True)
    assert len(list(directory.glob("counter_*.db"))) == 2
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    service = paper_service(db_url, PRICES, markets=markets(), starting_cash=CASH,
                            clock=Clock())
    try:
        with TestClient(create_app(service, access_log=False)) as client:
            r = client.get("/metrics")
        assert r.status_code == 200, r.text
        series = _series(r.text)  # fails on a series exported twice
        # The workers' counters are summed ...
        assert series['riskdesk_decisions_total{action="ENTER"}'] == 4.0
        # ... and the account's gauges are the one account's, once.
        assert series["riskdesk_account_up"] == 1.0
        assert series["riskdesk_account_equity"] == float(CASH)
        assert series["riskdesk_reserved_orders"] == 0.0
        assert series['riskdesk_margin_zone{zone="GREEN"}'] == 1.0
        for name in ACCOUNT_GAUGES:
            assert r.text.count(f"# TYPE {name} gauge") == 1, name
    finally:
        service.close()
