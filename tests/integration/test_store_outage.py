"""A database outage is a StoreUnavailableError, a 503 with Retry-After and exit code 3.

The outages are real ones: a SQLite database whose write lock (or, in exclusive locking mode,
every lock) another connection holds past the store's busy timeout, a PostgreSQL backend
terminated by an administrator in the middle of a transaction, a server on a closed port, and
a PostgreSQL server cut off and brought back behind a TCP relay. Each time nothing is written,
and the first request after the database is back succeeds.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lane_support import fast_lane_handovers
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import NullPool
from starlette.exceptions import StarletteDeprecationWarning
from store_support import (
    T0,
    Clock,
    account,
    decision,
    fully_locked,
    market,
    signal,
    write_locked,
)
from typer.testing import CliRunner

from riskdesk.api import create_app
from riskdesk.cli import app as cli_app
from riskdesk.config import RiskConfig
from riskdesk.demo import paper_service
from riskdesk.domain import Action, Decision, MarketRules, ReasonCode
from riskdesk.errors import StateError, StoreUnavailableError
from riskdesk.service import Service
from riskdesk.service._paper import open_paper_broker
from riskdesk.store import (
    DecisionRecord,
    DecisionWrite,
    HoldRequest,
    ReservationLimits,
    ReservationOutcome,
    Store,
)
from riskdesk.store import _tables as t
from riskdesk.store._base import unavailable_reason

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client and warns once, at import, with httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PG_ADMIN_URL = os.environ.get("RISKDESK_TEST_PG_ADMIN_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
D = Decimal
ACCOUNT = "acct-outage"
BUSY_MS = 50
LOCKED = "store unavailable: database is locked"
URL = "/api/capital/recommendation/position"
PRICES = {"AAPL": Decimal("430.47")}
MARKETS = {"AAPL": MarketRules(symbol="AAPL", step=Decimal(1), tick=Decimal("0.01"),
                               min_qty=Decimal(1), min_notional=Decimal(1))}
REC = {"symbol": "AAPL", "side": "LONG", "signal_score": 75, "market_regime": "TRENDING",
       "win_rate": 0.58, "market": {"bid": "430.46", "ask": "430.48"}}


# ---------------------------------------------------------------------- helpers
def refuse(d: Decision, outcome: ReservationOutcome) -> Decision:
    return replace(d, action=Action.REJECT, quantity=D(0), notional=D(0),
                   margin_required=D(0), binding_cap=None,
                   reasons=(*d.reasons, outcome.refused_by or ReasonCode.EXPOSURE_LIMIT))


def decision_write(seq: int) -> DecisionWrite:
    d = decision(seq)
    limits = ReservationLimits(buying_power=D(10**9), max_exposure=D(10**12))
    hold = HoldRequest(ACCOUNT, d.notional, d.margin_required, 60.0, limits)
    return DecisionWrite((DecisionRecord(d, signal(seq), account(), market(), "test",
                                         request_id=f"o-{seq}", hold=hold,
                                         on_refused=refuse),), T0)


def counts(store: Store) -> dict[str, int]:
    """Rows per table, read with a connection of its own."""
    with store.engine.connect() as conn:
        return {table.name: int(conn.execute(sa.select(sa.func.count()).select_from(table))
                                .scalar_one())
                for table in (t.decisions, t.reservations, t.reservation_events,
                              t.kv)}


def assert_unavailable(exc: pytest.ExceptionInfo[StoreUnavailableError], reason: str) -> None:
    err = exc.value
    assert err.reason == reason
    assert str(err) == f"store unavailable: {reason}"
    assert isinstance(err, StateError)
    assert isinstance(err.__cause__, DBAPIError)  # the driver's error is kept as the cause


# ---------------------------------------------------------------------- SQLite, the store
@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url, clock=Clock(T0), migrate=True, busy_timeout_ms=BUSY_MS)
    yield s
    s.close()


def test_a_locked_sqlite_database_refuses_every_write_and_writes_nothing(
        store: Store, sqlite_url: str) -> None:
    store.put_kv("before", {"n": 1})
    before = counts(store)
    limits = ReservationLimits(buying_power=D(10**6), max_exposure=D(10**6))
    with write_locked(sqlite_url):
        writes: dict[str, Any] = {
            "journal": lambda: store.journal_decision(
                decision(1), signal=signal(1), account=account(), market=market(),
                config_name="test"),
            "reservation": lambda: store.try_reserve(
                ACCOUNT, "BTCUSDT", D(100), D(25), ttl_seconds=60, now=T0, limits=limits),
            "record_decisions": lambda: store.record_decisions(decision_write(2)),
            # the group commit's writer thread: the future fails with the same error
            "submit_decisions": lambda: store.submit_decisions(decision_write(3)).result(30),
            "kv": lambda: store.put_kv("during", {"n": 2}),
        }
        for name, call in writes.items():
            with pytest.raises(StoreUnavailableError) as exc:
                call()
            assert_unavailable(exc, "database is locked")
            assert isinstance(exc.value.__cause__, OperationalError), name
        # reads go on while another connection writes (WAL)
        assert store.get_kv("before") == {"n": 1}
    assert counts(store) == before
    assert store.group_commit_stats == (0, 0)
    # the database is back: the same writes go through
    store.record_decisions(decision_write(4))
    assert counts(store)["decisions"] == before["decisions"] + 1
    assert store.group_commit_stats == (1, 1)


def test_a_fully_locked_sqlite_database_refuses_reads(store: Store) -> None:
    store.put_kv("doc", {"n": 1})
    store.journal_decision(decision(1), signal=signal(1), account=account(), market=market(),
                           config_name="test")
    with fully_locked(store):
        for call in (lambda: store.get_kv("doc"), lambda: store.journal(limit=5),
                     store.schema_version, lambda: store.reservations(ACCOUNT)):
            with pytest.raises(StoreUnavailableError) as exc:
                call()
            assert_unavailable(exc, "database is locked")
    assert store.get_kv("doc") == {"n": 1}
    assert len(store.journal(limit=5)) == 1


def test_statement_errors_are_not_outages(store: Store) -> None:
    """A bug (a missing table, bad SQL) keeps its own error: it is no reason to retry."""
    with pytest.raises(OperationalError, match="no such table"), store._read() as conn:
        conn.exec_driver_sql("SELECT * FROM no_such_table")
    with pytest.raises(OperationalError, match="syntax error"), store._write() as conn:
        conn.exec_driver_sql("SELEC 1")


def test_the_reason_is_the_drivers_first_line_without_sql_or_parameters(store: Store) -> None:
    driver = sqlite3.OperationalError("disk I/O error\nsecond line")
    failing = OperationalError("INSERT INTO decisions VALUES (?)", ("param-value",), driver)
    with pytest.raises(StoreUnavailableError) as exc, store._write():
        raise failing  # as a statement inside the transaction would
    assert_unavailable(exc, "disk I/O error")
    for leak in ("INSERT", "param-value", "second line"):
        assert leak not in str(exc.value)
    # readonly, full, cannot open: outages; a generic SQL error: not one
    for text, outage in (("attempt to write a readonly database", True),
                         ("database or disk is full", True),
                         ("unable to open database file", True),
                         ('near "SELEC": syntax error', False)):
        wrapped = OperationalError("SQL", {}, sqlite3.OperationalError(text))
        assert (unavailable_reason(wrapped, sqlite=True) == text) is outage, text


def test_a_pool_with_no_connection_to_give_is_an_outage(sqlite_url: str) -> None:
    engine = sa.create_engine(sqlite_url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    store = Store(engine, config=RiskConfig(), clock=Clock(T0))
    try:
        store.migrate()
        with engine.connect(), pytest.raises(StoreUnavailableError) as exc:
            store.get_kv("doc")  # the pool's only connection is taken
        assert isinstance(exc.value.__cause__, PoolTimeoutError)
        # SQLAlchemy's message, without the link to its documentation it ends with
        assert "Background on this error" in str(exc.value.__cause__)
        assert exc.value.reason == ("QueuePool limit of size 1 overflow 0 reached, "
                                    "connection timed out, timeout 0.05")
        assert store.get_kv("doc") is None  # the connection is back: the read goes through
    finally:
        store.close()


# ---------------------------------------------------------------------- PostgreSQL, the store
@pytest.mark.postgres
def test_a_backend_terminated_mid_transaction_writes_nothing(pg_url: str) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    store = Store.open(pg_url, clock=Clock(T0), migrate=True)
    try:
        before = counts(store)

        def write_and_lose_the_backend() -> None:
            with store._write() as conn:
                conn.execute(sa.insert(t.kv).values(key="half", value={"n": 1},
                                                    updated_at=T0))
                pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
                with admin.connect() as a:
                    assert a.execute(sa.text("SELECT pg_terminate_backend(:p)"),
                                     {"p": pid}).scalar_one() is True
                conn.execute(sa.text("SELECT 1"))

        with pytest.raises(StoreUnavailableError) as exc:
            write_and_lose_the_backend()
        assert_unavailable(exc, "terminating connection due to administrator command")
        assert counts(store) == before
        assert store.get_kv("half") is None
        # the pool dropped the dead connection: the next write succeeds
        store.record_decisions(decision_write(1))
        assert counts(store)["decisions"] == before["decisions"] + 1
    finally:
        store.close()
        admin.dispose()


@pytest.mark.postgres
def test_postgres_statement_errors_and_timeouts(pg_url: str) -> None:
    store = Store.open(pg_url, clock=Clock(T0), migrate=True)
    try:
        with pytest.raises(ProgrammingError), store._read() as conn:
            conn.exec_driver_sql("SELEC 1")

        def too_slow() -> None:
            with store._write() as conn:
                conn.exec_driver_sql("SET LOCAL statement_timeout = 10")
                conn.exec_driver_sql("SELECT pg_sleep(2)")

        # a statement cancelled by statement_timeout (SQLSTATE 57014): retry later
        with pytest.raises(StoreUnavailableError) as exc:
            too_slow()
        assert_unavailable(exc, "canceling statement due to statement timeout")
        assert store.schema_version() == Store.head_version()
    finally:
        store.close()


def test_a_closed_port_is_an_outage_and_the_message_has_no_password() -> None:
    url = "postgresql+psycopg://bot:s3cret-pw@127.0.0.1:1/none?connect_timeout=1"
    with pytest.raises(StoreUnavailableError) as exc:
        Store.open(url, migrate=True)
    assert exc.value.reason.startswith("connection failed:")
    assert "Connection refused" in exc.value.reason
    assert "s3cret-pw" not in str(exc.value)
    # a reason that quotes the password is redacted
    store = Store.open(url)
    try:
        with pytest.raises(StoreUnavailableError) as redacted, store._read():
            pass
        assert "s3cret-pw" not in str(redacted.value)
        driver_says = RuntimeError("password authentication failed: s3cret-pw")
        with pytest.raises(StoreUnavailableError) as quoted:
            store._raise_if_unavailable(OperationalError("SELECT 1", {}, driver_says))
        assert quoted.value.reason == "password authentication failed: ***"
    finally:
        store.close()


# ---------------------------------------------------------------------- the HTTP API
@dataclass
class Outage:
    client: TestClient
    service: Service
    url: str
    trade: str
    read: str
    fresh: str  # a trade key never used before the outage: not in the key cache
    handed_over: list[str]

    def rec(self, key: str, **headers: str) -> Any:
        return self.client.post(URL, json=REC, headers={"X-API-Key": key, **headers})

    def journal(self) -> int:
        return counts(self.service.store)["decisions"]


def _outage_api(url: str, stack: ExitStack, *, busy_timeout_ms: int = BUSY_MS) -> Outage:
    """A seeded paper service on ``url`` with a short busy timeout and a long key cache."""
    clock = Clock(T0)
    paper_service(url, PRICES, markets=MARKETS, starting_cash=Decimal(100000),
                  clock=clock).close()
    config = RiskConfig.load("default")
    store = Store.open(url, config=config, clock=clock, migrate=True,
                       busy_timeout_ms=busy_timeout_ms)
    stack.callback(store.close)
    service = Service(config=config, store=store, broker=open_paper_broker(store),
                      config_name="default", clock=clock, key_cache_seconds=600)
    _, trade = store.create_api_key("bot", ["trade"])
    _, read = store.create_api_key("reader", ["read"])
    _, fresh = store.create_api_key("bot-2", ["trade"])
    app = create_app(service, access_log=False)
    client = stack.enter_context(TestClient(app))
    return Outage(client, service, url, trade, read, fresh, fast_lane_handovers(app))


def _warm(api: Outage) -> None:
    """Verify the trade and read keys once, so that later requests take the fast lane."""
    assert api.rec(api.trade).status_code == 200
    assert api.client.get("/api/capital/state",
                          headers={"X-API-Key": api.read}).status_code == 200
    handed = len(api.handed_over)
    assert api.rec(api.trade).status_code == 200
    assert len(api.handed_over) == handed  # served by the fast lane


def _assert_503(response: Any, detail: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.json() == {"detail": detail}


def _store_unavailable_total(api: Outage) -> float:
    for line in api.client.get("/metrics").text.splitlines():
        if line.startswith("riskdesk_store_unavailable_total "):
            return float(line.split()[1])
    raise AssertionError("riskdesk_store_unavailable_total is not exported")


@pytest.fixture
def outage_api(sqlite_url: str) -> Iterator[Outage]:
    with ExitStack() as stack:
        yield _outage_api(sqlite_url, stack)


def test_api_answers_503_when_the_decision_write_finds_the_database_locked(
        outage_api: Outage) -> None:
    api = outage_api
    _warm(api)
    journaled = api.journal()
    reservations = counts(api.service.store)["reservations"]
    handed = len(api.handed_over)
    with write_locked(api.url):
        # a later request, by the fast lane: the group-committed write fails
        _assert_503(api.rec(api.trade), LOCKED)
        assert len(api.handed_over) == handed
        # a first request (uncached key, by the fast lane too): verifying the key reads,
        # deciding writes, and the write fails
        _assert_503(api.rec(api.fresh), LOCKED)
        assert len(api.handed_over) == handed
        # an idempotent call (by the fast lane too): its key is read, then claimed in the
        # decision's write, which fails
        _assert_503(api.rec(api.trade, **{"Idempotency-Key": "retry-me"}), LOCKED)
        assert len(api.handed_over) == handed
        # a view only reads: it is answered
        view = api.client.get("/api/journal", headers={"X-API-Key": api.read})
        assert view.status_code == 200
        assert len(view.json()["entries"]) == journaled
    assert api.journal() == journaled
    assert counts(api.service.store)["reservations"] == reservations
    assert _store_unavailable_total(api) == 3
    # the database is back: the next requests succeed, the idempotency key was not consumed
    assert api.rec(api.trade).status_code == 200
    again = api.rec(api.trade, **{"Idempotency-Key": "retry-me"})
    assert again.status_code == 200
    assert "idempotent-replayed" not in again.headers
    assert api.journal() == journaled + 2


def test_api_answers_503_when_the_database_cannot_be_read(outage_api: Outage) -> None:
    api = outage_api
    _warm(api)
    journaled = api.journal()
    handed = len(api.handed_over)
    with fully_locked(api.service.store):
        _assert_503(api.rec(api.trade), LOCKED)  # fast lane
        assert len(api.handed_over) == handed
        # the lane cannot verify the key and hands over; the route answers
        _assert_503(api.rec(api.fresh), LOCKED)
        assert len(api.handed_over) == handed + 1
        for view in ("/api/journal", "/api/capital/history?hours=24"):
            _assert_503(api.client.get(view, headers={"X-API-Key": api.read}), LOCKED)
        health = api.client.get("/healthz")
        assert health.status_code == 503
        assert health.json() == {"detail": f"unhealthy: {LOCKED}"}
    assert _store_unavailable_total(api) == 4  # the API's 503s; /healthz is a probe
    assert api.journal() == journaled
    assert api.client.get("/healthz").status_code == 200
    assert api.rec(api.fresh).status_code == 200
    assert api.journal() == journaled + 1


# ---------------------------------------------------------------------- PostgreSQL behind a relay
class Relay:
    """A TCP relay to PostgreSQL that the test can cut (an outage) and restore.

    Cutting closes the listening socket and every relayed connection: the server then looks
    down to the service (refused connections, dropped sessions) while it keeps running for
    everybody else.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._open: list[socket.socket] = []
        self._guard = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # Wait for the acceptor to leave accept(): until then the port still listens.
            assert self._acceptor is not None
            self._acceptor.join()
            listener.close()
        with self._guard:
            sockets, self._open = self._open, []
        for s in sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            server = socket.create_connection(self.target)
            with self._guard:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                dst.shutdown(socket.SHUT_WR)


