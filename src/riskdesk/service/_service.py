"""The composition root: store, broker, desk and configuration, and the I/O around a decision.

The desk decides; the service fetches what it decides on (account and market from the broker,
desk state from the store), persists what it returns (desk state, journal, reservations),
and keeps every deciding call idempotent. Faces (HTTP, CLI, dashboard) call only this. The
deciding calls live in :mod:`riskdesk.service._decisions`, the desk and its stored state in
:mod:`riskdesk.service._state`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from riskdesk.config import RiskConfig
from riskdesk.desk import Desk
from riskdesk.domain import AccountState, MarketSnapshot, TradingState
from riskdesk.errors import (
    BrokerError,
    ConfigError,
    InvalidInputError,
    StaleStateError,
    StateError,
)
from riskdesk.service import _adapters as ports
from riskdesk.service._decisions import Deciding, MarketInput
from riskdesk.service._exits import Exiting
from riskdesk.service._marks import CapitalMarks, stale_reason
from riskdesk.service._metrics import AccountGauges, Metrics
from riskdesk.service._paper import open_paper_broker
from riskdesk.service._settings import MAX_RESERVATION_TTL_SECONDS, Settings
from riskdesk.service._state import DeskSession
from riskdesk.service._views import exposure_view, reserved_view

Clock = Callable[[], datetime]
log = logging.getLogger("riskdesk.service")


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Service(Deciding, Exiting):
    """Everything a face needs, with the I/O done in one place.

    Parameters
    ----------
    config
        The risk configuration.
    store
        An open, migrated :class:`riskdesk.store.Store`.
    broker
        Where account and market state come from.
    config_name
        Shown in the journal and the dashboard.
    clock
        Returns the current UTC time; injected so tests control time.
    reservation_ttl_seconds
        How long an ENTER decision's reservation holds, in (0, 86400] seconds
        (:class:`~riskdesk.errors.ConfigError` otherwise).
    account_id
        The account the reservations are booked against.
    key_cache_seconds
        How long a verified API key is trusted without reading the database again.
    """

    def __init__(self, *, config: RiskConfig, store: Any, broker: Any,
                 config_name: str | None = None, clock: Clock = utc_now,
                 reservation_ttl_seconds: float = 300.0, account_id: str = "default",
                 key_cache_seconds: float = 1.0) -> None:
        if isinstance(reservation_ttl_seconds, bool) or not isinstance(
                reservation_ttl_seconds, int | float) or not (
                0 < reservation_ttl_seconds <= MAX_RESERVATION_TTL_SECONDS):
            # Checked here, not at the first approved opener: a 422 naming a field no
            # request has.
            raise ConfigError(
                f"reservation_ttl_seconds: got {reservation_ttl_seconds!r}, expected seconds "
                f"in (0, {MAX_RESERVATION_TTL_SECONDS:g}]")
        self.config = config
        self.config_name = config_name or config.name
        self.store = store
        self.broker = broker
        self.clock = clock
        self.reservation_ttl_seconds = reservation_ttl_seconds
        self.account_id = account_id
        self.key_cache_seconds = key_cache_seconds
        self.metrics = Metrics(account=self.account_gauges)
        self._key_locks: dict[str, threading.Lock] = {}
        self._key_locks_guard = threading.Lock()
        self.session = DeskSession(config, store)
        self.marks = CapitalMarks(
            store, max_state_age=config.risk_management.max_state_age_seconds)

    # ------------------------------------------------------------------ construction
    @classmethod
    def open(cls, settings: Settings, *, clock: Clock = utc_now) -> Service:
        """Open the store (migrating it), load the configuration and build the broker.

        Parameters
        ----------
        settings
            Where the database is and which configuration and broker to use.
        clock
            The clock.

        Returns
        -------
        Service
            Ready to serve.
        """
        config = RiskConfig.load(settings.config)
        store = ports.open_store(settings.db_url, config=config, clock=clock)
        broker = open_paper_broker(store)
        return cls(config=config, store=store, broker=broker, config_name=settings.config,
                   clock=clock, reservation_ttl_seconds=settings.reservation_ttl_seconds,
                   key_cache_seconds=settings.key_cache_seconds)

    def close(self) -> None:
        """Release the store's connections."""
        ports.close_store(self.store)

    # ------------------------------------------------------------------ state
    def _desk(self, *, persist: bool = False, operator: str | None = None,
              note: str | None = None) -> AbstractContextManager[Desk]:
        """The desk on the stored state, read now (see :meth:`DeskSession.fresh`)."""
        return self.session.fresh(persist=persist, at=self.clock() if persist else None,
                                  operator=operator, note=note)

    def account(self, now: datetime | None = None, *, may_write: bool = True,
                may_read: bool = True) -> AccountState:
        """The account as the broker reports it now, with the capital tracker's marks.

        Fails closed: no default account. The high-water mark and the day's and week's start
        equity are the tracker's (:class:`~riskdesk.service._marks.CapitalMarks`; the day's
        first read records the day's first snapshot, which ``may_write=False`` refuses with
        :class:`~riskdesk.service._state.SaveNeededError`, as ``may_read=False`` refuses a
        read of marks held over a second). An account state the broker
        reports but the domain refuses (a negative balance, an equity below
        :data:`~riskdesk.domain.MIN_EQUITY`) is the broker's failure (:class:`BrokerError`,
        503), not the request's.
        """
        now = now or self.clock()
        return self.marks.apply(self._broker_account(now), now, may_write=may_write,
                                may_read=may_read)

    def _broker_account(self, now: datetime) -> AccountState:
        try:
            return self.broker.account(now)  # type: ignore[no-any-return]
        except InvalidInputError as exc:
            raise BrokerError(f"the broker reported an unusable account: {exc}") from exc

    def market(self, symbol: str, given: MarketInput | None, now: datetime, *,
               price_from: str | None = "market.price") -> MarketSnapshot:
        """A market snapshot from the caller's data, completed from the broker.

        It is dated ``now``, or by the venue's time of the order book it reads from the broker
        (``OrderBook.as_of``) when that book has one: an old book is stale market data.

        Raises
        ------
        UnknownSymbolError
            When the broker does not list ``symbol``.
        StateError
            When neither the caller nor the broker has a price; the message names where the
            caller may send one (``price_from``), or says the request has no such field.
        """
        g = given or MarketInput()
        rules = self.broker.market_rules(symbol)
        price = g.price if g.price is not None else self.broker.last_price(symbol)
        if price is None:
            where = f"send {price_from}" if price_from else "this request takes no price"
            raise StateError(f"no price for {symbol}: the broker quotes none ({where})")
        bids, asks = g.bids, g.asks
        as_of = now
        from_broker = False
        if not bids and not asks and self.config.liquidity.enabled:
            book = ports.order_book(self.broker, symbol, self.config.liquidity.far_levels)
            if book is not None:
                bids, asks, from_broker = book.bids, book.asks, True
                if book.as_of is not None:
                    # The venue's time of the levels the decision reads: a book the venue
                    # dated long ago makes the snapshot stale (MARKET_STALE refuses openers).
                    as_of = book.as_of
        bid = g.bid if g.bid is not None else (Decimal(repr(bids[0].price)) if bids else None)
        ask = g.ask if g.ask is not None else (Decimal(repr(asks[0].price)) if asks else None)
        if bid is not None and ask is not None and bid > ask:
            if from_broker and (g.bid is None or g.ask is None):
                raise BrokerError(f"the broker's order book for {symbol} is crossed "
                                  f"(bid {bid} > ask {ask})")
            # Name the fields the caller sent (a quote, or the best levels of a book).
            bid_field = "market.bid" if g.bid is not None else "market.bids[0].price"
            ask_field = "market.ask" if g.ask is not None else "market.asks[0].price"
            raise InvalidInputError(bid_field, bid, f"<= {ask_field} ({ask})")
        return MarketSnapshot(rules=rules, price=price, as_of=as_of, bid=bid, ask=ask, atr=g.atr,
                              volatility=g.volatility, vix=g.vix, bids=bids, asks=asks)

    # ------------------------------------------------------------------ keys
    def verify_api_key(self, plaintext: str) -> Any:
        """The stored key matching ``plaintext`` (constant-time), or ``None``.

        A key verified within ``key_cache_seconds`` is not read again (see
        :meth:`riskdesk.store.Store.verify_api_key`); deciding calls check at commit time that
        the key is still active.
        """
        return self.store.verify_api_key(plaintext, max_age=self.key_cache_seconds)

    def cached_api_key(self, plaintext: str) -> Any:
        """The key if it was verified within ``key_cache_seconds``, else ``None`` (no I/O)."""
        return self.store.cached_api_key(plaintext, max_age=self.key_cache_seconds)

    # ------------------------------------------------------------------ views
    def capital_state(self) -> dict[str, Any]:
        """Seed 001's capital state of the broker's account now, with the reserved budget."""
        now = self.clock()
        return self._capital_view(self.account(now), now)

    def _capital_view(self, account: AccountState, now: datetime) -> dict[str, Any]:
        """Seed 001's capital state plus ``reserved``: what pending orders hold.

        The holds counted are the ones a decision on ``account`` would find held: active
        reservations not expired at ``now``, and confirmed ones not yet in the account state.
        """
        view = ports.capital_view(self.config, account)
        view["reserved"] = reserved_view(
            self.store.held_budget(self.account_id, now=now, as_of=account.as_of))
        return view

    def _fresh(self, account: AccountState, now: datetime) -> AccountState:
        """``account`` when its ``as_of`` is within ``max_state_age_seconds`` of ``now``.

        Raises
        ------
        StaleStateError
            For an account without ``as_of`` or read longer ago (or ahead) than
            ``risk_management.max_state_age_seconds``: its equity is no figure to record or
            to size from.
        """
        reason = stale_reason(account, now, self.config.risk_management.max_state_age_seconds)
        if reason is not None:
            raise StaleStateError(reason)
        return account

    def record_capital(self) -> None:
        """Snapshot the account into the capital history (the equity curve).

        Raises
        ------
        StaleStateError
            When the broker's account state is stale or undated: nothing is recorded.
        """
        now = self.clock()
        self.marks.record(self._fresh(self._broker_account(now), now), now)

    def sample_capital(self) -> bool:
        """Record a capital snapshot for the equity curve; a failed sample is logged.

        Used by the periodic sampler: a broker hiccup or another worker's later snapshot
        skips one point of the curve instead of stopping the service.

        Returns
        -------
        bool
            Whether a snapshot was recorded.
        """
        try:
            self.record_capital()
        except (StateError, BrokerError, InvalidInputError) as exc:
            log.warning("capital snapshot skipped: %s", exc)
            return False
        return True

    def capital_history(self, hours: float) -> dict[str, Any]:
        """Capital snapshots of the last ``hours``, oldest first."""
        now = self.clock()
        points = self.store.capital_history(now - timedelta(hours=hours))
        return {"hours": hours, "points": [ports.capital_point(p) for p in points]}

    def optimal_leverage(self, symbol: str) -> dict[str, Any]:
        """The adaptive leverage for ``symbol`` at the current market and account."""
        now = self.clock()
        account = self.account(now)
        market = self.market(symbol, None, now, price_from=None)
        with self._desk(persist=False) as desk:
            result = desk.optimal_leverage(market, account)
        return ports.leverage_view(symbol, result)

    def margin_status(self) -> dict[str, Any]:
        """The four-zone margin monitor."""
        account = self.account()
        with self._desk(persist=False) as desk:
            return ports.margin_view(desk.margin_status(account))

    def scaling_strategy(self) -> dict[str, Any]:
        """The small / medium / large account profile."""
        account = self.account()
        with self._desk(persist=False) as desk:
            return ports.scaling_view(desk.scaling_strategy(account), account.equity)

    def drawdown_status(self) -> dict[str, Any]:
        """Drawdown state, multipliers and the circuit breaker."""
        now = self.clock()
        account = self.account(now)
        with self._desk(persist=False) as desk:
            return ports.drawdown_view(desk.drawdown_status(account, now),
                                       desk.trading_state(account, now), now)

    def multi_tier(self) -> dict[str, Any]:
        """CORE / GROWTH / OPPORTUNITY / RESERVE budgets against what is deployed.

        The rebalancing schedule runs from the last rebalance: the latest plan that sent an
        order (:meth:`riskdesk.store.Store.last_plan_at`), dated at the account's ``as_of``
        (or at that plan, when another worker's clock had run ahead of this one's).
        """
        account = self.account()
        last = self.store.last_plan_at()
        at = account.as_of if last is None or account.as_of is None else \
            max(account.as_of, last)
        return ports.multi_tier_view(self.config, account, now=at, last_rebalance=last)

    def exposure(self, account: AccountState) -> dict[str, list[dict[str, Any]]]:
        """Exposure by symbol and by capital tier."""
        tiers = self.config.capital_tiers
        return exposure_view(account, lambda s: ports.tier_of(self.config, s),
                             {name: t.target_pct for name, t in tiers.tiers.items()})

    def trading_state(self) -> str:
        """The effective trading state: ACTIVE, REDUCING or HALTED."""
        now = self.clock()
        account = self.account(now)
        with self._desk(persist=False) as desk:
            return desk.trading_state(account, now)[0].value

    def account_gauges(self) -> AccountGauges:
        """The account gauges of ``/metrics``, read when it is scraped.

        Built from the capital state (with ``reserved``), margin and drawdown views as
        :meth:`analysis_complete` builds them, from one account read. Raises whatever reading
        the broker or the store raises; :class:`Metrics` then leaves the gauges out.

        ``riskdesk_trading_halted`` is set first, from the stored desk state (the operator's
        trading state): a halt saved before a restart, or by another worker, shows in the
        scrape, and it does not need the broker.
        """
        now = self.clock()
        with self._desk(persist=False) as desk:
            operator = desk.state.trading_state
        self.metrics.trading_state.set(0 if operator is TradingState.ACTIVE else 1)
        account = self.account(now)
        with self._desk(persist=False) as desk:
            margin = ports.margin_view(desk.margin_status(account))
            trading = desk.trading_state(account, now)
            drawdown = ports.drawdown_view(desk.drawdown_status(account, now), trading, now)
        return AccountGauges.from_views(self._capital_view(account, now), margin, drawdown)

    def analysis_complete(self, hours: float = 24.0) -> dict[str, Any]:
        """Every view in one call (seed 001's master endpoint, and the dashboard's feed)."""
        now = self.clock()
        account = self.account(now)
        with self._desk(persist=False) as desk:
            margin = ports.margin_view(desk.margin_status(account))
            scaling = ports.scaling_view(desk.scaling_strategy(account), account.equity)
            trading = desk.trading_state(account, now)
            drawdown = ports.drawdown_view(desk.drawdown_status(account, now), trading, now)
        history = self.store.capital_history(now - timedelta(hours=hours))
        # the last rebalance, as in multi_tier
        last_plan = self.store.last_plan_at()
        at = account.as_of if last_plan is None or account.as_of is None else \
            max(account.as_of, last_plan)
        return {
            "config_name": self.config_name,
            "trading_state": trading[0].value,
            "capital_state": self._capital_view(account, now),
            "margin_status": margin,
            "scaling_strategy": scaling,
            "drawdown_status": drawdown,
            "multi_tier_allocation": ports.multi_tier_view(
                self.config, account, now=at, last_rebalance=last_plan),
            "exposure": self.exposure(account),
            "capital_history": [ports.capital_point(p) for p in history],
        }

    # ------------------------------------------------------------------ pure calculators
    def kelly(self, *, win_rate: float, win_loss_ratio: float, regime: str | None,
              portfolio_heat: float | None, capital: Decimal | None) -> dict[str, Any]:
        """Kelly sizing with seed 001's adjustments; capital defaults to the equity.

        The equity must be fresh (:class:`StaleStateError` otherwise): no dollar size from a
        stale account.
        """
        if capital is None:
            capital = self._fresh_equity()
        return ports.kelly_view(self.config, win_rate=win_rate, win_loss_ratio=win_loss_ratio,
                                regime=regime, heat=portfolio_heat, capital=capital)

    def risk_parity(self, *, volatilities: dict[str, float] | None,
                    symbols: list[str] | None, covariance: list[list[float]] | None,
                    budgets: list[float] | None, capital: Decimal | None) -> dict[str, Any]:
        """Inverse-volatility or equal-risk-contribution weights and their dollar amounts.

        Capital defaults to the equity, which must be fresh (as for :meth:`kelly`).
        """
        if capital is None:
            capital = self._fresh_equity()
        return ports.risk_parity_view(volatilities=volatilities, symbols=symbols,
                                      covariance=covariance, budgets=budgets, capital=capital)

    def _fresh_equity(self) -> Decimal:
        """The broker's equity now, refused when stale (see :meth:`_fresh`)."""
        now = self.clock()
        return self._fresh(self._broker_account(now), now).equity

    # ------------------------------------------------------------------ reservations
    def confirm_reservation(self, reservation_id: str) -> dict[str, Any]:
        """Mark a reservation as filled (its notional now counts as a position)."""
        return ports.as_dict(self.store.confirm(reservation_id, now=self.clock()))

    def release_reservation(self, reservation_id: str) -> dict[str, Any]:
        """Give a reservation's notional back (the order was not sent or not filled)."""
        return ports.as_dict(self.store.release(reservation_id, now=self.clock()))

    # ------------------------------------------------------------------ journal, reconcile
    def journal(self, *, limit: int = 50, since: datetime | None = None,
                symbol: str | None = None, before: int | None = None) -> dict[str, Any]:
        """The latest journaled decisions, newest first, and the cursor of the next page.

        ``next_before`` is the last entry's id when the page is full (pass it as ``before``
        for the older entries), else ``None``: nothing older matches.
        """
        rows = self.store.journal(limit=limit, since=since, symbol=symbol, before=before)
        entries = [ports.journal_entry(r) for r in rows]
        more = len(entries) == limit and entries
        return {"entries": entries, "next_before": entries[-1]["id"] if more else None}

    def reconcile(self, policy: str = "report") -> dict[str, Any]:
        """Compare the service's book of positions with the broker's; the report is stored.

        ``report`` uses the default policy and leaves the book as it is; ``adopt_remote``
        makes the book equal the broker's account.
        """
        if policy not in ("report", "adopt_remote"):
            raise InvalidInputError("policy", policy, "report or adopt_remote")
        return ports.reconcile_view(self.store, self.broker, policy, self.clock(),
                                    self.account_id)

    # ------------------------------------------------------------------ operator
    def set_trading_state(self, state: TradingState, *, operator: str, note: str,
                          reset_breaker: bool = False) -> dict[str, Any]:
        """Halt, switch to reduce-only or resume; optionally reset the circuit breaker."""
        if not note.strip():
            raise InvalidInputError("note", note, "a non-empty note")
        now = self.clock()
        with self._desk(persist=True, operator=operator, note=note) as desk:
            if reset_breaker:
                desk.reset_breaker(operator=operator, note=note, now=now)
            desk.set_trading_state(state, operator=operator, note=note, now=now)
            current = desk.state.trading_state
        self.metrics.trading_state.set(0 if current is TradingState.ACTIVE else 1)
        return {"trading_state": current.value, "operator": operator, "note": note,
                "at": now.isoformat()}

    def operator_state(self, *, changes: int = 10) -> dict[str, Any]:
        """The trading state an operator set, who set it, when and why, and the effective one.

        The operator's part is read from the store alone, so it answers while the broker is
        down; ``trading_state`` and ``reasons`` (the effective state, with the breaker and
        margin RED) are then ``None`` and ``account_error`` says why.

        Parameters
        ----------
        changes
            How many of the latest operator actions to list, newest first (1 to 100).
        """
        if isinstance(changes, bool) or not isinstance(changes, int) or not 1 <= changes <= 100:
            raise InvalidInputError("changes", changes, "an integer from 1 to 100")
        now = self.clock()
        with self._desk(persist=False) as desk:
            state = desk.state
        actions = [e for e in self.store.trading_state_events(limit=200)
                   if e["operator"] is not None][:changes]
        out: dict[str, Any] = {
            "operator_state": state.trading_state.value,
            "breaker": state.breaker.to_dict(),
            "changes": [{"at": e["at"].isoformat(), "operator": e["operator"],
                         "trading_state": e["trading_state"], "note": e["note"]}
                        for e in actions],
            "trading_state": None, "reasons": None, "account_error": None,
        }
        try:
            account = self.account(now)
        except (BrokerError, StateError) as exc:
            out["account_error"] = str(exc)
            return out
        with self._desk(persist=False) as desk:
            effective, reasons = desk.trading_state(account, now)
        out["trading_state"] = effective.value
        out["reasons"] = [r.value for r in reasons]
        return out

    def health(self) -> dict[str, str]:
        """Liveness of the database and the broker (raises :class:`StateError` when down)."""
        ports.ping(self.store)
        return {"status": "ok", "database": self.store.dialect,
                "broker": str(getattr(self.broker, "name", type(self.broker).__name__))}
