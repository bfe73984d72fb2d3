"""ExitEngine: turns bars and ticks into ordered exit actions for one position."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from riskdesk.config import Exits
from riskdesk.domain import Decision, MarketRules, Position, Side, to_decimal
from riskdesk.errors import InvalidInputError
from riskdesk.exits._actions import Add, Close, ExitAction, ExitReason, MoveStop, Reduce
from riskdesk.exits._bar import Bar
from riskdesk.exits._breakeven import break_even_due, break_even_level
from riskdesk.exits._partials import leaves_dust, rung_quantity
from riskdesk.exits._plan import ExitPlan, build_plan, plan_for_decision, plan_for_position
from riskdesk.exits._prices import beyond, offset, reached, tick_or_none, tighter
from riskdesk.exits._pyramid import add_due, add_quantity
from riskdesk.exits._state import Lot, PositionState
from riskdesk.exits._trailing import trailing_activated, trailing_level

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ExitUpdate:
    """The actions for one bar or tick, in the order to send them, and the state after them.

    The state assumes every action filled at its price; when a fill differs, rebuild it with
    :meth:`PositionState.apply` on the actual fills.
    """

    actions: tuple[ExitAction, ...]
    state: PositionState


class ExitEngine:
    """Manages exits for positions: brackets, trailing, break-even, ladders, adds, time stop.

    The engine is pure: it reads a plan, a state and a bar or a tick and returns actions and
    the next state; it keeps nothing between calls. Actions come in this order:

    1. price exits in the order the bar reached them: a gap through the stop or targets at the
       open fills there; then, when the bar touched both the stop and a target, ``intrabar``
       decides (``stop_first``: close at the stop; ``target_first``: ladder rungs, then the
       stop for the rest); ladder rungs go nearest first;
    2. the time stop (close at the bar's close);
    3. one stop move (break-even, trailing, or the pyramid's), only ever tighter;
    4. the pyramid add.

    Risk-reducing actions always come before the add, so the open risk stays within the
    initial budget after each action. Stop moves and adds computed from a bar take effect
    from the next bar: the bar's path between its high and low is unknown.

    Parameters
    ----------
    config
        The ``exits`` settings used for the plans this engine builds. ``on_bar`` and
        ``on_tick`` follow each plan's own settings.
    """

    def __init__(self, config: Exits | None = None) -> None:
        if config is not None and not isinstance(config, Exits):
            raise InvalidInputError("config", config, "an Exits section")
        self.config = Exits() if config is None else config

    # ------------------------------------------------------------------ plans
    def build_plan(self, *, symbol: str, side: Side | str, entry: Decimal | float | str,
                   quantity: Decimal | float | str, rules: MarketRules,
                   stop_price: Decimal | float | str | None = None,
                   atr: Decimal | float | str | None = None,
                   opened_at: datetime | None = None) -> ExitPlan:
        """:func:`riskdesk.exits.build_plan` with this engine's settings."""
        return build_plan(self.config, symbol=symbol, side=side, entry=entry,
                          quantity=quantity, rules=rules, stop_price=stop_price, atr=atr,
                          opened_at=opened_at)

    def plan_for_position(self, position: Position, rules: MarketRules, *,
                          atr: Decimal | float | str | None = None,
                          opened_at: datetime | None = None) -> ExitPlan:
        """:func:`riskdesk.exits.plan_for_position` with this engine's settings."""
        return plan_for_position(self.config, position, rules, atr=atr, opened_at=opened_at)

    def plan_for_decision(self, decision: Decision, rules: MarketRules, *,
                          stop_price: Decimal | float | str | None = None,
                          atr: Decimal | float | str | None = None,
                          opened_at: datetime | None = None) -> ExitPlan:
        """:func:`riskdesk.exits.plan_for_decision` with this engine's settings."""
        return plan_for_decision(self.config, decision, rules, stop_price=stop_price,
                                 atr=atr, opened_at=opened_at)

    @staticmethod
    def start(plan: ExitPlan) -> PositionState:
        """The state of a freshly opened position under ``plan``."""
        return PositionState(plan.symbol, plan.side, plan.quantity,
                             (Lot(plan.quantity, plan.entry),), plan.stop, plan.entry,
                             atr=plan.atr, opened_at=plan.opened_at)

    # ------------------------------------------------------------------ events
    def on_bar(self, state: PositionState, plan: ExitPlan, bar: Bar) -> ExitUpdate:
        """Actions for one completed bar.

        Parameters
        ----------
        state
            The position now (from :meth:`start` or the previous update).
        plan
            Its plan.
        bar
            The bar; its ``ts`` must not be earlier than the last update.

        Returns
        -------
        ExitUpdate
            Actions in the documented order and the state after them.

        Raises
        ------
        InvalidInputError
            When the state is closed, belongs to another plan, or time goes backwards.
        """
        if not isinstance(bar, Bar):
            raise InvalidInputError("bar", bar, "a Bar")
        return _step(state, plan, bar)

    def on_tick(self, state: PositionState, plan: ExitPlan, price: Decimal | float | str,
                now: datetime, *, atr: Decimal | float | str | None = None) -> ExitUpdate:
        """Actions for one price (for seed 002's rule pass the mid).

        A tick is a bar whose four prices are ``price``: the stop and targets fill at
        ``price``; stop moves and adds see ``price`` as both the latest and the best price.
        """
        p = to_decimal(price, "price", allow_zero=False)
        bar = Bar(p, p, p, p, now, None if atr is None else to_decimal(atr, "atr"))
        return _step(state, plan, bar)


def _check(state: PositionState, plan: ExitPlan, ts: datetime) -> None:
    if not isinstance(state, PositionState):
        raise InvalidInputError("state", state, "a PositionState")
    if not isinstance(plan, ExitPlan):
        raise InvalidInputError("plan", plan, "an ExitPlan")
    if state.symbol != plan.symbol or state.side is not plan.side:
        raise InvalidInputError("state", f"{state.symbol} {state.side}",
                                f"the plan's position {plan.symbol} {plan.side}")
    if state.closed:
        raise InvalidInputError("state.quantity", state.quantity, "an open position")
    if state.last_ts is not None and ts < state.last_ts:
        raise InvalidInputError("bar.ts", ts, f">= the last update {state.last_ts}")
    if state.opened_at is not None and ts < state.opened_at:
        raise InvalidInputError("bar.ts", ts, f">= the opening time {state.opened_at}")


class _Run:
    """Actions collected for one step, applied to the state as they are emitted."""

    __slots__ = ("actions", "plan", "state")

    def __init__(self, state: PositionState, plan: ExitPlan) -> None:
        self.state = state
        self.plan = plan
        self.actions: list[ExitAction] = []

    def emit(self, action: ExitAction) -> None:
        self.actions.append(action)
        self.state = self.state.apply(action)

    def close(self, price: Decimal, reason: ExitReason, level: int | None = None) -> None:
        self.emit(Close(self.state.quantity, price, reason, level))

    def fill_level(self, index: int, price: Decimal) -> None:
        """Fire ladder level ``index`` at ``price``."""
        st, lv = self.state, self.plan.targets[index]
        if lv.final:
            self.close(price, ExitReason.TAKE_PROFIT, index)
            return
        assert lv.fraction is not None
        rules = self.plan.rules
        qty = rung_quantity(lv.fraction, st.held, price, rules)
        if qty >= st.quantity or (qty > _ZERO and leaves_dust(st.quantity - qty, price, rules)):
            self.close(price, ExitReason.TAKE_PROFIT, index)
        elif qty > _ZERO:
            self.emit(Reduce(qty, price, ExitReason.PARTIAL_TAKE_PROFIT, index))
        else:  # rounds to nothing: pass the rung over
            self.state = replace(st, targets_done=index + 1)

    def fill_levels(self, touched: Decimal, fill_at: Decimal | None) -> None:
        """Fire every pending level ``touched`` reaches, at ``fill_at`` or at the level."""
        side = self.state.side
        targets = self.plan.targets
        while not self.state.closed and self.state.targets_done < len(targets):
            i = self.state.targets_done
            level = targets[i].price
            if not reached(side, touched, level):
                return
            self.fill_level(i, level if fill_at is None else fill_at)


def _step(state: PositionState, plan: ExitPlan, bar: Bar) -> ExitUpdate:
    _check(state, plan, bar.ts)
    run = _Run(state, plan)
    _price_exits(run, bar)
    if not run.state.closed:
        limit = plan.params.time_stop
        if limit is not None and state.opened_at is not None \
                and bar.ts - state.opened_at >= limit:
            run.close(bar.close, ExitReason.TIME_STOP)
    st = run.state
    if st.closed:
        return ExitUpdate(tuple(run.actions), replace(st, last_ts=bar.ts))
    extreme, atr, be_done, active = _manage(run, bar)
    st = run.state
    # one constructor call instead of several replace() calls: this is the hot path
    final = PositionState(st.symbol, st.side, st.quantity, st.lots, st.stop, extreme, atr,
                          st.targets_done, st.adds, be_done, active, bar.ts, st.opened_at)
    return ExitUpdate(tuple(run.actions), final)


def _price_exits(run: _Run, bar: Bar) -> None:
    side = run.state.side
    stop = run.state.stop
    # the open is the bar's first price: a gap through a level fills at the open
    if stop is not None and not beyond(side, bar.open, stop):
        run.close(bar.open, ExitReason.STOP_LOSS)
        return
    run.fill_levels(bar.open, bar.open)
    if run.state.closed:
        return
    best, worst = (bar.high, bar.low) if side.sign > 0 else (bar.low, bar.high)
    stop_hit = stop if stop is not None and not beyond(side, worst, stop) else None
    targets = run.plan.targets
    i = run.state.targets_done
    target_hit = i < len(targets) and reached(side, best, targets[i].price)
    if stop_hit is not None and target_hit and run.plan.config.intrabar == "stop_first":
        run.close(stop_hit, ExitReason.STOP_LOSS)
        return
    run.fill_levels(best, None)
    if stop_hit is not None and not run.state.closed:
        run.close(stop_hit, ExitReason.STOP_LOSS)


def _manage(run: _Run, bar: Bar) -> tuple[Decimal, Decimal | None, bool, bool]:
    """Break-even, trailing and pyramiding from this bar, for the bars that follow.

    Emits the stop move and the add; returns the new best price, ATR, break-even and
    trailing-activation flags for the caller to store.
    """
    plan, p, cfg = run.plan, run.plan.params, run.plan.config
    st = run.state
    side = st.side
    best = bar.high if side.sign > 0 else bar.low
    extreme = best if beyond(side, best, st.extreme) else st.extreme
    atr = bar.atr if bar.atr is not None else st.atr
    r = plan.risk_per_unit
    last = bar.close
    candidate: Decimal | None = None
    reason = ExitReason.TRAILING
    be_done, active = st.break_even_done, st.trailing_active

    def usable(level: Decimal) -> bool:
        # a stop at or through the latest price would fire at once: wait for room
        return beyond(side, last, level)

    if cfg.break_even_enabled and not be_done and r is not None \
            and break_even_due(side, plan.entry, extreme, r, p.be_after_r):
        raw = break_even_level(side, st.average_entry, p.be_fee)
        be_level = tick_or_none(raw, side, plan.rules)
        if be_level is not None and st.stop is not None and not beyond(side, be_level,
                                                                       st.stop):
            be_done = True  # the stop is already at least as tight
        elif be_level is not None and usable(be_level):
            be_done, candidate, reason = True, be_level, ExitReason.BREAK_EVEN
    if cfg.trailing_enabled:
        active = active or trailing_activated(side, plan.entry, extreme, r, p.activation_r)
        trail = trailing_level(side, cfg.trailing_mode, extreme=extreme, last=last, atr=atr,
                               pct=p.trailing_pct, k=p.trailing_k) if active else None
        trail_level = None if trail is None else tick_or_none(trail, side, plan.rules)
        if trail_level is not None and usable(trail_level) and (
                candidate is None or beyond(side, trail_level, candidate)):
            candidate, reason = trail_level, ExitReason.TRAILING
    new_stop = candidate if candidate is not None and (
        st.stop is None or beyond(side, candidate, st.stop)) else None

    add: Add | None = None
    budget = plan.risk_budget
    if cfg.pyramiding_enabled and r is not None and budget is not None \
            and add_due(st, last, r, p.pyramid_after_r, cfg.pyramid_max_adds):
        current = tighter(side, new_stop, st.stop)
        base = tick_or_none(offset(side, last, -r), side, plan.rules)
        moved = None if base is None else tighter(side, base, current)
        if moved is not None and usable(moved):
            qty = add_quantity(st, last, moved, budget, plan.quantity, plan.rules)
            if qty > _ZERO:
                add = Add(qty, last, st.adds + 1)
                if moved != current:
                    new_stop, reason = moved, ExitReason.PYRAMID
    if new_stop is not None:
        run.emit(MoveStop(new_stop, st.stop, reason))
    if add is not None:
        run.emit(add)
    return extreme, atr, be_done, active
