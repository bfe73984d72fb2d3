"""The Desk: the one call a bot makes before every order."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from riskdesk.config import RiskConfig
from riskdesk.domain import (
    AccountState,
    Decision,
    MarketRules,
    MarketSnapshot,
    ReasonCode,
    Signal,
    TradingState,
)
from riskdesk.errors import InvalidInputError
from riskdesk.limits import (
    CapitalState,
    DrawdownStatus,
    MarginStatus,
    ScalingStrategy,
    capital_state,
    drawdown_status,
    effective_trading_state,
    margin_status,
    margin_zone,
    scaling_strategy,
)
from riskdesk.limits import MarginZone as _Zone
from riskdesk.sizing import LeverageAdvice, SizingStabilizer, optimal_leverage

from ._params import AccountView, DeskParams
from ._pipeline import depth_of
from ._pipeline import recommend as _recommend
from ._state import DeskState
from ._weights import AllocationWeights, WeightsCache

if TYPE_CHECKING:
    from riskdesk.planning import Plan

    from ._batch_input import BatchInput
    from ._batch_result import BatchDecisions

Clock = Callable[[], datetime]


def _check_now(now: object) -> datetime:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise InvalidInputError("now", now, "a timezone-aware datetime")
    return now


def _check(value: object, kind: type, field: str) -> None:
    if not isinstance(value, kind):
        raise InvalidInputError(field, value, f"a {kind.__name__}")


class Desk:
    """The risk desk: sizes an order, applies every limit, and explains every number.

    Parameters
    ----------
    config
        The risk configuration (``RiskConfig.preset("crypto-capital-manager")``, a YAML file).
    state
        The state to resume from (trading state, breaker, drawdown level), as the caller
        persisted it; a fresh ACTIVE state when ``None``.
    clock
        A callable returning the current timezone-aware time, used when a method is called
        without ``now``. Without a clock every call must pass ``now``.

    Raises
    ------
    ConfigError
        When capital tiers are on and their section cannot be read as allocation's tiers (a
        symbol in two tiers, a reserve listing symbols or named as ``default_tier``).

    Notes
    -----
    The desk does no I/O. :meth:`recommend` may trip the circuit breaker or move the drawdown
    level, which changes :attr:`state`; the caller persists it. Nothing changes for a call that
    raises on bad input.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from riskdesk import AccountState, MarketRules, MarketSnapshot, RiskConfig, Signal
    >>> now = datetime(2025, 1, 2, tzinfo=timezone.utc)
    >>> desk = Desk(RiskConfig.preset("crypto-capital-manager"))
    >>> btc = MarketRules("BTCUSDT", step="0.00001", tick="0.01", max_leverage=125)
    >>> d = desk.recommend(Signal("BTCUSDT", "LONG", score=75),
    ...                    AccountState(equity=500, available=500, as_of=now),
    ...                    MarketSnapshot(btc, price=50_000, bid=49_999, ask=50_001,
    ...                                   atr=1_000, as_of=now), now=now)
    >>> d.action.value, d.quantity, d.notional
    ('ENTER', Decimal('0.00030'), Decimal('15.00000'))
    """

    __slots__ = ("_clock", "_config", "_params", "_plan_weights", "_stabilizer", "_state",
                 "_view", "_weights")

    def __init__(self, config: RiskConfig, *, state: DeskState | None = None,
                 clock: Clock | None = None) -> None:
        _check(config, RiskConfig, "config")
        if state is not None:
            _check(state, DeskState, "state")
        if clock is not None and not callable(clock):
            raise InvalidInputError("clock", clock, "a callable returning a datetime")
        self._config = config
        self._params = DeskParams.from_config(config)
        self._state = DeskState() if state is None else state
        self._clock = clock
        self._stabilizer = SizingStabilizer.from_config(config.kelly.stabilizer) \
            if config.kelly.stabilizer.enabled else None
        self._view: AccountView | None = None
        self._weights = WeightsCache()
        self._plan_weights: AllocationWeights | None = None

    # ------------------------------------------------------------------ properties
    @property
    def config(self) -> RiskConfig:
        """The configuration."""
        return self._config

    @property
    def state(self) -> DeskState:
        """The state to persist: trading state, breaker, drawdown level."""
        return self._state

    # ------------------------------------------------------------------ helpers
    def _now(self, now: datetime | None) -> datetime:
        if now is None:
            if self._clock is None:
                raise InvalidInputError("now", None,
                                        "a timezone-aware datetime (the desk has no clock)")
            now = self._clock()
        return _check_now(now)

    def _view_of(self, account: AccountState) -> AccountView:
        view = self._view
        if view is None or view.account is not account:
            _check(account, AccountState, "account")
            view = AccountView.of(account, self._params)
            self._view = view
        return view

    def _checked_weights(self, weights: Mapping[str, float] | None) -> AllocationWeights | None:
        if weights is None:
            return None
        return self._weights.get(weights, self._params.risk_parity_max)

    # ------------------------------------------------------------------ decisions
    def recommend(self, signal: Signal, account: AccountState, market: MarketSnapshot, *,
                  now: datetime | None = None,
                  returns: Sequence[float] | None = None,
                  weights: Mapping[str, float] | None = None) -> Decision:
        """Decide one order: size, leverage, caps, gates, quantization, execution.

        Parameters
        ----------
        signal
            What the bot wants to do.
        account
            The account at decision time (``as_of`` set, not older than
            ``risk_management.max_state_age_seconds``).
        market
            The market of ``signal.symbol`` (``as_of`` set, not older than
            ``risk_management.max_data_age_seconds``).
        now
            Decision time, timezone-aware; the desk's clock when ``None``.
        returns
            Historical returns of the symbol, for the CVaR gate (used when
            ``risk_management.cvar_limit_pct`` is set).
        weights
            Target portfolio weights by symbol (for example
            :func:`riskdesk.allocation.risk_parity`'s over the symbols the bot trades). An
            opener is sized by ``min(w x N / sum(w), position_sizing.risk_parity_max_multiplier)``
            (N weighted symbols; equal weights give x1) and a symbol without a weight is
            rejected (``RISK_PARITY``). Reducers ignore them and do not even check them.
            ``None``: no such step.

        Returns
        -------
        Decision
            The answer with its trail. Denials are decisions (REJECT, HOLD), not exceptions.

        Raises
        ------
        InvalidInputError
            When an argument is of the wrong type, ``now`` is missing or naive, a value
            cannot be used (a stop on the wrong side of the price), or, for an opener,
            ``weights`` are not finite non-negative numbers with a positive sum, or
            ``returns`` (read when ``risk_management.cvar_limit_pct`` is set) are not a
            non-empty series of finite numbers. These are checked before the Kelly
            stabilizer moves, so a call that raises changes nothing.
        """
        # The checks of _now, _check and _view_of, inline: this is the hot path.
        if now is None or not isinstance(now, datetime) or now.tzinfo is None:
            now = self._now(now)
        if not isinstance(signal, Signal):
            _check(signal, Signal, "signal")
        if not isinstance(market, MarketSnapshot):
            _check(market, MarketSnapshot, "market")
        view = self._view
        if view is None or view.account is not account:
            view = self._view_of(account)
        if weights is None:
            out = _recommend(self._params, self._state, self._stabilizer, signal, view, market,
                             now, returns=returns)
        else:
            # checked by the pipeline, for an opener only
            out = _recommend(self._params, self._state, self._stabilizer, signal, view, market,
                             now, returns=returns,
                             weights=partial(self._weights.get, weights,
                                             self._params.risk_parity_max))
        self._state = out.state
        return out.decision

    def recommend_batch(self, batch: BatchInput | Sequence[Signal], account: AccountState,
                        markets: Sequence[MarketSnapshot] | Mapping[str, MarketSnapshot]
                        | None = None, *, now: datetime | None = None,
                        weights: Mapping[str, float] | None = None) -> BatchDecisions:
        """Decide many independent orders at once, vectorized with NumPy.

        Each order is decided against the same account as if it were the only one (use
        :meth:`plan` for orders that share a budget). The answers equal :meth:`recommend`'s.

        Parameters
        ----------
        batch
            A :class:`~riskdesk.desk.BatchInput` (arrays), or signals with ``markets``.
        account
            The account.
        markets
            With signals: one market per signal, in order, or a mapping by symbol.
        now
            Decision time, timezone-aware; the desk's clock when ``None``.
        weights
            Allocation weights by symbol, applied to every opener row as in :meth:`recommend`;
            checked up front, before any row is decided.

        Returns
        -------
        BatchDecisions
            Columns of actions, quantities, notionals, leverage, binding caps and reasons;
            ``decision(i)`` rebuilds a full :class:`~riskdesk.Decision`.
        """
        from ._batch import recommend_batch
        from ._batch_input import BatchInput

        now = self._now(now)
        view = self._view_of(account)
        checked = self._checked_weights(weights)
        if not isinstance(batch, BatchInput):
            if markets is None:
                raise InvalidInputError("markets", None, "markets for the signals")
            batch = BatchInput.from_objects(batch, markets)
        out = recommend_batch(self, view, batch, now, checked)
        return out

    def plan(self, targets: Mapping[str, float], account: AccountState,
             markets: Mapping[str, MarketSnapshot], *, now: datetime | None = None,
             weights: Mapping[str, float] | None = None) -> Plan:
        """Seed 000's two-phase batch: reducers first, then openers within what is left.

        Parameters
        ----------
        targets
            Target weight per symbol, signed (negative for a short), as a fraction of equity
            before the capital utilization factor. Symbols held but not listed are left alone.
        account
            The account.
        markets
            Market snapshot per symbol; every target needs one.
        now
            Decision time, timezone-aware; the desk's clock when ``None``.
        weights
            Allocation weights by symbol, applied to every phase-B opener as in
            :meth:`recommend` (phase-A reducers ignore them); checked up front, before any line
            is planned.

        Returns
        -------
        Plan
            The lines in execution order, each with its decision and seed 000 log line.
        """
        from riskdesk.planning import plan_targets

        now = self._now(now)
        _check(account, AccountState, "account")
        self._plan_weights = self._checked_weights(weights)
        try:
            return plan_targets(self, targets, account, markets, now)
        finally:
            self._plan_weights = None

    def _decide(self, signal: Signal, account: AccountState, market: MarketSnapshot,
                now: datetime, *, requested: float | None = None, requested_note: str = "",
                reduce_qty: Decimal | None = None) -> Decision:
        """Run the pipeline with the planner's overrides (a requested notional, a quantity)."""
        view = self._view_of(account)
        out = _recommend(self._params, self._state, self._stabilizer, signal, view, market, now,
                         requested=requested, requested_note=requested_note,
                         reduce_qty=reduce_qty, weights=self._plan_weights)
        self._state = out.state
        return out.decision

    # ------------------------------------------------------------------ state changes
    def set_trading_state(self, state: TradingState | str, *, operator: str, note: str,
                          now: datetime | None = None) -> DeskState:
        """Halt, set reduce-only, or resume; recorded in :attr:`state`.

        Parameters
        ----------
        state
            ACTIVE, REDUCING or HALTED.
        operator
            Who made the change (recorded).
        note
            Why (recorded).
        now
            When; the desk's clock when ``None``.

        Returns
        -------
        DeskState
            The new state (also :attr:`state`).
        """
        now = self._now(now)
        try:
            ts = TradingState(str(state).upper())
        except ValueError:
            raise InvalidInputError("state", state,
                                    f"one of {[t.value for t in TradingState]}") from None
        if not isinstance(operator, str) or not operator.strip():
            raise InvalidInputError("operator", operator, "a non-empty name")
        if not isinstance(note, str):
            raise InvalidInputError("note", note, "a string")
        s = self._state
        self._state = DeskState(ts, s.breaker, s.drawdown_level,
                                f"trading state {s.trading_state.value} -> {ts.value}: {note}",
                                now, operator, s.drawdown_multiplier)
        return self._state

    def reset_breaker(self, *, operator: str, note: str, now: datetime | None = None) -> DeskState:
        """Reset the circuit breaker; the reset is recorded with who, when and why.

        A reset of a breaker that is not tripped is recorded all the same (the record says it
        was not tripped), so that an operator's action always leaves a trace.

        Parameters
        ----------
        operator
            Who resets it.
        note
            Why.
        now
            When; the desk's clock when ``None``.

        Returns
        -------
        DeskState
            The new state (also :attr:`state`).
        """
        now = self._now(now)
        s = self._state
        was = "" if s.breaker.tripped else " (breaker was not tripped)"
        breaker = s.breaker.reset(operator=operator, note=note, now=now)
        self._state = DeskState(s.trading_state, breaker, s.drawdown_level,
                                f"breaker reset{was}: {note}", now, operator,
                                s.drawdown_multiplier)
        return self._state

    # ------------------------------------------------------------------ status views
    def margin_status(self, account: AccountState,
                      rules: Mapping[str, MarketRules] | None = None) -> MarginStatus:
        """Seed 001's margin zone and actions for ``account``."""
        _check(account, AccountState, "account")
        return margin_status(account, self._config.margin_zones, rules=rules)

    def drawdown_status(self, account: AccountState, now: datetime | None = None) -> DrawdownStatus:
        """Drawdown level, multipliers, loss limits and breaker, without changing the state.

        The breaker shown is what :meth:`recommend` would record at ``now``, and the size
        multiplier what it would apply (recovery rises from the recorded multiplier).
        """
        _check(account, AccountState, "account")
        s = self._state
        return drawdown_status(account, s.breaker, self._now(now), self._config.drawdown,
                               s.drawdown_level, s.drawdown_multiplier)

    def trading_state(self, account: AccountState,
                      now: datetime | None = None) -> tuple[TradingState, tuple[ReasonCode, ...]]:
        """The effective trading state: the operator's, the breaker's and margin RED's."""
        _check(account, AccountState, "account")
        now = self._now(now)
        s = self._state
        dd = drawdown_status(account, s.breaker, now, self._config.drawdown, s.drawdown_level,
                             s.drawdown_multiplier)
        red = margin_zone(account.margin_used_pct, self._config.margin_zones) is _Zone.RED
        return effective_trading_state(self._state.trading_state,
                                       breaker_active=dd.breaker.is_active(now), margin_red=red)

    def scaling_strategy(self, account: AccountState, vix: float | None = None) -> ScalingStrategy:
        """Seed 001's account strategy (tier, positions, leverage, risk) and seed 004's phase."""
        _check(account, AccountState, "account")
        return scaling_strategy(float(account.equity), self._config, vix)

    def capital_state(self, account: AccountState) -> CapitalState:
        """Seed 001's ``/state`` figures for ``account``."""
        _check(account, AccountState, "account")
        return capital_state(account, self._config.capital_status)

    def optimal_leverage(self, market: MarketSnapshot, account: AccountState,
                         signal: Signal | None = None) -> LeverageAdvice:
        """Seed 001's adaptive leverage for ``market``, within the tier and market ranges.

        The book depth is read on the side a ``signal`` would take (the asks without one).
        Drawdown reductions are not applied here; :meth:`recommend` applies them.
        """
        _check(market, MarketSnapshot, "market")
        view = self._view_of(account)
        cfg = self._config
        hi = float(market.rules.max_leverage)
        lo: float | None = None
        if view.profile is not None and self._params.adaptive_leverage:
            lo = view.profile[1].min_leverage
            hi = min(hi, view.profile[1].max_leverage)
        if self._params.tiers_enabled:
            tier = view.tiers[view.members.get(market.symbol, self._params.default_tier)][0]
            lo = tier.min_leverage if lo is None else max(lo, tier.min_leverage)
            hi = min(hi, tier.max_leverage)
        if lo is not None and lo > hi:
            lo = hi
        spread = None
        if market.bid is not None and market.ask is not None:
            b, a = float(market.bid), float(market.ask)
            spread = (a - b) / ((a + b) * 0.5) * 1e4
        atr = market.atr_pct
        long = signal is None or signal.side.sign > 0
        depth = depth_of(market, long, self._params.near_levels)
        return optimal_leverage(atr_pct=atr if atr else None, spread_bps=spread, depth=depth,
                                equity=view.ex.equity,
                                win_rate=None if signal is None else signal.win_rate,
                                regime=None if signal is None else signal.regime,
                                cfg=cfg.leverage, min_leverage=lo, max_leverage=hi)
