from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from store_support import Clock, account

from riskdesk.config import CapitalStatus, RiskConfig
from riskdesk.domain import Position, Side
from riskdesk.errors import InvalidInputError
from riskdesk.store import CapitalHealth, Store, capital_health
from riskdesk.store import _tables as t

D = Decimal
# A Friday evening, so that the tests cross a day and a week boundary.
FRI = datetime(2026, 1, 9, 22, 0, tzinfo=UTC)


@pytest.fixture
def store(db_url: str) -> Any:
    s = Store.open(db_url, clock=Clock(FRI), migrate=True)
    yield s
    s.close()


@pytest.mark.parametrize(("pct", "status"), [
    (0.0, CapitalHealth.HEALTHY), (0.16, CapitalHealth.HEALTHY),
    (0.4999, CapitalHealth.HEALTHY), (0.50, CapitalHealth.WARNING),
    (0.7499, CapitalHealth.WARNING), (0.75, CapitalHealth.CRITICAL),
    (0.8999, CapitalHealth.CRITICAL), (0.90, CapitalHealth.EMERGENCY),
    (1.5, CapitalHealth.EMERGENCY),
])
def test_capital_status_thresholds(pct: float, status: CapitalHealth) -> None:
    assert capital_health(pct, RiskConfig().capital_status) is status


@given(st.floats(0, 2), st.floats(0, 2))
def test_capital_status_is_monotone(a: float, b: float) -> None:
    th = CapitalStatus(warning=0.3, critical=0.6, emergency=0.8)
    order = list(CapitalHealth)
    lo, hi = sorted((a, b))
    assert order.index(capital_health(lo, th)) <= order.index(capital_health(hi, th))


def test_seed_001_capital_state(store: Store) -> None:
    # Seed 001's example: wallet 5000, available 4200, margin 800 (16%), uPnL -50.
    acct = account("4950", available=D(4200), margin_used=D(800), unrealized_pnl=D(-50),
                   buying_power=D(25000))
    snap = store.record_capital(acct, at=FRI)
    assert snap["total_wallet_balance"] == D(5000)
    assert snap["available_balance"] == D(4200)
    assert snap["margin_used"] == D(800)
    assert snap["buying_power"] == D(25000)
    assert snap["capital_status"] == "HEALTHY"
    assert snap["margin_used_pct"] == pytest.approx(800 / 4950)
    assert store.latest_capital() == snap


def test_high_water_mark_drawdown_and_period_starts(store: Store) -> None:
    pos = Position("BTCUSDT", Side.LONG, D("0.1"), D(40000), mark_price=D(41000))
    steps = [  # (hours after Friday 22:00, equity)
        (0, "10000"), (1, "11000"), (2.5, "10500"),  # Saturday 00:30: a new day
        (26.5, "9900"),  # Sunday
        (50.5, "9000"),  # Monday 00:30: a new ISO week
        (51, "9500"),
    ]
    snaps = [store.record_capital(account(eq, positions=(pos,)),
                                  at=FRI + timedelta(hours=h)) for h, eq in steps]
    assert [s["high_water_mark"] for s in snaps] == [D(10000)] + [D(11000)] * 5
    assert snaps[2]["drawdown"] == pytest.approx(1 - 10500 / 11000)
    assert [s["day_start_equity"] for s in snaps] == [D(10000), D(10000), D(10500),
                                                      D(9900), D(9000), D(9000)]
    assert [s["week_start_equity"] for s in snaps] == [D(10000)] * 4 + [D(9000)] * 2
    assert snaps[-1]["daily_pnl_pct"] == pytest.approx(9500 / 9000 - 1)
    assert snaps[-1]["gross_exposure"] == D(4100)
    assert snaps[-1]["open_positions"] == 1


def test_account_high_water_mark_is_kept_when_higher(store: Store) -> None:
    snap = store.record_capital(account("10000", high_water_mark=D(12500)), at=FRI)
    assert snap["high_water_mark"] == D(12500)
    assert snap["drawdown"] == pytest.approx(0.2)


def test_status_uses_configured_thresholds(db_url: str) -> None:
    cfg = RiskConfig.from_mapping({"capital_status": {"warning": 0.1, "critical": 0.2,
                                                      "emergency": 0.3}}, env={})
    with Store.open(db_url, config=cfg, migrate=True) as store:
        snap = store.record_capital(account("1000", margin_used=D(250)), at=FRI)
    assert snap["capital_status"] == "CRITICAL"


def test_history_range_and_restart(db_url: str) -> None:
    with Store.open(db_url, migrate=True) as store:
        for h in range(6):
            store.record_capital(account(str(10000 + 100 * h)), at=FRI + timedelta(hours=h))
    with Store.open(db_url) as store:  # a restart keeps the history and the mark
        hist = store.capital_history(FRI + timedelta(hours=1), FRI + timedelta(hours=4))
        assert [h["equity"] for h in hist] == [D(10100), D(10200), D(10300)]
        assert store.capital_history(FRI + timedelta(hours=4))[-1]["equity"] == D(10500)
        snap = store.record_capital(account("10000"), at=FRI + timedelta(hours=7))
        assert snap["high_water_mark"] == D(10500)
        latest = store.latest_capital()
        assert latest is not None
        assert latest["at"] == FRI + timedelta(hours=7)


def test_out_of_order_and_bad_input_write_nothing(store: Store) -> None:
    store.record_capital(account("10000"), at=FRI)
    with pytest.raises(InvalidInputError, match="latest capital snapshot") as info:
        store.record_capital(account("10000"), at=FRI - timedelta(seconds=1))
    assert info.value.field == "at"
    with pytest.raises(InvalidInputError) as info:
        store.record_capital(account("10000"), at=FRI.replace(tzinfo=None))
    assert info.value.field == "at"
    with pytest.raises(InvalidInputError) as info:
        store.record_capital({"equity": 1}, at=FRI)  # type: ignore[arg-type]
    assert info.value.field == "account"
    with pytest.raises(InvalidInputError, match="until"):
        store.capital_history(FRI, FRI - timedelta(hours=1))
    with store.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(t.capital_snapshots)).scalar()
    assert n == 1


def test_empty_store_has_no_capital(store: Store) -> None:
    assert store.latest_capital() is None
    assert store.capital_history(FRI) == []
