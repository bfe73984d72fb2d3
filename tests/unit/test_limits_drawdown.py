from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from riskdesk.config import Drawdown
from riskdesk.domain import AccountState, ReasonCode
from riskdesk.errors import InvalidInputError
from riskdesk.limits import BreakerState, DrawdownLevel, drawdown_level, drawdown_status

NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
CFG = Drawdown()


def _acct(dd: float, *, day: float = 0.0, week: float = 0.0) -> AccountState:
    equity = Decimal(10_000)
    hwm = equity / (1 - Decimal(repr(dd)))
    return AccountState(equity=equity, available=equity, high_water_mark=hwm,
                        day_start_equity=equity / (1 + Decimal(repr(day))),
                        week_start_equity=equity / (1 + Decimal(repr(week))))


@pytest.mark.parametrize(("dd", "level", "mult", "cut", "force"), [
    (0.0, DrawdownLevel.NORMAL, 1.0, 0.0, False),
    (0.049, DrawdownLevel.NORMAL, 1.0, 0.0, False),
    (0.05, DrawdownLevel.LIGHT, 0.7, 2.0, False),
    (0.099, DrawdownLevel.LIGHT, 0.7, 2.0, False),
    (0.10, DrawdownLevel.MODERATE, 0.5, 5.0, False),
    (0.199, DrawdownLevel.MODERATE, 0.5, 5.0, False),
    (0.20, DrawdownLevel.HEAVY, 0.25, 0.0, True),
    (0.45, DrawdownLevel.HEAVY, 0.25, 0.0, True),
])
def test_levels_multipliers_and_leverage_follow_seed_001(dd, level, mult, cut, force):
    s = drawdown_status(_acct(dd), BreakerState(), NOW, CFG, DrawdownLevel.HEAVY
                        if level is DrawdownLevel.HEAVY else None)
    assert s.level is level
    assert s.drawdown == pytest.approx(dd)
    assert s.size_multiplier == mult
    assert s.leverage_reduction == cut
    assert s.force_min_leverage is force


def test_heavy_drawdown_trips_the_breaker_for_24_hours():
    s = drawdown_status(_acct(0.21), BreakerState(), NOW, CFG, DrawdownLevel.MODERATE)
    assert s.breaker_tripped_now
    assert s.breaker.tripped
    assert s.breaker.tripped_at == NOW
    assert s.breaker.until == NOW + timedelta(hours=24)
    assert "heavy drawdown" in (s.breaker.reason or "")
    assert ReasonCode.BREAKER_TRIPPED in s.reasons
    assert not s.entries_allowed


def test_breaker_holds_until_its_time_passes():
    tripped = BreakerState().trip(NOW, 24, "test")
    just_before = drawdown_status(_acct(0.21), tripped, NOW + timedelta(hours=23, minutes=59),
                                  CFG, DrawdownLevel.HEAVY)
    assert not just_before.entries_allowed
    after = drawdown_status(_acct(0.21), tripped, NOW + timedelta(hours=24), CFG,
                            DrawdownLevel.HEAVY)
    assert after.entries_allowed
    assert not after.breaker_tripped_now
    assert after.size_multiplier == 0.25


def test_a_reset_breaker_does_not_trip_again_while_still_heavy():
    reset = BreakerState().trip(NOW, 24, "test").reset(operator="risk", note="checked",
                                                         now=NOW + timedelta(hours=1))
    assert not reset.tripped
    assert reset.reset_by == "risk"
    assert reset.tripped_at == NOW
    s = drawdown_status(_acct(0.25), reset, NOW + timedelta(hours=2), CFG, DrawdownLevel.HEAVY)
    assert s.entries_allowed
    assert not s.breaker_tripped_now


def test_reentering_heavy_trips_again():
    reset = BreakerState().trip(NOW, 24, "test").reset(operator="risk", note="ok", now=NOW)
    s = drawdown_status(_acct(0.25), reset, NOW, CFG, DrawdownLevel.MODERATE)
    assert s.breaker_tripped_now