@pytest.mark.postgres
def test_api_answers_503_while_postgres_is_down_and_recovers(pg_url: str) -> None:
    parsed = make_url(pg_url)
    relay = Relay((parsed.host or "127.0.0.1", parsed.port or 5432))
    relay.start()
    url = parsed.set(port=relay.port, query={"connect_timeout": "2"}) \
        .render_as_string(hide_password=False)
    with ExitStack() as stack:
        stack.callback(relay.cut)
        api = _outage_api(url, stack)
        _warm(api)
        journaled = api.journal()
        handed = len(api.handed_over)
        relay.cut()
        refused = api.rec(api.trade)  # fast lane
        assert len(api.handed_over) == handed
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1"
        detail = refused.json()["detail"]
        assert detail.startswith("store unavailable: connection failed:")
        assert f"port {relay.port} failed: Connection refused" in detail
        first = api.rec(api.fresh)  # the key cannot be verified: the route answers
        assert first.status_code == 503
        assert first.json() == {"detail": detail}
        view = api.client.get("/api/journal", headers={"X-API-Key": api.read})
        assert view.status_code == 503
        assert view.headers["retry-after"] == "1"
        assert _store_unavailable_total(api) == 3
        relay.start()  # the database is back, on the same address
        assert api.rec(api.trade).status_code == 200
        back = api.client.get("/api/journal", headers={"X-API-Key": api.read})
        assert back.status_code == 200
        assert len(back.json()["entries"]) == journaled + 1


# ---------------------------------------------------------------------- the command line
runner = CliRunner()


def test_cli_exits_3_with_one_line_when_postgres_is_unreachable() -> None:
    r = runner.invoke(cli_app, ["state", "--db",
                                "postgresql+psycopg://bot:s3cret-pw@127.0.0.1:1/none"
                                "?connect_timeout=1"])
    assert r.exit_code == 3, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("store unavailable: connection failed: connection to server")
    assert "s3cret-pw" not in r.output
    assert "Traceback" not in r.output


def test_cli_exits_3_when_the_sqlite_file_cannot_be_opened(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()  # a directory where the database file should be
    r = runner.invoke(cli_app, ["journal", "tail", "--db", f"sqlite:///{directory}"])
    assert r.exit_code == 3, r.output
    assert r.output.strip() == "store unavailable: unable to open database file"
