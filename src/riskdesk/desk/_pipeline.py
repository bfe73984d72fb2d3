"""The scalar decision pipeline: one (signal, account, market) in, one Decision out.

The steps run in the order of ``docs/desk.md`` (DESIGN.md's ten steps). Inner math is float;
the only Decimal arithmetic is the final quantization and the figures of the Decision. The
function is pure apart from the sizing stabilizer it is handed: the caller stores the desk
state it returns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from riskdesk.domain import (
    Action,
    Adjustment,
    Decision,
    ExecutionMethod,
    Intent,
    MarketSnapshot,
    ReasonCode,
    Side,
    Signal,
    TradingState,
)
from riskdesk.errors import InvalidInputError
from riskdesk.limits import (
    EXHAUSTED,
    OPENER_CAPS,
    DrawdownLevel,
    DrawdownStatus,
    MarginZone,
    OpportunityAction,
    concentration_gate,
    cvar_gate,
    effective_trading_state,
    historical_cvar,
    max_positions_gate,
    max_trades_per_day,
    opener_cap_limits,
    opportunity_parts,
    phase_position_limit,
    price_band_gate,
    restricted_symbol_gate,
    score_validity_gate,
    signal_threshold_gate,
    spread_gate,
    strategy_position_limit,
    trades_per_day_gate,
    vix_position_multiplier,
)
from riskdesk.sizing import SizingStabilizer, leverage_parts, liquidity_advice

from ._base import base_size, check_stop_side, kelly_adjust
from ._build import denied, leverage_decimal, margin_of, reject_at
from ._params import AccountView, DeskParams, DrawdownEntry, below_tiers_note
from ._reducer import reduce_position
from ._state import DeskState, state_unchanged
from ._weights import AllocationWeights

_NUDGE = 1e-9
_LIMIT = ExecutionMethod.LIMIT
_ACTIVE = TradingState.ACTIVE
_OPEN = Intent.OPEN
_REDUCE = Intent.REDUCE
_LONG = Side.LONG
_GREEN = MarginZone.GREEN
_RED = MarginZone.RED


class Outcome(NamedTuple):
    """A decision and the desk state after it (changed when the breaker or level moved)."""

    decision: Decision
    state: DeskState


def state_after(state: DeskState, dd: DrawdownStatus, now: datetime) -> DeskState:
    """The desk state once ``dd`` is recorded (the same object when nothing moved)."""
    if state_unchanged(state, dd):
        return state
    if dd.breaker_tripped_now:
        note = f"breaker tripped: {dd.breaker.reason}"
    elif dd.level is not state.drawdown_level:
        note = f"drawdown level {state.drawdown_level.value} -> {dd.level.value}"
    else:
        done = "recovering" if dd.recovery_multiplier is not None else "recovered"
        note = f"drawdown {dd.level.value}: size x{dd.size_multiplier:g} ({done})"
    return DeskState(state.trading_state, dd.breaker, dd.level, note, now, "desk",
                     dd.recovery_multiplier)


def depth_of(market: MarketSnapshot, long: bool, near: int) -> float | None:
    """Notional resting in the first ``near`` levels of the side an order takes.

    Level sizes are contracts: each level holds ``price x size x contract_size``. ``None``
    without a book; 0 when the side is empty but the other side has levels (nothing to fill
    against is no depth, not missing data).
    """
    levels = market.asks if long else market.bids
    if not levels:
        return 0.0 if (market.bids if long else market.asks) else None
    total = 0.0
    for lvl in levels[:near]:
        total += lvl.price * lvl.size
    return total * market.rules.floats.contract_size


def check_book(market: MarketSnapshot) -> None:
    """Refuse a book whose best bid level is above its best ask level (a crossed book)."""
    bids, asks = market.bids, market.asks
    if bids and asks and bids[0].price > asks[0].price:
        raise InvalidInputError("market.bids[0].price", bids[0].price,
                                f"<= the best ask level market.asks[0].price "
                                f"({asks[0].price:g}): the book is crossed")


def recommend(p: DeskParams, state: DeskState, stab: SizingStabilizer | None, signal: Signal,
              view: AccountView, market: MarketSnapshot, now: datetime, *,
              returns: Sequence[float] | None = None, requested: float | None = None,
              requested_note: str = "", reduce_qty: Decimal | None = None,
              weights: Callable[[], AllocationWeights] | None = None) -> Outcome:
    """Run the pipeline for one order (see the module docstring and ``docs/desk.md``).

    ``requested`` replaces the configured base size with a notional (the two-phase planner's
    target delta); ``reduce_qty`` asks a reducer for a partial quantity instead of a close;
    ``weights`` gives the caller's allocation weights (the ``RISK_PARITY`` adjustment); it is
    called only for an opener, so that a reducer never reads, or checks, them.
    """
    trail: list[Adjustment] = []
    add = trail.append
    sym = signal.symbol
    side = signal.side
    rules = market.rules
    price = market.price
    account = view.account
    ex = view.ex
    lp = p.lp
    pos = view.positions.get(sym)

    # 1. validate and classify --------------------------------------------------------------------
    reducing = signal.reduce_only or (pos is not None and pos.side is not side)
    intent = _REDUCE if reducing else _OPEN
    if pos is not None and reducing:
        side = pos.side.opposite
    if sym != rules.symbol:
        return Outcome(reject_at("validate", ReasonCode.SYMBOL_MISMATCH,
                                 f"signal is for {sym}, market for {rules.symbol}",
                                 sym, side, intent, price, trail, now), state)
    if reducing and pos is None:
        return Outcome(reject_at("validate", ReasonCode.NO_POSITION_TO_REDUCE,
                                 f"reduce-only order but no {sym} position is open",
                                 sym, side, intent, price, trail, now), state)
    stale: list[ReasonCode] = []
    as_of = account.as_of
    if as_of is None:
        stale.append(ReasonCode.STATE_MISSING)
        add(Adjustment("validate", ReasonCode.STATE_MISSING, 0.0, 0.0,
                       "account state has no as_of time"))
    else:
        age = abs((now - as_of).total_seconds())
        if age > lp.max_state_age:
            stale.append(ReasonCode.STATE_STALE)
            add(Adjustment("validate", ReasonCode.STATE_STALE, age, lp.max_state_age,
                           f"account state is {age:.0f}s old > {lp.max_state_age:g}s"))
    as_of = market.as_of
    mage = None if as_of is None else abs((now - as_of).total_seconds())
    if mage is None or mage > lp.max_data_age:
        stale.append(ReasonCode.MARKET_STALE)
        add(Adjustment("validate", ReasonCode.MARKET_STALE, mage or 0.0, lp.max_data_age,
                       "market data has no as_of time" if mage is None
                       else f"market data is {mage:.0f}s old > {lp.max_data_age:g}s"))
    if stale and not reducing:
        return Outcome(denied(Action.REJECT, sym, side, intent, price, trail, tuple(stale),
                              now), state)

    # 2. trading state, capital -------------------------------------------------------------------
    cfg = p.cfg
    zone = view.zone
    new_state = state
    dd: DrawdownStatus | None = None
    dd_entry: DrawdownEntry | None = None
    if not stale:
        dd_entry = view.drawdown(state, now, p)
        dd = dd_entry.status
        new_state = state if dd_entry.same else state_after(state, dd, now)
        breaker = dd.breaker
    else:
        breaker = state.breaker
    breaker_active = breaker.tripped and breaker.is_active(now)
    ts_reasons: tuple[ReasonCode, ...] = ()
    if state.trading_state is _ACTIVE and not breaker_active and zone is not _RED:
        ts = _ACTIVE
    else:
        ts, ts_reasons = effective_trading_state(state.trading_state,
                                                 breaker_active=breaker_active,
                                                 margin_red=zone is _RED)
    if ts is not _ACTIVE:
        why = ", ".join(r.value for r in ts_reasons[1:]) if len(ts_reasons) > 1 \
            else "set by an operator"
        add(Adjustment("trading_state", ts_reasons[0], 0.0, 0.0,
                       f"trading state {ts.value} ({why})"))
    if reducing:
        assert pos is not None
        d = reduce_position(p, sym, side, pos, market, trail, now,
                            tuple(stale) + ts_reasons, reduce_qty, ex.equity)
        return Outcome(d, new_state)
    # Checked here, before anything an opener updates (the stabilizer): bad weights or returns
    # change nothing, whichever step would have denied the order.
    allocation = None if weights is None else weights()
    cvar = historical_cvar(returns, lp.cvar_alpha) \
        if returns is not None and lp.cvar_limit_pct != math.inf else None
    if ts is not _ACTIVE:
        return Outcome(denied(Action.REJECT, sym, side, intent, price, trail, ts_reasons, now),
                       new_state)
    assert dd is not None
    assert dd_entry is not None
    if zone is not _GREEN:
        code = ReasonCode.MARGIN_YELLOW if zone is MarginZone.YELLOW else ReasonCode.MARGIN_ORANGE
        return Outcome(reject_at("capital", code,
                                 f"margin zone {zone.value} ({ex.margin_used_pct:.1%} used) "
                                 "pauses new entries", sym, side, intent, price, trail, now),
                       new_state)
    if not dd.entries_allowed:
        loss = tuple(r for r in dd.reasons if r is not ReasonCode.DRAWDOWN_HEAVY)
        add(Adjustment("capital", loss[0], dd.daily_pnl_pct, 0.0,
                       f"day {dd.daily_pnl_pct:+.2%}, week {dd.weekly_pnl_pct:+.2%}: "
                       "loss limit reached"))
        return Outcome(denied(Action.REJECT, sym, side, intent, price, trail, loss, now),
                       new_state)

    # 3. account profile and phase ----------------------------------------------------------------
    eq = ex.equity
    prof = view.profile
    vix = market.vix
    if prof is None:
        # Below every tier, whatever the sizing method (and for the planner's openers too):
        # no tier would bind this account, so it is refused rather than sized without the
        # smallest tier's limits.
        return Outcome(reject_at("profile", ReasonCode.ACCOUNT_PROFILE,
                                 below_tiers_note(eq, cfg.account_tiers),
                                 sym, side, intent, price, trail, now), new_state)
    phase_limit = 0
    if view.phase is not None:
        phase_limit = phase_position_limit(eq, vix, cfg)
        add(Adjustment("profile", ReasonCode.ACCOUNT_PHASE, eq, float(view.phase),
                       f"phase {view.phase}: {phase_limit} positions at VIX {vix}"))

    # 6 (computed first: the size does not depend on it, Kelly's size does). leverage -------------
    long = side is _LONG
    sign = 1 if long else -1
    price_f = float(price)
    rf = rules.floats
    unit = price_f * rf.contract_size
    hi = rf.max_leverage
    lo: float | None = None
    if prof is not None and p.adaptive_leverage:
        lo = prof[1].min_leverage
        if prof[1].max_leverage < hi:
            hi = prof[1].max_leverage
    tier_room: float | None = None
    if p.tiers_enabled:
        tier, tier_room = view.tiers[view.members.get(sym, p.default_tier)]
        lo = tier.min_leverage if lo is None or tier.min_leverage > lo else lo
        if tier.max_leverage < hi:
            hi = tier.max_leverage
    if lo is not None and lo > hi:
        lo = hi
    atr_pct = market.atr_pct
    levels = market.asks if long else market.bids
    depth = depth_of(market, long, p.near_levels) if levels or market.bids or market.asks \
        else None
    if depth is not None:
        check_book(market)
    bid, ask = market.bid, market.ask
    if bid is None or ask is None:
        bid_f = ask_f = spread = None
    else:
        bid_f, ask_f = float(bid), float(ask)
        spread = (ask_f - bid_f) / ((ask_f + bid_f) * 0.5) * 1e4
    lev, lev_raw, lev_note, _ = leverage_parts(atr_pct if atr_pct else None, spread, depth, eq,
                                               signal.win_rate, signal.regime, cfg.leverage,
                                               lo, hi, False)
    if dd.force_min_leverage and lev > p.lev_min:
        lev = p.lev_min
        lev_note = f"heavy drawdown: minimum leverage {lev:g}x"
    elif dd.leverage_reduction:
        lev = max(1.0, lev - dd.leverage_reduction)
        lev_note = f"{dd.level.value} drawdown: -{dd.leverage_reduction:g} levels"
    lev_i = max(1, math.floor(lev + _NUDGE))
    if lev_i > hi:
        lev_i = max(1, math.floor(hi + _NUDGE))
    leverage = leverage_decimal(lev_i)
    lev_f = float(lev_i)

    # 4. base size --------------------------------------------------------------------------------
    derived_stop: float | None = None  # the ATR stop stop_risk sized from, when it made one
    if signal.stop_price is not None:  # whatever the method sizes by: a stop that would
        check_stop_side(float(signal.stop_price), float(price), signal)  # fire at once
    if requested is not None:
        size = requested
        add(Adjustment("base_size", ReasonCode.CAPITAL_UTILIZATION, 0.0, size, requested_note))
        binding: ReasonCode | None = None
        kelly_f = None
    elif view.base is not None:
        # fixed_fraction and account_profile read only the account: sized once per account.
        size, base_step = view.base
        add(base_step)
        binding = None
        kelly_f = None
    else:
        base = base_size(p, signal, market, ex, prof, lev_f, trail, now)
        if isinstance(base, Decision):
            return Outcome(base, new_state)
        size, binding, kelly_f, derived_stop = base
        if kelly_f is not None and stab is not None:
            f_stab = stab.update(sym, kelly_f, now)
            if f_stab != kelly_f:
                before = size
                size = f_stab * eq * lev_f
                binding = None
                add(Adjustment("adjust", ReasonCode.STABILIZER, before, size,
                               f"stabilizer holds fraction {f_stab:g} (target {kelly_f:g})"))

    # 5. multiplicative adjustments ---------------------------------------------------------------
    caution: list[ReasonCode] = []
    if kelly_f is not None:
        size, changed = kelly_adjust(p, signal, ex, prof, size, trail)
        if changed:
            binding = None
    m = dd.size_multiplier
    before = size
    size *= m
    dd_step = dd_entry.adjust
    if dd_step is None or dd_step.before != before or not before:
        dd_step = Adjustment("adjust", ReasonCode.DRAWDOWN, before, size, dd_entry.note)
    add(dd_step)
    if m != 1.0:
        binding = None
    if dd.level is not DrawdownLevel.NORMAL:
        caution.append(ReasonCode.DRAWDOWN_HEAVY if dd.level is DrawdownLevel.HEAVY
                       else ReasonCode.DRAWDOWN)
    if p.vix_sizes and vix is not None:
        vm = vix_position_multiplier(vix, cfg.vix)
        before = size
        size *= vm
        add(Adjustment("adjust", ReasonCode.VIX, before, size, f"VIX {vix:g}: size x{vm:g}"))
        if vm != 1.0:
            binding = None
    zone_step = view.margin_step
    # Reuse the account's last entry for an equal size (not zero: 0.0 == -0.0).
    if zone_step is None or zone_step.before != size or not size:
        zone_step = view.margin_step = Adjustment("adjust", ReasonCode.MARGIN_ZONE, size, size,
                                                  view.margin_note)
    add(zone_step)
    if allocation is not None:
        rp, rp_note = allocation.multiplier(sym)
        before = size
        size *= rp
        add(Adjustment("adjust", ReasonCode.RISK_PARITY, before, size, rp_note))
        if rp != 1.0:
            binding = None
    method = _LIMIT
    if p.liquidity_enabled and depth is not None:
        la = liquidity_advice(size, price_f, levels, cfg.liquidity,
                              contract_size=rf.contract_size, one_sided=not levels,
                              field="market.asks" if long else "market.bids")
        before = size
        size *= la.multiplier
        add(Adjustment("adjust", ReasonCode.LIQUIDITY_IMPACT, before, size, la.note))
        if la.multiplier != 1.0:
            binding = None
            caution.append(ReasonCode.LIQUIDITY_IMPACT)
    add(Adjustment("leverage", ReasonCode.LEVERAGE, lev_raw, lev_f,
                   f"{lev_i}x" + (f" ({lev_note})" if lev_note else "")))

    if size <= 0.0:
        # A sizing step or a multiplier of zero: name the step that zeroed the size.
        zero_by = next(a.code for a in trail if a.step in ("base_size", "adjust")
                       and a.after <= 0.0)
        return Outcome(denied(Action.REJECT, sym, side, intent, price, trail, (zero_by,), now),
                       new_state)

    # 7. caps: the smallest binds -----------------------------------------------------------------
    phase_room = None
    if view.phase is not None:
        phase_room = cfg.phases.max_bp_usage[view.phase] * eq - ex.margin_used
    limits = opener_cap_limits(sign, sym, lev_f, ex, lp, tier_room, phase_room,
                               None if rules.max_qty is None else rf.max_qty * unit)
    if not min(limits) >= size:  # some cap cuts (caps that do not apply are inf)
        for (code, label), limit in zip(OPENER_CAPS, limits, strict=True):
            if limit < size:
                add(Adjustment("cap", code, size, limit if limit > 0.0 else 0.0,
                               f"{label}: {limit:,.2f}"))
                size = limit
                binding = code
    if size <= 0.0:
        assert binding is not None
        deny = EXHAUSTED[binding]
        return Outcome(reject_at("cap", deny, f"no room left under {binding.value}",
                                 sym, side, intent, price, trail, now, 0.0,
                                 leverage=leverage), new_state)

    # 8. gates that deny --------------------------------------------------------------------------
    pending = account.pending_symbols
    new_symbol = sym not in ex.by_symbol and sym not in pending
    # A gate whose limit is not configured passes everything and is not called.
    allowed = () if prof is None else prof[1].symbols
    gate = restricted_symbol_gate(sym, lp.restricted, allowed) \
        if lp.restricted or allowed else None
    if gate is None and p.signal_gate:
        gate = signal_threshold_gate(signal.strength, lp.signal_threshold)
    if gate is None and p.score_gate:
        gate = score_validity_gate(signal.score, lp.entry_score_min)
    if gate is None and p.concentration_gate:
        gate = concentration_gate(sign, ex.net / eq, lp.concentration)
    if gate is None and new_symbol:
        limit_n, source = lp.max_concurrent_positions, "max_concurrent_positions"
        if prof is not None and prof[1].max_positions < limit_n:
            limit_n, source = prof[1].max_positions, f"{prof[0]} account tier"
        if view.phase is not None and phase_limit < limit_n:
            limit_n, source = phase_limit, f"account phase {view.phase}"
        waiting = len(pending.difference(ex.by_symbol)) if pending else 0
        gate = max_positions_gate(ex.count + waiting, limit_n, source, pending=waiting)
        strat = signal.strategy
        if gate is None and strat is not None and (
                p.phases_enabled or strat.upper() in p.named_strategies):
            s_lim = strategy_position_limit(strat, eq, vix, cfg)
            gate = max_positions_gate(ex.by_strategy.get(strat.upper(), 0), s_lim,
                                      f"strategy {strat}", ReasonCode.STRATEGY_POSITION_LIMIT)
    if gate is None and p.phases_enabled:
        gate = trades_per_day_gate(account.trades_today, max_trades_per_day(eq, vix, cfg))
    if gate is None and bid_f is not None:
        gate = price_band_gate(price_f, bid_f, ask_f, lp.price_band_pct)
    if gate is None and p.spread_gate:
        gate = spread_gate(spread, lp.max_spread_bps)
    if gate is None and cvar is not None:
        gate = cvar_gate(size, cvar, eq, lp.cvar_limit_pct)
    if gate is not None:
        return Outcome(reject_at("gate", gate.code, gate.note, sym, side, intent, price, trail,
                                 now, size, leverage=leverage), new_state)

    # 9. quantize once, rounding down; verify exactly ---------------------------------------------
    qty = rules.quantize_qty_down(size / unit)
    if qty > 0:
        notional = qty * price * rules.contract_size
        n_f = float(notional)
        if n_f >= size * (1.0 - 1e-12) and notional > Decimal(size):
            # A float tie rounded up: one step down keeps the order under every cap.
            qty = rules.quantize_qty(qty - rules.step)
            notional = qty * price * rules.contract_size
            n_f = float(notional)
    if qty <= 0:
        return Outcome(reject_at("quantize", ReasonCode.ZERO_AFTER_QUANTIZE,
                                 f"{size:,.2f} buys less than one step ({rules.step}) or the "
                                 f"market minimum ({rules.min_qty}) at {price}",
                                 sym, side, intent, price, trail, now, size,
                                 leverage=leverage), new_state)
    add(Adjustment("quantize", ReasonCode.QUANTIZE, size, n_f,
                   # !s: str() of a Decimal is what format() gives it, and quicker.
                   f"qty {qty!s} at {price!s} (step {rules.step!s}, rounded down)"))
    if notional < rules.min_notional:
        return Outcome(reject_at("quantize", ReasonCode.BELOW_MIN_NOTIONAL,
                                 f"{_exact(notional)} < market min_notional {rules.min_notional}",
                                 sym, side, intent, price, trail, now, n_f,
                                 leverage=leverage), new_state)
    if n_f < lp.min_open_notional:
        return Outcome(reject_at("quantize", ReasonCode.BELOW_MIN_NOTIONAL,
                                 f"{_exact(notional)} < minimum opener {lp.min_open_notional:,.2f}",
                                 sym, side, intent, price, trail, now, n_f,
                                 leverage=leverage), new_state)
    if n_f < lp.min_position_dollar or (p.min_shares_gate and float(qty) < lp.min_shares):
        return Outcome(reject_at("quantize", ReasonCode.BELOW_MIN_POSITION,
                                 f"{_exact(notional)} ({qty}) < minimum position "
                                 f"{lp.min_position_dollar:,.2f} / {lp.min_shares:g} units",
                                 sym, side, intent, price, trail, now, n_f,
                                 leverage=leverage), new_state)

    # 10. opportunity cost and execution ----------------------------------------------------------
    if p.liquidity_enabled and depth is not None:
        method = liquidity_advice(n_f, price_f, levels, cfg.liquidity,
                                  contract_size=rf.contract_size, one_sided=not levels,
                                  field="market.asks" if long else "market.bids"
                                  ).execution_method
        if method is not _LIMIT:
            add(Adjustment("execution", ReasonCode.LARGE_ORDER, n_f, n_f,
                           f"{method.value}: order is large against the visible book"))
    action = Action.ENTER
    close: tuple[str, ...] = ()
    if p.opportunity_enabled and signal.score is not None:
        oc, worst_symbol, _, oc_note = opportunity_parts(
            signal.score, account.positions, ex.free_margin_pct, cfg.opportunity, view.worst,
            sym)
        if oc is OpportunityAction.HOLD or oc is OpportunityAction.SKIP:
            code = ReasonCode.OPPORTUNITY_HOLD if oc is OpportunityAction.HOLD \
                else ReasonCode.OPPORTUNITY_SKIP
            add(Adjustment("opportunity", code, n_f, 0.0, oc_note))
            act = Action.HOLD if oc is OpportunityAction.HOLD else Action.REJECT
            return Outcome(denied(act, sym, side, intent, price, trail, (code,), now,
                                  leverage=leverage, binding=binding, method=method), new_state)
        if oc is OpportunityAction.ENTER_AND_CLOSE_WORST:
            assert worst_symbol is not None
            add(Adjustment("opportunity", ReasonCode.OPPORTUNITY_REPLACE, n_f, n_f, oc_note))
            action = Action.ENTER_AND_CLOSE_WORST
            close = (worst_symbol,)
    reasons = tuple(caution)
    if reasons and action is Action.ENTER:
        action = Action.CAUTION
    # The stop the size assumes, for the exit plan: the signal's, or the one the desk derived.
    stop = signal.stop_price if derived_stop is None else Decimal(repr(derived_stop))
    return Outcome(Decision(action, sym, side, intent, qty, price, notional, leverage,
                            margin_of(notional, leverage), method, binding, tuple(trail),
                            reasons, n_f / eq, close, now, stop), new_state)


def _exact(amount: Decimal) -> str:
    """``amount`` in full, grouped, without trailing zeros (``9.99999``, not ``10.00``).

    A refusal's note must not show a notional rounded up to the minimum it is below.
    """
    text = format(amount, ",f")
    return text.rstrip("0").rstrip(".") if "." in text else text
