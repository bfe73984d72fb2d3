"""The composition root: store, broker, desk and configuration, and the I/O around a decision.

The desk decides; the service fetches what it decides on (account and market from the broker,
desk state from the store), persists what it returns (desk state, journal, reservations),
and keeps every deciding call idempotent. Faces (HTTP, CLI, dashboard) call only this.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from riskdesk.config import RiskConfig
from riskdesk.desk import Desk, DeskState
from riskdesk.domain import (
    AccountState,
    Action,
    Adjustment,
    BookLevel,
    Decision,
    Intent,
    MarketSnapshot,
    ReasonCode,
    Signal,
    TradingState,
)
from riskdesk.errors import BrokerError, InvalidInputError, StateError
from riskdesk.service import _adapters as ports
from riskdesk.service._json import jsonable
from riskdesk.service._metrics import Metrics
from riskdesk.service._paper import open_paper_broker
from riskdesk.service._settings import Settings
from riskdesk.service._views import exposure_view, recommendation_view
from riskdesk.store import Reservation

Clock = Callable[[], datetime]
log = logging.getLogger("riskdesk.service")


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MarketInput:
    """Market data a caller supplies; anything left ``None`` is asked of the broker."""

    price: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    atr: Decimal | None = None
    volatility: float | None = None
    vix: float | None = None
    bids: tuple[BookLevel, ...] = field(default_factory=tuple)
    asks: tuple[BookLevel, ...] = field(default_factory=tuple)


def body_hash(payload: object) -> str:
    """SHA-256 of a request body in canonical JSON (sorted keys), for idempotency checks."""
    text = json.dumps(jsonable(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Service:
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
        How long an ENTER decision's reservation holds.
    account_id
        The account the reservations are booked against.
    """

    def __init__(self, *, config: RiskConfig, store: Any, broker: Any,
                 config_name: str | None = None, clock: Clock = utc_now,
                 reservation_ttl_seconds: float = 300.0, account_id: str = "default") -> None:
        self.config = config
        self.config_name = config_name or config.name
        self.store = store
        self.broker = broker
        self.clock = clock
        self.reservation_ttl_seconds = reservation_ttl_seconds
        self.account_id = account_id
        self.metrics = Metrics()
        self._lock = threading.RLock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._key_locks_guard = threading.Lock()
        self._desk_state_seen: dict[str, Any] | None = None
        self.desk = Desk(config)

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
                   clock=clock, reservation_ttl_seconds=settings.reservation_ttl_seconds)

    def close(self) -> None:
        """Release the store's connections."""
        ports.close_store(self.store)

    # ------------------------------------------------------------------ state
    @contextmanager
    def _desk(self, *, persist: bool, operator: str | None = None,
              note: str | None = None) -> Iterator[Desk]:
        """The desk with the latest stored state (another worker may have changed it).

        With ``persist``, a changed state is saved on leaving the block, but only if nobody
        saved since it was loaded (optimistic lock): otherwise
        :class:`~riskdesk.errors.ConflictError` is raised and nothing is written, so a
        worker can never overwrite an operator's halt with a state it loaded before it.
        """
        with self._lock:
            record = self.store.desk_state_record()
            version = 0 if record is None else int(record["version"])
            stored = None if record is None else record["state"]
            if stored != self._desk_state_seen:
                self.desk = Desk(self.config, state=None if stored is None
                                 else DeskState.from_dict(stored))
                self._desk_state_seen = stored
            yield self.desk
            if persist:
                after = jsonable(self.desk.state.to_dict())
                if after != stored:
                    self.store.save_desk_state(after, at=self.clock(), operator=operator,
                                               note=note, expected_version=version)
                    self._desk_state_seen = after

    def account(self, now: datetime | None = None) -> AccountState:
        """The account as the broker reports it now (fails closed: no default account)."""
        return self.broker.account(now or self.clock())  # type: ignore[no-any-return]

    def market(self, symbol: str, given: MarketInput | None, now: datetime) -> MarketSnapshot:
        """A market snapshot from the caller's data, completed from the broker.

        Raises
        ------
        UnknownSymbolError
            When the broker does not list ``symbol``.
        StateError
            When neither the caller nor the broker has a price.
        """
        g = given or MarketInput()
        rules = self.broker.market_rules(symbol)
        price = g.price if g.price is not None else self.broker.last_price(symbol)
        if price is None:
            raise StateError(f"no price for {symbol}: send market.price or let the broker "
                             "quote it")
        bids, asks = g.bids, g.asks
        if not bids and not asks and self.config.liquidity.enabled:
            book = ports.order_book(self.broker, symbol, self.config.liquidity.far_levels)
            if book is not None:
                bids, asks = book.bids, book.asks
        bid = g.bid if g.bid is not None else (Decimal(repr(bids[0].price)) if bids else None)
        ask = g.ask if g.ask is not None else (Decimal(repr(asks[0].price)) if asks else None)
        return MarketSnapshot(rules=rules, price=price, as_of=now, bid=bid, ask=ask, atr=g.atr,
                              volatility=g.volatility, vix=g.vix, bids=bids, asks=asks)

    # ------------------------------------------------------------------ keys
    def verify_api_key(self, plaintext: str) -> Any:
        """The stored key matching ``plaintext`` (constant-time), or ``None``."""
        return self.store.verify_api_key(plaintext)

    # ------------------------------------------------------------------ views
    def capital_state(self) -> dict[str, Any]:
        """Seed 001's capital state of the broker's account now."""
        return ports.capital_view(self.config, self.account())

    def record_capital(self) -> None:
        """Snapshot the account into the capital history (the equity curve)."""
        now = self.clock()
        self.store.record_capital(self.account(now), at=now)

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
        market = self.market(symbol, None, now)
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
            return ports.as_dict(desk.scaling_strategy(account))

    def drawdown_status(self) -> dict[str, Any]:
        """Drawdown state, multipliers and the circuit breaker."""
        now = self.clock()
        account = self.account(now)
        with self._desk(persist=False) as desk:
            return ports.drawdown_view(desk.drawdown_status(account, now),
                                       desk.trading_state(account, now), now)

    def multi_tier(self) -> dict[str, Any]:
        """CORE / GROWTH / OPPORTUNITY / RESERVE budgets against what is deployed."""
        return ports.multi_tier_view(self.config, self.account())

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

    def analysis_complete(self, hours: float = 24.0) -> dict[str, Any]:
        """Every view in one call (seed 001's master endpoint, and the dashboard's feed)."""
        now = self.clock()
        account = self.account(now)
        with self._desk(persist=False) as desk:
            margin = ports.margin_view(desk.margin_status(account))
            scaling = ports.as_dict(desk.scaling_strategy(account))
            trading = desk.trading_state(account, now)
            drawdown = ports.drawdown_view(desk.drawdown_status(account, now), trading, now)
        history = self.store.capital_history(now - timedelta(hours=hours))
        return {
            "config_name": self.config_name,
            "trading_state": trading[0].value,
            "capital_state": ports.capital_view(self.config, account),
            "margin_status": margin,
            "scaling_strategy": scaling,
            "drawdown_status": drawdown,
            "multi_tier_allocation": ports.multi_tier_view(self.config, account),
            "exposure": self.exposure(account),
            "capital_history": [ports.capital_point(p) for p in history],
        }

    # ------------------------------------------------------------------ pure calculators
    def kelly(self, *, win_rate: float, win_loss_ratio: float, regime: str | None,
              portfolio_heat: float | None, capital: Decimal | None) -> dict[str, Any]:
        """Kelly sizing with seed 001's adjustments; capital defaults to the equity."""
        if capital is None:
            capital = self.account().equity
        return ports.kelly_view(self.config, win_rate=win_rate, win_loss_ratio=win_loss_ratio,
                                regime=regime, heat=portfolio_heat, capital=capital)

    def risk_parity(self, *, volatilities: dict[str, float] | None,
                    symbols: list[str] | None, covariance: list[list[float]] | None,
                    budgets: list[float] | None, capital: Decimal | None) -> dict[str, Any]:
        """Inverse-volatility or equal-risk-contribution weights and their dollar amounts."""
        if capital is None:
            capital = self.account().equity
        return ports.risk_parity_view(volatilities=volatilities, symbols=symbols,
                                      covariance=covariance, budgets=budgets, capital=capital)

    # ------------------------------------------------------------------ deciding
    @contextmanager
    def _key_lock(self, key: str | None) -> Iterator[None]:
        """Serialize retries of one idempotency key in this process.

        The store serializes them across processes.
        """
        if key is None:
            yield
            return
        with self._key_locks_guard:
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def _idempotent(self, key: str | None, digest: str,
                    compute: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        if key is None:
            return compute(), False
        with self._key_lock(key):
            answer, replayed = self.store.idempotent(key, digest, compute)
        if replayed:
            self.metrics.replays.inc()
        return dict(answer), bool(replayed)

    def recommend(self, signal: Signal, market: MarketInput | None = None, *,
                  idempotency_key: str | None = None, digest: str | None = None,
                  request_id: str | None = None) -> tuple[dict[str, Any], bool]:
        """Decide one order, journal it and reserve its notional when it is approved.

        Parameters
        ----------
        signal
            What the bot wants to do.
        market
            Market data the caller has; the rest comes from the broker.
        idempotency_key
            When given, a retry with the same key and body returns the stored answer and a
            different body raises :class:`~riskdesk.errors.ConflictError`.
        digest
            Hash of the request body (see :func:`body_hash`); computed when omitted.
        request_id
            Stored with the journal entry.

        Returns
        -------
        tuple
            The recommendation (see :func:`recommendation_view`) and whether it was replayed.
        """
        digest = digest or body_hash({"signal": signal, "market": market})
        return self._idempotent(idempotency_key, digest,
                                lambda: self._decide(signal, market, request_id))

    def _decide(self, signal: Signal, given: MarketInput | None,
                request_id: str | None) -> dict[str, Any]:
        now = self.clock()
        account = self.account(now)
        market = self.market(signal.symbol, given, now)
        # The desk state is saved first: on a conflict nothing else has been written.
        with self._desk(persist=True) as desk:
            decision = desk.recommend(signal, account, market, now=now)
        decision, reservation = self._reserve(decision, account, now)
        try:
            decision_id = self.store.journal_decision(
                decision, signal=signal, account=account, market=market,
                config_name=self.config_name, request_id=request_id)
        except BaseException:
            if reservation is not None:
                self.store.release(reservation.reservation_id, now=now)
            raise
        self.metrics.decisions.labels(action=decision.action.value).inc()
        return recommendation_view(decision, decision_id=decision_id,
                                   reservation=None if reservation is None else
                                   {"id": reservation.reservation_id,
                                    "expires_at": reservation.expires_at.isoformat()})

    def _reserve(self, decision: Decision, account: AccountState,
                 now: datetime) -> tuple[Decision, Reservation | None]:
        """Hold an approved opener's notional against concurrent decisions.

        Other threads and workers cannot spend the same budget while it is held.

        A refused hold turns the decision into a REJECT naming the limit; reducers hold nothing.
        """
        if not decision.approved or decision.intent is not Intent.OPEN:
            return decision, None
        outcome = self.store.try_reserve(
            self.account_id, decision.symbol, decision.notional, decision.margin_required,
            ttl_seconds=self.reservation_ttl_seconds, now=now,
            limits=ports.reservation_limits(self.config, account, decision.symbol))
        if outcome.reservation is not None:
            return decision, outcome.reservation
        code = outcome.refused_by or ReasonCode.EXPOSURE_LIMIT
        step = Adjustment("reservation", code, float(decision.notional), 0.0,
                          outcome.note or "budget held by concurrent reservations")
        return replace(decision, action=Action.REJECT, quantity=Decimal(0) * decision.quantity,
                       notional=Decimal(0), margin_required=Decimal(0), binding_cap=None,
                       reasons=(*decision.reasons, code), risk_pct=0.0,
                       trail=(*decision.trail, step)), None

    def plan(self, targets: Mapping[str, float], prices: Mapping[str, Decimal], *,
             idempotency_key: str | None = None,
             digest: str | None = None) -> tuple[dict[str, Any], bool]:
        """Plan a batch towards target weights (seed 000): reducers first, then openers.

        Parameters
        ----------
        targets
            Signed target weight per symbol, as a fraction of equity.
        prices
            Prices the caller supplies; the broker quotes the others.
        idempotency_key, digest
            As for :meth:`recommend`.

        Returns
        -------
        tuple
            ``{"lines": [...], "decisions": [...]}`` and whether it was replayed.
        """
        digest = digest or body_hash({"targets": targets, "prices": prices})
        return self._idempotent(idempotency_key, digest,
                                lambda: self._plan(dict(targets), dict(prices)))

    def _plan(self, targets: dict[str, float], prices: dict[str, Decimal]) -> dict[str, Any]:
        now = self.clock()
        account = self.account(now)
        markets = {s: self.market(s, MarketInput(price=prices.get(s)), now) for s in targets}
        with self._desk(persist=True) as desk:
            plan = desk.plan(targets, account, markets, now=now)
        out = ports.plan_view(plan)
        decisions = []
        for decision in ports.plan_decisions(plan):
            decision, reservation = self._reserve(decision, account, now)
            signal = Signal(symbol=decision.symbol, side=decision.side, strategy="plan",
                            strength=min(abs(targets.get(decision.symbol, 0.0)), 1.0),
                            reduce_only=decision.intent is Intent.REDUCE)
            decision_id = self.store.journal_decision(
                decision, signal=signal, account=account, market=markets[decision.symbol],
                config_name=self.config_name)
            decisions.append(recommendation_view(
                decision, decision_id=decision_id,
                reservation=None if reservation is None else
                {"id": reservation.reservation_id,
                 "expires_at": reservation.expires_at.isoformat()}))
            self.metrics.decisions.labels(action=decision.action.value).inc()
        out["decisions"] = decisions
        return out

    def confirm_reservation(self, reservation_id: str) -> dict[str, Any]:
        """Mark a reservation as filled (its notional now counts as a position)."""
        return ports.as_dict(self.store.confirm(reservation_id, now=self.clock()))

    def release_reservation(self, reservation_id: str) -> dict[str, Any]:
        """Give a reservation's notional back (the order was not sent or not filled)."""
        return ports.as_dict(self.store.release(reservation_id, now=self.clock()))

    # ------------------------------------------------------------------ journal, reconcile
    def journal(self, *, limit: int = 50, since: datetime | None = None,
                symbol: str | None = None) -> dict[str, Any]:
        """The latest journaled decisions, newest first."""
        rows = self.store.journal(limit=limit, since=since, symbol=symbol)
        return {"entries": [ports.journal_entry(r) for r in rows]}

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

    def health(self) -> dict[str, str]:
        """Liveness of the database and the broker (raises :class:`StateError` when down)."""
        ports.ping(self.store)
        return {"status": "ok", "database": self.store.dialect,
                "broker": str(getattr(self.broker, "name", type(self.broker).__name__))}
