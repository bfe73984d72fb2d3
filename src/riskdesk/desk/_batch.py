"""The vectorized pipeline: many independent orders against one account, in NumPy.

Every row is decided as :func:`riskdesk.desk._pipeline.recommend` would decide it alone
against the same account and desk state; ``tests/property/test_desk_batch.py`` checks the
equality on random inputs. Account-level steps (trading state, margin zone, drawdown, account
profile) are computed once with the scalar functions; per-row steps (leverage, base size,
caps, gates, quantization, opportunity cost) re-express the same float formulas as array
operations, in the same order of operations so that the floats agree bit for bit.

Rows outside the kernel (reducers, order books, stop prices, strategies, symbol mismatches,
the Kelly stabilizer) and rows whose rounding lands within a hair of a step or a threshold,
where float and exact Decimal arithmetic could disagree, go through the scalar pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from riskdesk.domain import Action, Decision, ReasonCode, TradingState
from riskdesk.limits import (
    EXHAUSTED,
    DrawdownLevel,
    DrawdownStatus,
    MarginZone,
    drawdown_status,
    effective_trading_state,
    margin_zone,
    vix_position_multipliers,
    worst_scored,
)
from riskdesk.sizing import dd_haircut_factor, heat_multiplier

from ._batch_gates import first_open, gates, lookup
from ._batch_input import REGIMES, BatchInput
from ._batch_result import ACTIONS, CODES, BatchDecisions
from ._params import AccountView, DeskParams
from ._pipeline import recommend as scalar_recommend
from ._pipeline import state_after
from ._state import DeskState
from ._weights import AllocationWeights

if TYPE_CHECKING:
    from ._desk import Desk

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I16 = npt.NDArray[np.int16]
B = npt.NDArray[np.bool_]

_A = {a: i for i, a in enumerate(ACTIONS)}
_C = {c: i for i, c in enumerate(CODES)}
_NUDGE = 1e-9
_TIE = 1e-9
_NO_EDGE = 1e-12  # riskdesk.sizing.kelly_binary's: a Kelly fraction this small is no edge
_BASE_CODE = {
    "fixed_fraction": ReasonCode.BASE_SIZE, "account_profile": ReasonCode.ACCOUNT_PROFILE,
    "conviction": ReasonCode.CONVICTION, "capital_scaling": ReasonCode.CAPITAL_UTILIZATION,
    "kelly": ReasonCode.KELLY, "volatility_target": ReasonCode.VOLATILITY_TARGET,
    "stop_risk": ReasonCode.STOP_RISK}


def recommend_batch(desk: Desk, view: AccountView, b: BatchInput, now: datetime,
                    weights: AllocationWeights | None = None) -> BatchDecisions:
    """Decide every row of ``b`` (see the module docstring), with the caller's weights."""
    p: DeskParams = desk._params
    state0: DeskState = desk._state
    stab = desk._stabilizer
    cfg = p.cfg
    lp = p.lp
    ex = view.ex
    account = view.account
    n = len(b)
    table: list[tuple[ReasonCode, ...]] = [()]
    tindex: dict[tuple[ReasonCode, ...], int] = {(): 0}

    def tcode(reasons: tuple[ReasonCode, ...]) -> int:
        k = tindex.get(reasons)
        if k is None:
            k = tindex[reasons] = len(table)
            table.append(reasons)
        return k

    # Output columns; ``stage`` < 0 means the row is still going.
    reason = np.full(n, -1, dtype=np.int16)
    action = np.full(n, _A[Action.REJECT], dtype=np.int16)
    lev_out = np.ones(n, dtype=np.int64)
    binding = np.full(n, -1, dtype=np.int16)
    units = np.zeros(n, dtype=np.int64)
    side = b.side.astype(np.float64)

    # Rows for the scalar pipeline.
    position_sides = {sym: pos.side.sign for sym, pos in view.positions.items()}
    held_side = lookup(b, position_sides, 0, np.int8)
    reducer = b.reduce_only | ((held_side != 0) & (held_side != b.side))
    scalar = b.scalar_only | reducer
    if stab is not None and p.method == "kelly":
        scalar[:] = True

    # 1. validate: staleness ----------------------------------------------------------------------
    a_at = account.as_of
    acct_age = None if a_at is None else abs((now - a_at).total_seconds())
    stale_codes: list[ReasonCode] = []
    if acct_age is None:
        stale_codes.append(ReasonCode.STATE_MISSING)
    elif acct_age > lp.max_state_age:
        stale_codes.append(ReasonCode.STATE_STALE)
    m_age = np.abs(now.timestamp() - b.as_of)
    m_stale = np.isnan(m_age) | (m_age > lp.max_data_age)
    if stale_codes:
        both = tcode((*stale_codes, ReasonCode.MARKET_STALE))
        only = tcode(tuple(stale_codes))
        np.copyto(reason, np.where(m_stale, both, only).astype(np.int16), where=reason < 0)
    else:
        first_open(reason, m_stale, tcode((ReasonCode.MARKET_STALE,)))

    # 2. trading state, capital (account level) ---------------------------------------------------
    zone = margin_zone(ex.margin_used_pct, cfg.margin_zones)
    new_state = state0
    dd = None
    if not stale_codes:
        dd = drawdown_status(account, state0.breaker, now, cfg.drawdown, state0.drawdown_level,
                             state0.drawdown_multiplier)
        if not bool(m_stale.all()):
            new_state = state_after(state0, dd, now)
        breaker_active = dd.breaker.is_active(now)
    else:
        breaker_active = state0.breaker.is_active(now)
    ts, ts_reasons = effective_trading_state(state0.trading_state, breaker_active=breaker_active,
                                             margin_red=zone is MarginZone.RED)
    going = reason < 0
    if ts is not TradingState.ACTIVE:
        first_open(reason, going, tcode(ts_reasons))
    elif zone is not MarginZone.GREEN:
        code = ReasonCode.MARGIN_YELLOW if zone is MarginZone.YELLOW else ReasonCode.MARGIN_ORANGE
        first_open(reason, going, tcode((code,)))
    elif dd is not None and not dd.entries_allowed:
        loss = tuple(r for r in dd.reasons if r is not ReasonCode.DRAWDOWN_HEAVY)
        first_open(reason, going, tcode(loss))
    prof = view.profile
    if prof is None:  # below every account tier: no opener, whatever the method
        first_open(reason, reason < 0, tcode((ReasonCode.ACCOUNT_PROFILE,)))

    if dd is not None and bool((reason < 0).any()):
        _decide_rows(p, view, b, dd, reason, action, lev_out, binding, units, side, scalar,
                     tcode, weights)

    # Rows for the scalar pipeline, and the figures of every row.
    srows = np.flatnonzero(scalar)
    exact: dict[int, Decision] = {}
    for i in srows.tolist():
        sig, mkt = b.row_objects(i)
        out = scalar_recommend(p, state0, stab, sig, view, mkt, now, weights=weights)
        d = out.decision
        exact[i] = d
        action[i] = _A[d.action]
        reason[i] = tcode(d.reasons)
        binding[i] = -1 if d.binding_cap is None else _C[d.binding_cap]
        lev_out[i] = int(d.leverage)
        units[i] = int(d.quantity / mkt.rules.step)
        if stab is not None:
            new_state = out.state if out.state is not state0 else new_state
    k = b.steps_per_unit
    with np.errstate(divide="ignore", invalid="ignore"):
        quantity = np.where(k > 0.0, units / k, units * b.step)
    notional = quantity * b.price * b.contract_size
    for i, d in exact.items():
        quantity[i] = float(d.quantity)
        notional[i] = float(d.notional)
    margin = notional / lev_out
    reason[reason < 0] = 0
    desk._state = new_state

    def rebuild(i: int) -> Decision:
        d = exact.get(i)
        if d is not None:
            return d
        sig, mkt = b.row_objects(i)
        return scalar_recommend(p, state0, None, sig, view, mkt, now, weights=weights).decision

    return BatchDecisions(action, units, quantity, notional, margin, lev_out, binding, reason,
                          tuple(table), srows.astype(np.int64), rebuild)


