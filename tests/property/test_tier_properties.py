"""Capital tiers: the desk's float room equals allocation's Decimal budget."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from riskdesk import AccountState, Position, RiskConfig
from riskdesk.allocation import (
    DEFAULT_TIERS,
    tier_budgets,
    tier_exposures,
    tier_members,
    tier_rooms,
    tiers_from_config,
)
from riskdesk.limits import tier_margin_rooms

CRYPTO = RiskConfig.preset("crypto-capital-manager", env={}).capital_tiers
SPECS = tiers_from_config(CRYPTO)
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ADAUSDT", "DOGEUSDT", "PEPEUSDT", "BTC-PERP"]
cents = st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c) / 100)


@given(st.integers(min_value=1, max_value=10**9).map(lambda c: Decimal(c) / 100),
       st.lists(cents, min_size=3, max_size=3), st.one_of(st.none(), cents))
def test_tier_rooms_equal_tier_budgets(equity: Decimal, used: list[Decimal],
                                       available: Decimal | None) -> None:
    usage = dict(zip(("CORE", "GROWTH", "OPPORTUNITY"), used, strict=True))
    exact = tier_budgets(equity, usage, available=available)
    rooms = tier_rooms(float(equity), {k: float(v) for k, v in usage.items()}, DEFAULT_TIERS,
                       available=None if available is None else float(available))
    scale = float(equity) + sum(float(u) for u in used) + float(available or 0)
    for name, budget in exact.items():
        assert rooms[name] >= 0.0
        assert abs(rooms[name] - float(budget.remaining)) <= 1e-12 * scale + 1e-9


@given(st.dictionaries(st.sampled_from(SYMBOLS),
                       st.tuples(st.integers(1, 10**7), st.sampled_from([1, 3, 5, 10])),
                       max_size=len(SYMBOLS)),
       st.integers(min_value=1_000, max_value=10**7))
def test_the_desk_limit_reads_allocations_membership_and_budget(
        held: dict[str, tuple[int, int]], equity: int) -> None:
    positions = tuple(Position(sym, "LONG", Decimal(n), Decimal(1), leverage=lev)
                      for sym, (n, lev) in held.items())
    account = AccountState(equity=Decimal(equity), available=Decimal(equity), positions=positions)
    margin = {p.symbol: p.margin for p in positions}
    used = tier_exposures(margin, SPECS, default=CRYPTO.default_tier)
    exact = tier_budgets(account.equity, used, SPECS, available=account.available)
    by_symbol = {p.symbol: float(p.notional) / float(p.leverage) for p in positions}
    rooms = tier_margin_rooms(by_symbol, float(equity), float(equity), SPECS,
                              tier_members(SPECS), CRYPTO.default_tier)
    assert list(rooms) == [t.name for t in SPECS]
    for name, (spec, room) in rooms.items():
        assert spec.name == name
        assert abs(room - float(exact[name].remaining)) <= 1e-9 * equity
