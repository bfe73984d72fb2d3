from __future__ import annotations

from decimal import Decimal

import pytest

from riskdesk.config import MarginZones
from riskdesk.domain import AccountState, MarketRules, Position
from riskdesk.errors import InvalidInputError
from riskdesk.limits import MarginZone, margin_status, margin_zone

CFG = MarginZones()


@pytest.mark.parametrize(("used", "zone"), [
    (0.0, MarginZone.GREEN), (0.4999, MarginZone.GREEN), (0.50, MarginZone.YELLOW),
    (0.7499, MarginZone.YELLOW), (0.75, MarginZone.ORANGE), (0.8999, MarginZone.ORANGE),
    (0.90, MarginZone.RED), (1.3, MarginZone.RED),
])
def test_zone_boundaries_include_their_lower_bound(used, zone):
    assert margin_zone(used, CFG) is zone


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_zone_rejects_unusable_margin(bad):
    with pytest.raises(InvalidInputError, match="margin_used_pct"):
        margin_zone(bad, CFG)


def _account(used: float, positions=()) -> AccountState:
    return AccountState(equity=Decimal(10_000), available=Decimal(10_000) - Decimal(repr(used)),
                        margin_used=Decimal(repr(used)), positions=tuple(positions))


def test_green_allows_entries_and_asks_nothing():
    s = margin_status(_account(1_600), CFG)
    assert (s.zone, s.entries_allowed, s.actions) == (MarginZone.GREEN, True, ())
    assert s.margin_used_pct == pytest.approx(0.16)
    assert s.free_margin_pct == pytest.approx(0.84)


def test_yellow_pauses_entries_without_actions():
    s = margin_status(_account(6_000, [Position("BTC", "LONG", 1, 30_000, leverage=5)]), CFG)
    assert s.zone is MarginZone.YELLOW
    assert not s.entries_allowed
    assert s.actions == ()


def test_orange_reduces_every_position_by_thirty_percent():
    positions = [Position("BTC", "LONG", Decimal("1.5"), 30_000, leverage=6),
                 Position("ETH", "SHORT", Decimal("7"), 3_000, leverage=7)]
    s = margin_status(_account(8_000, positions), CFG)
    assert s.zone is MarginZone.ORANGE
    assert [(a.symbol, a.action, a.quantity) for a in s.actions] == [
        ("BTC", "REDUCE", Decimal("0.45")), ("ETH", "REDUCE", Decimal("2.1"))]


def test_orange_reductions_round_up_onto_the_market_step():
    positions = [Position("BTC", "LONG", Decimal("1.5"), 30_000, leverage=6)]
    rules = {"BTC": MarketRules("BTC", step="0.1", tick="0.1")}
    s = margin_status(_account(8_000, positions), CFG, rules=rules)
    assert s.actions[0].quantity == Decimal("0.5")


def test_red_closes_worst_positions_until_back_at_target():
    # 9,500 used of 10,000: closing must free at least 2,000 to get to 75%.
    positions = [
        Position("WIN", "LONG", 1, 1_000, mark_price=1_200, leverage=1),      # margin 1,200
        Position("LOSE1", "LONG", 1, 2_000, mark_price=1_500, leverage=1),    # -25%, margin 1,500
        Position("LOSE2", "SHORT", 1, 1_000, mark_price=1_100, leverage=1),   # -9%, margin 1,100
        Position("FLAT", "LONG", 1, 5_700, leverage=1),                       # 0%, margin 5,700
    ]
    s = margin_status(_account(9_500, positions), CFG)
    assert s.zone is MarginZone.RED
    assert [(a.symbol, a.action) for a in s.actions] == [("LOSE1", "CLOSE"), ("LOSE2", "CLOSE")]
    assert all(a.quantity == 1 for a in s.actions)


def test_status_is_json_ready():
    positions = [Position("BTC", "LONG", Decimal("1.5"), 30_000, leverage=6)]
    d = margin_status(_account(8_000, positions), CFG).to_dict()
    assert d["zone"] == "ORANGE"
    assert d["actions"][0] == {"symbol": "BTC", "action": "REDUCE", "quantity": "0.45",
                               "note": d["actions"][0]["note"]}