def _decide_rows(p: DeskParams, view: AccountView, b: BatchInput, dd: DrawdownStatus,
                 reason: I16, action: I16, lev_out: I64, binding: I16, units: I64, side: F64,
                 scalar: B, tcode: Callable[[tuple[ReasonCode, ...]], int],
                 weights: AllocationWeights | None) -> None:
    """Steps 3-10 for the rows still going, in place."""
    cfg = p.cfg
    lp = p.lp
    ex = view.ex
    eq = ex.equity
    prof = view.profile
    n = len(b)
    price = b.price
    unit = price * b.contract_size
    vix = b.vix
    has_vix = ~np.isnan(vix)

    # 6. leverage ---------------------------------------------------------------------------------
    hi = b.max_leverage.copy()
    lo_s: float | None = None
    if prof is not None and p.adaptive_leverage:
        lo_s = prof[1].min_leverage
        np.minimum(hi, prof[1].max_leverage, out=hi, where=prof[1].max_leverage < hi)
    lo = np.full(n, np.nan if lo_s is None else lo_s)
    tier_room = None
    if p.tiers_enabled:
        rooms_by = view.tiers
        members = view.members
        default = p.default_tier
        names = list(rooms_by)
        pos = {name: k for k, name in enumerate(names)}
        idx = lookup(b, {sym: pos[name] for sym, name in members.items()}, pos[default],
                      np.int64)
        t_lo = np.array([rooms_by[k][0].min_leverage for k in names])[idx]
        t_hi = np.array([rooms_by[k][0].max_leverage for k in names])[idx]
        tier_room = np.array([rooms_by[k][1] for k in names])[idx]
        lo = np.where(np.isnan(lo) | (t_lo > lo), t_lo, lo)
        hi = np.where(t_hi < hi, t_hi, hi)
    has_lo = ~np.isnan(lo)
    np.copyto(lo, hi, where=has_lo & (lo > hi))
    lc = cfg.leverage
    bid, ask = b.bid, b.ask
    quoted = ~(np.isnan(bid) | np.isnan(ask))
    with np.errstate(invalid="ignore"):
        spread = (ask - bid) / ((ask + bid) * 0.5) * 1e4
    if lc.fixed is not None:
        raw = np.full(n, lc.fixed)
        lev = np.where(lc.fixed > hi, hi, lc.fixed)
    else:
        atr = b.atr_pct
        known = ~np.isnan(atr) & (atr > 0)
        if not lc.enabled:
            raw = np.full(n, lc.base)
            lev = _clamp(raw, lc.min_leverage, lc.max_leverage, lo, has_lo, hi)
        else:
            floor_lev = _clamp(np.full(n, lc.min_leverage), lc.min_leverage, lc.max_leverage, lo,
                               has_lo, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                vol = lc.reference_atr_pct / atr
                sp = np.where(quoted & (spread > lc.reference_spread_bps),
                              lc.reference_spread_bps / spread, 1.0)
            wr = b.win_rate
            rec = np.where(np.isnan(wr), 1.0, wr / lc.reference_win_rate)
            reg_table = np.array([lc.regime_multipliers.get(r.value.upper(), 1.0)
                                  for r in REGIMES] + [1.0])
            reg = reg_table[b.regime]
            account_f = (lc.reference_equity / eq) ** lc.account_size_exponent
            raw_k = lc.base * vol * sp * 1.0 * rec * reg * account_f
            lev_k = _clamp(raw_k, lc.min_leverage, lc.max_leverage, lo, has_lo, hi)
            raw = np.where(known, raw_k, lc.min_leverage)
            lev = np.where(known, lev_k, floor_lev)
    if dd.force_min_leverage:
        lev = np.where(lev > p.lev_min, p.lev_min, lev)
    elif dd.leverage_reduction:
        lev = np.maximum(1.0, lev - dd.leverage_reduction)
    lev_i = np.maximum(1, np.floor(lev + _NUDGE)).astype(np.int64)
    hi_i = np.maximum(1, np.floor(hi + _NUDGE)).astype(np.int64)
    lev_i = np.where(lev_i > hi, hi_i, lev_i)
    lev_f = lev_i.astype(np.float64)
    del raw

    # 4. base size --------------------------------------------------------------------------------
    bind = np.full(n, -1, dtype=np.int16)
    base_reason = np.full(n, -1, dtype=np.int16)
    method = p.method
    kelly = False
    if method == "fixed_fraction":
        size = np.full(n, eq * p.risk_per_trade)
    elif method == "account_profile":
        assert prof is not None
        size = np.full(n, eq * prof[1].risk_pct)
    elif method == "conviction":
        c = cfg.conviction
        s = b.score
        pct = np.where(s > c.high_threshold, c.high_pct,
                       np.where(s < c.low_threshold, c.low_pct, c.base_pct))
        intended = eq * pct
        size = intended
        if c.max_position_dollar is not None:
            size = np.where(intended <= c.max_position_dollar, intended, c.max_position_dollar)
            bind[size < intended] = _C[ReasonCode.CAP_MAX_POSITION_DOLLAR]
        base_reason[np.isnan(s)] = _C[ReasonCode.SCORE_INVALID]
    elif method == "capital_scaling":
        w = b.strength
        size = np.abs(w) * eq * p.capital_utilization_factor
        base_reason[np.isnan(w)] = _C[ReasonCode.SIGNAL_BELOW_THRESHOLD]
    elif method == "kelly":
        kelly = True
        wr, wlr = b.win_rate, b.win_loss_ratio
        missing = np.isnan(wr) | np.isnan(wlr)
        # kelly_binary's formula and its no-edge test, as written there: float noise around
        # a break-even bet (0.4 - 0.6 / 1.5) is no edge, and a positive lower clip must not
        # turn it into a bet.
        with np.errstate(invalid="ignore", divide="ignore"):
            edge = wr - (1.0 - wr) / wlr
            f = edge / p.kelly_risk_aversion
        klo, khi = p.kelly_clip
        f = np.where(f < klo, klo, np.where(f > khi, khi, f))
        f = np.where(edge <= _NO_EDGE, 0.0, f)
        base_reason[f <= 0.0] = _C[ReasonCode.NO_EDGE]
        base_reason[missing] = _C[ReasonCode.STATE_MISSING]
        size = f * p.kelly_fraction * eq * lev_f
    elif method == "volatility_target":
        vol_in = np.where(np.isnan(b.volatility), b.atr_pct, b.volatility)
        bad = np.isnan(vol_in) | (vol_in == 0.0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            size = eq * p.target_volatility / vol_in
        base_reason[bad] = _C[ReasonCode.STATE_MISSING]
        huge = ~bad & ~np.isfinite(size)
        if bool(huge.any()):
            # A volatility too small for a finite notional is bad input: the scalar pipeline
            # raises the error naming it.
            scalar |= huge
            size = np.where(huge, 0.0, size)
    else:  # stop_risk needs stops per row: the scalar pipeline decides it
        scalar[:] = True
        return
    going = reason < 0
    for code in np.unique(base_reason[going & (base_reason >= 0)]).tolist():
        first_open(reason, going & (base_reason == code), tcode((CODES[code],)))
    zero_by = np.full(n, -1, dtype=np.int16)

    def zeroed(code: ReasonCode) -> None:
        zero_by[(zero_by < 0) & (size <= 0.0)] = _C[code]

    zeroed(_BASE_CODE[method])

    # 5. adjustments ------------------------------------------------------------------------------
    if kelly:
        k = cfg.kelly
        tier_name = None if prof is None else prof[0]
        acct = 1.0
        if tier_name == "small":
            acct = k.small_account_multiplier
        elif tier_name == "large":
            acct = k.large_account_multiplier
        reg_k = np.array([k.regime_multipliers.get(r.value.upper(), 1.0) for r in REGIMES]
                         + [1.0])[b.regime]
        heat = heat_multiplier(ex.margin_used_pct * 100.0, k)
        start, full, floor = p.dd_haircut
        h = dd_haircut_factor(ex.drawdown, start=start, full=full, floor=floor)
        size = size * acct
        zeroed(ReasonCode.ACCOUNT_SIZE)
        size = size * reg_k
        zeroed(ReasonCode.REGIME)
        size = size * heat
        zeroed(ReasonCode.PORTFOLIO_HEAT)
        size = size * h
        zeroed(ReasonCode.DD_HAIRCUT)
        changed = (acct != 1.0) | (reg_k != 1.0) | (heat != 1.0) | (h != 1.0)
        bind[changed] = -1
    m = dd.size_multiplier
    size = size * m
    zeroed(ReasonCode.DRAWDOWN)
    if m != 1.0:
        bind[:] = -1
    if p.vix_sizes:
        vm = vix_position_multipliers(vix, cfg.vix)
        size = np.where(has_vix, size * vm, size)
        zeroed(ReasonCode.VIX)
        bind[has_vix & (vm != 1.0)] = -1
    if weights is not None:
        rp = np.fromiter(map(weights.multipliers.get, b.symbols, repeat(0.0, n)),
                         dtype=np.float64, count=n)
        size = size * rp
        zeroed(ReasonCode.RISK_PARITY)
        bind[rp != 1.0] = -1
    going = reason < 0
    for code in np.unique(zero_by[going & (zero_by >= 0)]).tolist():
        first_open(reason, going & (zero_by == code), tcode((CODES[code],)))

    # 7. caps -------------------------------------------------------------------------------------
    held = lookup(b, ex.by_symbol, 0.0, np.float64) * side
    held = np.where(held < 0.0, 0.0, held)
    margin_power = ex.available * lev_f
    power = np.where(margin_power < ex.buying_power, margin_power, ex.buying_power)
    caps: list[tuple[ReasonCode, F64 | float]] = [
        (ReasonCode.CAP_ORDER_NOTIONAL, lp.order_cap),
        (ReasonCode.CAP_MAX_TRADE_SIZE, lp.max_trade_size),
        (ReasonCode.CAP_SYMBOL, lp.max_pos_pct * eq - held),
        (ReasonCode.CAP_POSITION_SIZE, lp.max_position_size * eq - held),
        (ReasonCode.CAP_TOTAL_EXPOSURE, lp.max_total_exposure * eq - side * ex.net),
        (ReasonCode.CAP_GROSS_EXPOSURE, lp.max_gross_exposure * eq - ex.gross),
        (ReasonCode.CAP_BUYING_POWER, power * lp.buying_power_safety),
    ]
    if lp.max_position_dollar != math.inf:
        caps.append((ReasonCode.CAP_MAX_POSITION_DOLLAR, lp.max_position_dollar - held))
    if tier_room is not None:
        caps.append((ReasonCode.CAP_TIER_BUDGET, tier_room * lev_f))
    phase = view.phase
    if phase is not None:
        room = cfg.phases.max_bp_usage[phase] * eq - ex.margin_used
        caps.append((ReasonCode.CAP_BUYING_POWER, room * lev_f))
    has_max = b.max_units >= 0
    if bool(has_max.any()):
        caps.append((ReasonCode.CAP_MARKET_MAX_QTY, np.where(has_max, b.max_qty * unit, np.inf)))
    for code, limit in caps:
        cut = limit < size
        size = np.where(cut, limit, size)
        bind[cut] = _C[code]
    going = reason < 0
    lev_out[going] = lev_i[going]
    empty = going & (size <= 0.0)
    for code in np.unique(bind[empty]).tolist():
        first_open(reason, empty & (bind == code), tcode((EXHAUSTED[CODES[code]],)))

    # 8. gates ------------------------------------------------------------------------------------
    gates(p, view, b, reason, side, size, spread, quoted, tcode)

    # 9. quantize ---------------------------------------------------------------------------------
    with np.errstate(divide="ignore", invalid="ignore"):
        u_f = (size / unit) / b.step
    going = reason < 0
    u_f = np.where(going, u_f, 0.0)
    fl = np.floor(u_f)
    frac = u_f - fl
    tol = 1e-6 + 1e-11 * u_f
    scalar |= going & ((frac < tol) | (frac > 1.0 - tol))
    u = fl.astype(np.int64)
    u = np.where(has_max & (u > b.max_units), b.max_units, u)
    u = np.where(u < b.min_units, 0, u)
    first_open(reason, going & (u <= 0), tcode((ReasonCode.ZERO_AFTER_QUANTIZE,)))
    q_f = u * b.step
    n_f = q_f * unit
    for thr in (b.min_notional, lp.min_open_notional, lp.min_position_dollar):
        scalar |= going & (np.abs(n_f - thr) <= _TIE * np.abs(thr))
    scalar |= going & (np.abs(q_f - lp.min_shares) <= _TIE * lp.min_shares)
    below_mkt = n_f < b.min_notional
    first_open(reason, below_mkt, tcode((ReasonCode.BELOW_MIN_NOTIONAL,)))
    first_open(reason, n_f < lp.min_open_notional, tcode((ReasonCode.BELOW_MIN_NOTIONAL,)))
    first_open(reason, (n_f < lp.min_position_dollar) | (q_f < lp.min_shares),
           tcode((ReasonCode.BELOW_MIN_POSITION,)))

    # 10. opportunity cost ------------------------------------------------------------------------
    ok = reason < 0
    act = np.full(n, _A[Action.ENTER], dtype=np.int16)
    if p.opportunity_enabled and view.account.positions:
        oc = cfg.opportunity
        s = b.score
        scored = ok & ~np.isnan(s)
        worst_symbol, worst = view.worst
        if worst_symbol is None or worst is None:
            replace = np.zeros(n, dtype=np.bool_)
        else:
            # A row's own position is never the one to close: rows in the worst symbol weigh
            # against the worst of the others (NaN, never beaten, when there is none).
            other = worst_scored(view.account.positions, worst_symbol)[1]
            worst_row = lookup(b, {worst_symbol: math.nan if other is None else other},
                               worst, np.float64)
            replace = scored & (s > worst_row + oc.replace_margin)
        free = ex.free_margin_pct
        enter = scored & ~replace & (s > oc.enter_score) & (free > oc.enter_free_margin)
        rest = scored & ~replace & ~enter
        if free < oc.skip_free_margin:
            first_open(reason, rest, tcode((ReasonCode.OPPORTUNITY_SKIP,)))
            binding[rest] = bind[rest]
        else:
            first_open(reason, rest, tcode((ReasonCode.OPPORTUNITY_HOLD,)))
            action[rest] = _A[Action.HOLD]
            binding[rest] = bind[rest]
        act[replace] = _A[Action.ENTER_AND_CLOSE_WORST]
        ok = ok & ~rest
    if bool(ok.any()):
        caution: tuple[ReasonCode, ...] = ()
        if dd.level is not DrawdownLevel.NORMAL:
            caution = (ReasonCode.DRAWDOWN_HEAVY if dd.level is DrawdownLevel.HEAVY
                       else ReasonCode.DRAWDOWN,)
            act = np.where(act == _A[Action.ENTER], _A[Action.CAUTION], act).astype(np.int16)
        action[ok] = act[ok]
        reason[ok] = tcode(caution)
        binding[ok] = bind[ok]
        units[ok] = u[ok]


def _clamp(raw: F64, cmin: float, cmax: float, lo: F64, has_lo: B, hi: F64) -> F64:
    lev = np.where(raw < cmin, cmin, np.where(raw > cmax, cmax, raw))
    lev = np.where(has_lo & (lev < lo), lo, lev)
    return np.where(lev > hi, hi, lev)
