"""opener_counts spells out Hold.counts: both must say which holds count, for any holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from riskdesk.store._holds import Hold, held, opener_counts

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
_offsets = st.integers(-5, 5).map(lambda s: NOW + timedelta(seconds=s))
_holds = st.lists(st.builds(
    Hold, notional=st.just(Decimal(100)), margin=st.just(Decimal(25)),
    tier=st.sampled_from([None, "CORE"]), active=st.booleans(), expires_at=_offsets,
    confirmed_at=st.none() | _offsets, symbol=st.sampled_from(["AAPL", "MSFT", "IBM"]),
    created_at=st.none() | _offsets), max_size=12)


@given(_holds, st.none() | _offsets, _offsets)
def test_opener_counts_agrees_with_hold_counts(holds: list[Hold], as_of: datetime | None,
                                               since: datetime) -> None:
    symbols, opened = opener_counts(holds, NOW, as_of, since)
    assert symbols == {h.symbol for h in holds if h.counts(NOW, as_of)}
    assert opened == sum(1 for h in holds if h.created_at is not None
                         and h.created_at >= since and (not h.active or h.expires_at > NOW))
    counting = [h for h in holds if h.counts(NOW, as_of)]
    assert held(holds, NOW, as_of, "CORE") == (
        sum((h.notional for h in counting), Decimal(0)),
        sum((h.margin for h in counting), Decimal(0)),
        sum((h.notional for h in counting if h.tier == "CORE"), Decimal(0)))
