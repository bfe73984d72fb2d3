from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from store_support import T0

from riskdesk.errors import ConflictError, InvalidInputError
from riskdesk.store import Store, shrunk_stats

D = Decimal
pnls = st.lists(st.decimals(-1000, 1000, places=2, allow_nan=False), max_size=80)


def _fill(store: Store, fill_id: str, pnl: Decimal | None = None, *, strategy: str = "mom",
          symbol: str = "BTCUSDT", qty: str = "0.5", k: int = 0) -> bool:
    return store.record_fill(fill_id, symbol, "SELL" if pnl is not None else "BUY", D(qty),
                             D("43000.5"), D("1.25"), strategy, T0 + timedelta(seconds=k),
                             realized_pnl=pnl)


def test_duplicate_fill_applied_once(store: Store) -> None:
    assert _fill(store, "f1") is True
    assert _fill(store, "f1") is False
    fills = store.fills()
    assert len(fills) == 1
    assert fills[0]["quantity"] == D("0.5")
    assert fills[0]["side"] == "BUY"
    assert fills[0]["at"] == T0
    with pytest.raises(ConflictError, match="quantity"):
        _fill(store, "f1", qty="0.6")
    assert len(store.fills()) == 1


@pytest.mark.parametrize(("args", "field"), [
    ({"qty": D("NaN")}, "qty"), ({"qty": D(0)}, "qty"), ({"price": D(-1)}, "price"),
    ({"fee": float("inf")}, "fee"), ({"side": "HOLD"}, "side"), ({"fill_id": ""}, "fill_id"),
    ({"at": T0.replace(tzinfo=None)}, "at"), ({"realized_pnl": D("sNaN")}, "realized_pnl"),
])
def test_bad_fill_writes_nothing(sqlite_store: Store, args: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {"fill_id": "f", "symbol": "X", "side": "BUY", "qty": D(1),
                            "price": D(1), "fee": D(0), "strategy": None, "at": T0}
    base.update(args)
    with pytest.raises(InvalidInputError) as info:
        sqlite_store.record_fill(**base)
    assert info.value.field == field
    assert sqlite_store.fills() == []


def test_fill_filters(store: Store) -> None:
    _fill(store, "a", strategy="mom", symbol="BTCUSDT", k=1)
    _fill(store, "b", strategy="rev", symbol="ETHUSDT", k=2)
    _fill(store, "c", strategy="mom", symbol="ETHUSDT", k=3)
    assert [f["fill_id"] for f in store.fills(strategy="mom")] == ["a", "c"]
    assert [f["fill_id"] for f in store.fills(symbol="ETHUSDT")] == ["b", "c"]
    assert [f["fill_id"] for f in store.fills(since=T0 + timedelta(seconds=2))] == ["b", "c"]


def test_trade_stats_from_fills(store: Store) -> None:
    outcomes = [D(120), D(-60), D(90), D(-30), D(0), D(150)]
    for i, p in enumerate(outcomes):
        _fill(store, f"close-{i}", p, k=i)
        _fill(store, f"open-{i}", None, k=i)
    _fill(store, "other", D(-500), strategy="rev", k=9)
    _fill(store, "close-0", D(120), k=0)  # a duplicate report changes nothing
    s = store.trade_stats("mom", min_trades=5, prior_weight=0)
    assert (s.n, s.wins, s.losses) == (6, 3, 2)
    assert s.raw_win_rate == pytest.approx(3 / 6)
    assert s.raw_win_loss_ratio == pytest.approx(120 / 45)
    assert s.win_rate == pytest.approx(0.5)
    assert s.win_loss_ratio == pytest.approx(120 / 45)
    assert s.sufficient
    shrunk = store.trade_stats("mom", prior_win_rate=0.4, prior_win_loss_ratio=1.0,
                               prior_weight=20)
    assert shrunk.win_rate == pytest.approx((3 + 0.4 * 20) / 26)
    assert shrunk.win_loss_ratio == pytest.approx((2 * 120 / 45 + 20) / 22)
    assert not shrunk.sufficient
    assert store.trade_stats(symbol="BTCUSDT").n == 7
    assert store.trade_stats("nobody").n == 0


def test_no_history_gives_the_prior() -> None:
    s = shrunk_stats([], prior_win_rate=0.55, prior_win_loss_ratio=1.4)
    assert (s.win_rate, s.win_loss_ratio) == (0.55, 1.4)
    assert s.raw_win_rate is None
    assert s.raw_win_loss_ratio is None
    assert not s.sufficient


@given(pnls, st.floats(0, 1), st.floats(0.1, 5), st.floats(0, 100))
def test_shrunk_estimates_lie_between_raw_and_prior(values: list[Decimal], p: float, r: float,
                                                    w: float) -> None:
    s = shrunk_stats(values, prior_win_rate=p, prior_win_loss_ratio=r, prior_weight=w)
    if s.raw_win_rate is not None:
        lo, hi = sorted((s.raw_win_rate, p))
        assert lo - 1e-12 <= s.win_rate <= hi + 1e-12
    else:
        assert s.win_rate == p
    if s.raw_win_loss_ratio is not None:
        lo, hi = sorted((s.raw_win_loss_ratio, r))
        assert lo * (1 - 1e-12) <= s.win_loss_ratio <= hi * (1 + 1e-12)
    else:
        assert s.win_loss_ratio == r
    assert s.n == len(values)
    assert s.wins + s.losses <= s.n


@given(st.integers(1, 40), st.integers(1, 40))
def test_more_history_moves_away_from_the_prior(wins: int, losses: int) -> None:
    small = shrunk_stats([D(2)] * wins + [D(-1)] * losses, prior_weight=20)
    big = shrunk_stats([D(2)] * (wins * 10) + [D(-1)] * (losses * 10), prior_weight=20)
    raw = wins / (wins + losses)
    assert abs(big.win_rate - raw) <= abs(small.win_rate - raw) + 1e-12
    assert abs(big.win_loss_ratio - 2.0) <= abs(small.win_loss_ratio - 2.0) + 1e-12


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"min_trades": -1}, "min_trades"), ({"prior_win_rate": 1.5}, "prior_win_rate"),
    ({"prior_win_loss_ratio": 0}, "prior_win_loss_ratio"), ({"prior_weight": -1},
                                                            "prior_weight"),
    ({"prior_weight": float("nan")}, "prior_weight"),
])
def test_bad_priors(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        shrunk_stats([D(1)], **kwargs)
    assert info.value.field == field
