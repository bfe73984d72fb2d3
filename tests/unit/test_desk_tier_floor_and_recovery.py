"""Two fail-closed rules of the desk.

An account below the smallest account tier is refused new risk whatever the sizing method
(it would otherwise escape the small tier's limits), and drawdown recovery raises the size
multiplier by at most ``drawdown.recovery_step`` per evaluation, whatever the step.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preset_support import preset_with as _cfg
from riskdesk import (
    AccountState,
    Action,
    MarketRules,
    MarketSnapshot,
    Position,
    ReasonCode,
    RiskConfig,
    Signal,
)
from riskdesk.desk import Desk, DeskState
from riskdesk.errors import InvalidInputError
from riskdesk.limits import BreakerState, DrawdownLevel, drawdown_status, level_multiplier

NOW = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
R = ReasonCode
METHODS = ("fixed_fraction", "account_profile", "kelly", "conviction", "capital_scaling",
           "volatility_target", "stop_risk")


def _account(equity: float, *, hwm: float | None = None, at: datetime = NOW,
             positions: tuple[Position, ...] = ()) -> AccountState:
    return AccountState(equity=Decimal(repr(equity)), available=Decimal(repr(equity)),
                        high_water_mark=None if hwm is None else Decimal(repr(hwm)),
                        positions=positions, as_of=at)


def _market(symbol: str = "SOLUSDT", at: datetime = NOW) -> MarketSnapshot:
    rules = MarketRules(symbol, step="0.0001", tick="0.01", max_leverage=125)
    return MarketSnapshot(rules, price=Decimal(100), bid=Decimal("99.99"),
                          ask=Decimal("100.01"), atr=Decimal(2), as_of=at)


def _signal(symbol: str = "SOLUSDT", side: str = "LONG", **kw: Any) -> Signal:
    kw.setdefault("score", 85)
    kw.setdefault("strength", 0.5)
    kw.setdefault("win_rate", 0.6)
    kw.setdefault("win_loss_ratio", 2.0)
    return Signal(symbol, side, **kw)


# --------------------------------------------------------------------------- tier floor

@pytest.mark.parametrize("method", METHODS)
def test_an_account_below_the_smallest_tier_is_refused_whatever_the_method(method: str) -> None:
    # crypto-capital-manager's small tier starts at $100 and trades BTC and ETH only. A $50
    # account must not get looser limits than a $100 one (which is refused SOLUSDT).
    desk = Desk(_cfg("crypto-capital-manager", position_sizing={"method": method}))
    sig = _signal(stop_price=Decimal(95))
    at_floor = desk.recommend(sig, _account(100), _market(), now=NOW)
    assert at_floor.action is Action.REJECT
    assert at_floor.reasons == (R.RESTRICTED_SYMBOL,)
    below = desk.recommend(sig, _account(50), _market(), now=NOW)
    assert below.action is Action.REJECT
    assert below.reasons == (R.ACCOUNT_PROFILE,)
    assert below.quantity == 0
    note = next(a.note for a in below.trail if a.code is R.ACCOUNT_PROFILE)
    assert "50.00" in note
    assert "100.00" in note
    # The batch path gives the same answer.
    batch = desk.recommend_batch([sig], _account(50), [_market()], now=NOW)
    assert batch.action_of(0) is Action.REJECT
    assert batch.reasons_of(0) == (R.ACCOUNT_PROFILE,)


@pytest.mark.parametrize("method", ["fixed_fraction", "kelly", "capital_scaling"])
def test_the_floor_holds_for_a_symbol_the_small_tier_allows_too(method: str) -> None:
    desk = Desk(_cfg("crypto-capital-manager", position_sizing={"method": method}))
    sigs = [_signal("BTCUSDT"), _signal("ETHUSDT", "SHORT")]
    mkts = [_market("BTCUSDT"), _market("ETHUSDT")]
    for sig, mkt in zip(sigs, mkts, strict=True):
        d = desk.recommend(sig, _account(99.99), mkt, now=NOW)
        assert (d.action, d.reasons) == (Action.REJECT, (R.ACCOUNT_PROFILE,))
        assert desk.recommend(sig, _account(100), mkt, now=NOW).approved
    batch = desk.recommend_batch(sigs, _account(99.99), mkts, now=NOW)
    assert [batch.reasons_of(i) for i in range(2)] == [(R.ACCOUNT_PROFILE,)] * 2


def test_the_default_preset_has_the_same_floor() -> None:
    # default uses the configuration's own tiers (small from $100).
    desk = Desk(_cfg("default", risk_management={"min_notional_opener": 0},
                     position_sizing={"min_trade_size": 0}))
    mkt = MarketSnapshot(MarketRules("AAPL", step="0.0001", tick="0.01"), price=Decimal(100),
                         bid=Decimal("99.99"), ask=Decimal("100.01"), as_of=NOW)
    d = desk.recommend(Signal("AAPL", "LONG"), _account(50), mkt, now=NOW)
    assert d.reasons == (R.ACCOUNT_PROFILE,)


def test_a_reducer_below_the_smallest_tier_still_passes() -> None:
    desk = Desk(_cfg("crypto-capital-manager", position_sizing={"method": "fixed_fraction"}))
    held = Position("SOLUSDT", "LONG", Decimal("0.2"), 100)
    acct = _account(50, positions=(held,))
    for sig in (_signal("SOLUSDT", "SHORT"), _signal("SOLUSDT", "LONG", reduce_only=True)):
        d = desk.recommend(sig, acct, _market(), now=NOW)
        assert d.approved
        assert R.ACCOUNT_PROFILE not in d.reasons
        assert d.quantity == Decimal("0.2")
        batch = desk.recommend_batch([sig], acct, [_market()], now=NOW)
        assert batch.action_of(0) is d.action


def test_plan_openers_below_the_smallest_tier_are_refused_and_reducers_pass() -> None:
    desk = Desk(_cfg("crypto-capital-manager", position_sizing={"method": "capital_scaling"}))
    held = Position("ETHUSDT", "LONG", Decimal("0.2"), 100)
    plan = desk.plan({"ETHUSDT": 0.0, "BTCUSDT": 0.5}, _account(50, positions=(held,)),
                     {"ETHUSDT": _market("ETHUSDT"), "BTCUSDT": _market("BTCUSDT")}, now=NOW)
    by_symbol = {line.symbol: line.decision for line in plan.lines}
    assert by_symbol["ETHUSDT"].approved
    assert by_symbol["BTCUSDT"].reasons == (R.ACCOUNT_PROFILE,)


@pytest.mark.parametrize("preset", ["equity-conviction", "aurora-capital-scaling",
                                    "aurora-kelly"])
def test_presets_whose_single_tier_starts_at_zero_are_unaffected(preset: str) -> None:
    cfg = RiskConfig.preset(preset, env={})
    assert min(t.min_equity for t in cfg.account_tiers.values()) == 0
    desk = Desk(cfg)
    mkt = MarketSnapshot(MarketRules("AAPL", step="0.0001", tick="0.01", max_leverage=25),
                         price=Decimal(100), bid=Decimal("99.99"), ask=Decimal("100.01"),
                         as_of=NOW)
    d = desk.recommend(Signal("AAPL", "LONG", score=90, strength=0.5, win_rate=0.6,
                              win_loss_ratio=2.0), _account(50), mkt, now=NOW)
    assert R.ACCOUNT_PROFILE not in d.reasons


# --------------------------------------------------------------------------- recovery step

def _recovery_cfg(step: float) -> RiskConfig:
    return _cfg("crypto-capital-manager",
                drawdown={"recovery_step": step, "breaker_on_heavy": False})


def _dd_multiplier(d: Any) -> float:
    a = next(a for a in d.trail if a.code is R.DRAWDOWN)
    return float(a.after / a.before)


def test_a_small_recovery_step_is_not_exceeded_from_one_evaluation_to_the_next() -> None:
    # HEAVY recorded, equity back at its high-water mark. With recovery_step 0.1 the first
    # evaluation steps to MODERATE at 0.25 + 0.1 = 0.35; the next one must not jump to the
    # LIGHT level's 0.5 + 0.1 = 0.6.
    desk = Desk(_recovery_cfg(0.1), state=DeskState(drawdown_level=DrawdownLevel.HEAVY))
    sig, acct = _signal("BTCUSDT"), _account(10_000, hwm=10_000)
    seen = []
    for k in range(12):
        at = NOW + timedelta(minutes=k)
        d = desk.recommend(sig, _account(10_000, hwm=10_000, at=at), _market("BTCUSDT", at),
                           now=at)
        seen.append(_dd_multiplier(d))
    assert seen[:3] == pytest.approx([0.35, 0.45, 0.55])
    assert all(b - a <= 0.1 + 1e-12 for a, b in zip([0.25, *seen], seen, strict=False))
    assert seen[-1] == 1.0
    # What the status view shows is what the next order gets.
    assert desk.drawdown_status(acct, NOW + timedelta(minutes=12)).size_multiplier == 1.0


@pytest.mark.parametrize("step", [0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1.0])
@pytest.mark.parametrize("start", [DrawdownLevel.HEAVY, DrawdownLevel.MODERATE,
                                   DrawdownLevel.LIGHT])
def test_the_multiplier_never_rises_by_more_than_the_step_across_restarts(
        step: float, start: DrawdownLevel) -> None:
    cfg = _recovery_cfg(step)
    state = DeskState(drawdown_level=start)
    prev = level_multiplier(start, cfg.drawdown)
    path = []
    for k in range(200):
        at = NOW + timedelta(minutes=k)
        # Each evaluation on a desk rebuilt from the JSON the service would have stored.
        desk = Desk(cfg, state=DeskState.from_dict(json.loads(json.dumps(state.to_dict()))))
        acct = _account(10_000, hwm=10_000, at=at)
        batch = desk.recommend_batch([_signal("BTCUSDT")], acct, [_market("BTCUSDT", at)],
                                     now=at)
        batch_state = desk.state
        desk = Desk(cfg, state=DeskState.from_dict(json.loads(json.dumps(state.to_dict()))))
        d = desk.recommend(_signal("BTCUSDT"), acct, _market("BTCUSDT", at), now=at)
        assert batch_state == desk.state
        assert batch.decision(0) == d
        m = _dd_multiplier(d)
        assert m - prev <= step + 1e-12
        path.append(m)
        prev, state = m, desk.state
        if m == 1.0 and state.drawdown_level is DrawdownLevel.NORMAL:
            break
    assert path[-1] == 1.0


def test_the_default_step_keeps_seed_001s_recovery_path() -> None:
    cfg = _cfg("crypto-capital-manager", drawdown={"breaker_on_heavy": False})
    assert cfg.drawdown.recovery_step == 0.25
    desk = Desk(cfg, state=DeskState(drawdown_level=DrawdownLevel.HEAVY))
    seen = []
    for k in range(5):
        at = NOW + timedelta(minutes=k)
        d = desk.recommend(_signal("BTCUSDT"), _account(10_000, hwm=10_000, at=at),
                           _market("BTCUSDT", at), now=at)
        seen.append(_dd_multiplier(d))
    assert seen == pytest.approx([0.5, 0.7, 0.95, 1.0, 1.0])
    assert desk.state.drawdown_level is DrawdownLevel.NORMAL


def test_deepening_applies_the_worse_multiplier_at_once() -> None:
    cfg = _recovery_cfg(0.1)
    desk = Desk(cfg, state=DeskState(drawdown_level=DrawdownLevel.HEAVY))
    desk.recommend(_signal("BTCUSDT"), _account(10_000, hwm=10_000), _market("BTCUSDT"),
                   now=NOW)
    at = NOW + timedelta(minutes=1)
    d = desk.recommend(_signal("BTCUSDT"), _account(7_000, hwm=10_000, at=at),
                       _market("BTCUSDT", at), now=at)
    assert _dd_multiplier(d) == 0.25


def test_an_old_stored_state_without_the_multiplier_still_loads() -> None:
    # A state saved before the multiplier was kept: the recorded level's own multiplier
    # is where recovery continues from.
    old = {"trading_state": "ACTIVE", "breaker": BreakerState().to_dict(),
           "drawdown_level": "MODERATE", "note": "drawdown level HEAVY -> MODERATE",
           "updated_at": NOW.isoformat(), "updated_by": "desk"}
    state = DeskState.from_dict(old)
    assert state.drawdown_level is DrawdownLevel.MODERATE
    desk = Desk(_recovery_cfg(0.1), state=state)
    d = desk.recommend(_signal("BTCUSDT"), _account(10_000, hwm=10_000), _market("BTCUSDT"),
                       now=NOW)
    assert _dd_multiplier(d) == pytest.approx(0.6)
    assert DeskState.from_dict(json.loads(json.dumps(desk.state.to_dict()))) == desk.state


def test_the_status_function_takes_the_recorded_multiplier() -> None:
    cfg = _recovery_cfg(0.1).drawdown
    acct = _account(10_000, hwm=10_000)
    s = drawdown_status(acct, BreakerState(), NOW, cfg, DrawdownLevel.MODERATE, 0.35)
    assert s.level is DrawdownLevel.LIGHT
    assert s.size_multiplier == pytest.approx(0.45)
    # Without a recorded multiplier: the recorded level's own (0.5) plus the step.
    s = drawdown_status(acct, BreakerState(), NOW, cfg, DrawdownLevel.MODERATE)
    assert s.size_multiplier == pytest.approx(0.6)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "half", True])
def test_a_bad_recorded_multiplier_names_the_field(bad: object) -> None:
    with pytest.raises(InvalidInputError) as err:
        DeskState.from_dict({"drawdown_multiplier": bad})
    assert err.value.field == "state.drawdown_multiplier"


# --------------------------------------------------------------------------- batch = scalar

_PRESETS = {name: RiskConfig.preset(name, env={}) for name in (
    "default", "crypto-capital-manager", "equity-conviction", "phased-options", "aurora-kelly")}


@st.composite
def _cases(draw: st.DrawFn) -> tuple[RiskConfig, DeskState, AccountState, list[Signal],
                                     list[MarketSnapshot]]:
    cfg = _PRESETS[draw(st.sampled_from(sorted(_PRESETS)))]
    method = draw(st.sampled_from(METHODS))
    step = draw(st.sampled_from([0.05, 0.1, 0.25]))
    cfg = cfg.model_copy(update={
        "position_sizing": cfg.position_sizing.model_copy(update={"method": method}),
        "drawdown": cfg.drawdown.model_copy(update={"recovery_step": step})})
    level = draw(st.sampled_from(list(DrawdownLevel)))
    own = level_multiplier(level, cfg.drawdown)
    recorded = draw(st.one_of(st.none(), st.floats(0.0, own, exclude_max=True)))
    state = DeskState(drawdown_level=level, drawdown_multiplier=recorded)
    equity = draw(st.floats(1, 300))
    held = draw(st.booleans())
    positions = (Position("BTCUSDT", "LONG", Decimal("0.01"), 100),) if held else ()
    acct = AccountState(equity=Decimal(repr(equity)), available=Decimal(repr(equity)),
                        high_water_mark=Decimal(repr(equity * draw(st.sampled_from(
                            [1.0, 1.04, 1.08, 1.15, 1.3])))),
                        positions=positions, as_of=NOW)
    syms = draw(st.lists(st.sampled_from(["BTCUSDT", "ETHUSDT", "SOLUSDT"]), min_size=1,
                         max_size=6))
    sigs = [Signal(sym, draw(st.sampled_from(["LONG", "SHORT"])), score=85, strength=0.2,
                   win_rate=0.6, win_loss_ratio=2.0, regime="NEUTRAL") for sym in syms]
    return cfg, state, acct, sigs, [_market(sym) for sym in syms]


@given(_cases())
def test_batch_rows_and_state_equal_the_scalar_path_below_the_floor_and_in_recovery(
        case: tuple[RiskConfig, DeskState, AccountState, list[Signal], list[MarketSnapshot]],
) -> None:
    cfg, state, acct, sigs, mkts = case
    desk = Desk(cfg, state=state)
    out = desk.recommend_batch(sigs, acct, mkts, now=NOW)
    for i, (sig, mkt) in enumerate(zip(sigs, mkts, strict=True)):
        alone = Desk(cfg, state=state)
        d = alone.recommend(sig, acct, mkt, now=NOW)
        assert out.action_of(i) is d.action, (i, d.trail)
        assert out.reasons_of(i) == d.reasons, (i, d.trail)
        assert out.quantity[i] == float(d.quantity), (i, d.trail)
        assert out.decision(i) == d
        assert desk.state.drawdown_level is alone.state.drawdown_level
        assert desk.state.drawdown_multiplier == alone.state.drawdown_multiplier
        if d.intent.value == "OPEN" and acct.equity < 100 and min(
                t.min_equity for t in cfg.account_tiers.values()) > 0:
            assert d.action is Action.REJECT