def test_zero_pause_holds_until_an_operator_resets():
    cfg = Drawdown(breaker_pause_hours=0)
    s = drawdown_status(_acct(0.3), BreakerState(), NOW, cfg)
    assert s.breaker.until is None
    assert s.breaker.is_active(NOW + timedelta(days=365))


def test_breaker_off_never_trips():
    s = drawdown_status(_acct(0.3), BreakerState(), NOW, Drawdown(breaker_on_heavy=False))
    assert not s.breaker.tripped
    assert s.entries_allowed
    assert s.reasons == (ReasonCode.DRAWDOWN_HEAVY,)


def test_recovery_steps_back_one_level_at_a_time_past_a_buffer():
    # Fully recovered equity, but the desk last recorded MODERATE.
    s = drawdown_status(_acct(0.0), BreakerState(), NOW, CFG, DrawdownLevel.MODERATE)
    assert s.level is DrawdownLevel.LIGHT
    assert s.size_multiplier == 0.7
    # Inside the buffer below the moderate threshold: stays MODERATE.
    held = drawdown_status(_acct(0.09), BreakerState(), NOW, CFG, DrawdownLevel.MODERATE)
    assert held.level is DrawdownLevel.MODERATE
    # From LIGHT to NORMAL the multiplier rises by at most recovery_step.
    last = drawdown_status(_acct(0.0), BreakerState(), NOW, CFG, DrawdownLevel.LIGHT)
    assert last.level is DrawdownLevel.NORMAL
    assert last.size_multiplier == pytest.approx(min(1.0, 0.7 + CFG.recovery_step))


def test_deepening_never_waits_for_hysteresis():
    s = drawdown_status(_acct(0.15), BreakerState(), NOW, CFG, DrawdownLevel.LIGHT)
    assert s.level is DrawdownLevel.MODERATE


def test_daily_and_weekly_loss_limits_deny_entries():
    cfg = Drawdown(daily_loss_limit_pct=0.03, weekly_loss_limit_pct=0.08)
    ok = drawdown_status(_acct(0.0, day=-0.029, week=-0.079), BreakerState(), NOW, cfg)
    assert ok.entries_allowed
    assert ok.reasons == ()
    day = drawdown_status(_acct(0.0, day=-0.03), BreakerState(), NOW, cfg)
    assert day.reasons == (ReasonCode.DAILY_LOSS_LIMIT,)
    assert not day.entries_allowed
    week = drawdown_status(_acct(0.0, week=-0.1), BreakerState(), NOW, cfg)
    assert week.reasons == (ReasonCode.WEEKLY_LOSS_LIMIT,)
    assert week.weekly_pnl_pct == pytest.approx(-0.1)


@pytest.mark.parametrize(("dd", "level"), [(0.0, "NORMAL"), (0.07, "LIGHT"), (0.12, "MODERATE"),
                                           (0.2, "HEAVY")])
def test_drawdown_level_function(dd, level):
    assert drawdown_level(dd, CFG).value == level


def test_breaker_round_trips_through_json():
    b = BreakerState().trip(NOW, 24, "heavy").reset(operator="ann", note="manual", now=NOW)
    assert BreakerState.from_dict(b.to_dict()) == b
    assert BreakerState.from_dict(BreakerState().to_dict()) == BreakerState()


@pytest.mark.parametrize(("data", "field"), [
    ({"tripped": "yes"}, "breaker.tripped"),
    ({"until": "tomorrow"}, "breaker.until"),
    ({"until": "2025-01-01T00:00:00"}, "breaker.until"),
    ({"bogus": 1}, "breaker"),
])
def test_breaker_from_bad_dict_names_the_field(data, field):
    with pytest.raises(InvalidInputError) as err:
        BreakerState.from_dict(data)
    assert err.value.field == field


def test_naive_time_is_rejected():
    with pytest.raises(InvalidInputError, match="now"):
        drawdown_status(_acct(0.0), BreakerState(), datetime(2025, 1, 1), CFG)
    with pytest.raises(InvalidInputError, match="operator"):
        BreakerState().reset(operator=" ", note="", now=NOW)
