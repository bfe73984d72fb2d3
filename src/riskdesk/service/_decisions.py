"""Deciding: a decision made on the desk, then reserved, journaled and answered in one write.

The flow of ``POST /api/capital/recommendation/position`` and ``POST /api/orders/plan``:

1. an idempotency key, when given, is looked up (a retry gets the stored answer);
2. the account and market come from the broker (completed by what the caller sent);
3. the desk decides on the desk state the worker holds in memory (no database read);
4. one :class:`~riskdesk.store.DecisionWrite` reserves the budget of an approved opener,
   journals the decision (a refused hold turns it into a REJECT), stores the idempotent answer
   and checks that the desk state decided on is still the stored one, in one transaction that
   concurrent requests share (group commit);
5. when another worker saved a new desk state meanwhile (an operator's halt), nothing was
   written: the state is reloaded and the decision made again.

A recommendation claims its idempotency key in that same transaction (``key_at_commit``):
when a concurrent request with the same key committed first, the write writes nothing and
the stored answer is replayed. A key whose answer is being computed under the store's claim
protocol (:meth:`~riskdesk.store.Store.claim_idempotency`) is waited for with that protocol.
A plan claims its key first (its answer may be stored without any decision to journal).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from riskdesk.brokers import PaperBroker
from riskdesk.config import RiskConfig
from riskdesk.domain import (
    AccountState,
    BookLevel,
    Intent,
    MarketSnapshot,
    ReasonCode,
    Signal,
)
from riskdesk.errors import ConflictError, StaleStateError
from riskdesk.service import _adapters as ports
from riskdesk.service._deciding import decision_record, decision_view, single_answer
from riskdesk.service._json import jsonable
from riskdesk.service._marks import CapitalMarks, MarkFields
from riskdesk.service._metrics import Metrics
from riskdesk.service._paper import NoAccount
from riskdesk.service._state import DeskMovedError, DeskSession, SaveNeededError
from riskdesk.store import DecisionWrite, OpenersSeen, RecordedDecision, WriteResult
from riskdesk.store._journal import PLAN_STRATEGY
from riskdesk.store._writes import KeyInUseError

Clock = Callable[[], datetime]
Claim = tuple[str, str] | None
#: ``(key, body hash)`` of an idempotency key claimed by the write itself (``key_at_commit``).
NewKey = tuple[str, str] | None
#: Times a decision is made again when another worker saved a new desk state meanwhile.
DECIDE_TRIES = 5


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



#: Refusals that count approved openers (open positions, trades of the day).
_COUNT_REFUSALS = frozenset({ReasonCode.MAX_POSITIONS, ReasonCode.TRADES_PER_DAY})


class Deciding:
    """The deciding half of :class:`~riskdesk.service.Service` (see the module notes)."""

    config: RiskConfig
    config_name: str
    store: Any
    broker: Any
    clock: Clock
    reservation_ttl_seconds: float
    account_id: str
    metrics: Metrics
    marks: CapitalMarks
    session: DeskSession
    _key_locks: dict[str, threading.Lock]
    _key_locks_guard: threading.Lock

    def account(self, now: datetime | None = None, *, may_write: bool = True,
                may_read: bool = True) -> AccountState:
        """The account as the broker reports it now, with the capital tracker's marks."""
        raise NotImplementedError

    def market(self, symbol: str, given: MarketInput | None, now: datetime, *,
               price_from: str | None = "market.price") -> MarketSnapshot:
        """A market snapshot from the caller's data, completed from the broker."""
        raise NotImplementedError

    def _broker_account(self, now: datetime) -> AccountState:
        """The account as the broker reports it now (without the tracker's marks)."""
        raise NotImplementedError

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

    def _idempotent(self, key: str | None, digest: str | None,
                    run: Callable[[Claim], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        """Run ``run`` once per idempotency key claimed first (the store's claim protocol).

        Its write stores the answer with the key.
        """
        if key is None or digest is None:
            return run(None), False
        with self._key_lock(key):
            stored, owner = self.store.claim_idempotency(key, digest)
            if stored is not None:
                self.metrics.replays.inc()
                return dict(stored), True
            try:
                return run((key, owner)), False
            except BaseException:
                self.store.withdraw_idempotency(key, owner)
                raise

    def recommend(self, signal: Signal, market: MarketInput | None = None, *,
                  idempotency_key: str | None = None, digest: str | None = None,
                  request_id: str | None = None, api_key_id: str | None = None,
                  weights: Mapping[str, float] | None = None) -> tuple[dict[str, Any], bool]:
        """Decide one order, journal it and reserve its notional when it is approved.

        The reservation, the journal row and the idempotent answer are written in one
        transaction, shared with concurrent calls (group commit); the answer is returned only
        after it committed.

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
        api_key_id
            The caller's API key: when it is revoked before the decision commits, nothing is
            written and :class:`~riskdesk.store.RevokedKeyError` is raised.
        weights
            Target portfolio weights (for example from ``risk_parity``); the desk applies the
            symbol's weight as its RISK_PARITY adjustment (see ``Desk.recommend``).

        Returns
        -------
        tuple
            The recommendation (see :func:`recommendation_view`) and whether it was replayed.
        """
        if idempotency_key is not None and digest is None:
            digest = body_hash({"signal": signal, "market": market, "weights": weights})
        new_key: NewKey = None
        if idempotency_key is not None and digest is not None:
            state, stored = self.store.lookup_idempotency(idempotency_key, digest)
            if state == "done":
                return self._replayed(stored)
            if state == "busy":
                return self._claimed_recommendation(signal, market, idempotency_key, digest,
                                                    request_id, api_key_id, weights)
            new_key = (idempotency_key, digest)
        try:
            result = self._retrying(
                lambda: self._recommendation(signal, market, request_id, None, api_key_id,
                                             weights=weights, new_key=new_key),
                self.store.record_decisions)
        except KeyInUseError:  # claimed by a request computing under the claim protocol
            assert new_key is not None
            return self._claimed_recommendation(signal, market, *new_key, request_id,
                                                api_key_id, weights)
        if result.replayed:
            return self._replayed(result.answer)
        return self._answer(result), False

    def _claimed_recommendation(self, signal: Signal, market: MarketInput | None, key: str,
                                digest: str, request_id: str | None, api_key_id: str | None,
                                weights: Mapping[str, float] | None
                                ) -> tuple[dict[str, Any], bool]:
        """:meth:`recommend` under the claim protocol: for a key another request claimed."""
        def run(claim: Claim) -> dict[str, Any]:
            result = self._retrying(
                lambda: self._recommendation(signal, market, request_id, claim, api_key_id,
                                             weights=weights),
                self.store.record_decisions)
            return self._answer(result)

        return self._idempotent(key, digest, run)

    def _replayed(self, answer: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
        assert answer is not None
        self.metrics.replays.inc()
        return dict(answer), True

    async def recommend_async(self, signal: Signal, market: MarketInput | None = None, *,
                              idempotency_key: str | None = None, digest: str | None = None,
                              request_id: str | None = None, api_key_id: str | None = None,
                              weights: Mapping[str, float] | None = None,
                              ) -> tuple[dict[str, Any], bool]:
        """:meth:`recommend` for a caller on an event loop (the HTTP service).

        With an in-memory broker (the paper account) the decision is made on the loop from
        what the service holds in memory (desk state, capital marks, approved openers), and
        only the write waits, without a thread, for its group commit, idempotent or not. A
        read is made on the loop only on SQLite (a local read: an idempotency key, marks over
        a second old, approved openers read again); anything else that may block (another
        broker, such a read on PostgreSQL, loading or saving the desk state, the day's first
        capital snapshot, waiting for a key another request claimed) runs on a worker thread.
        """
        if not self._decides_inline():
            return await asyncio.to_thread(
                self.recommend, signal, market, idempotency_key=idempotency_key,
                digest=digest, request_id=request_id, api_key_id=api_key_id, weights=weights)
        new_key: NewKey = None
        if idempotency_key is not None:
            if digest is None:
                digest = body_hash({"signal": signal, "market": market, "weights": weights})
            if self.store.dialect == "sqlite":
                state, stored = self.store.lookup_idempotency(idempotency_key, digest)
            else:
                state, stored = await asyncio.to_thread(
                    self.store.lookup_idempotency, idempotency_key, digest)
            if state == "done":
                return self._replayed(stored)
            if state == "busy":
                return await asyncio.to_thread(
                    self._claimed_recommendation, signal, market, idempotency_key, digest,
                    request_id, api_key_id, weights)
            new_key = (idempotency_key, digest)
        make = functools.partial(self._recommendation, weights=weights, new_key=new_key)
        for _ in range(DECIDE_TRIES):
            try:
                if self.session.loaded:
                    write = make(signal, market, request_id, None, api_key_id, save=False)
                else:
                    write = await asyncio.to_thread(
                        make, signal, market, request_id, None, api_key_id)
            except SaveNeededError:
                write = await asyncio.to_thread(make, signal, market, request_id, None,
                                                api_key_id)
            except DeskMovedError:
                self.session.invalidate()
                continue
            try:
                result = await self.store.record_decisions_async(write)
            except StaleStateError:
                self.session.invalidate()
                continue
            except KeyInUseError:  # claimed by a request computing under the claim protocol
                assert new_key is not None
                return await asyncio.to_thread(
                    self._claimed_recommendation, signal, market, *new_key, request_id,
                    api_key_id, weights)
            if result.replayed:
                return self._replayed(result.answer)
            return self._answer(self._counted(result)), False
        raise _desk_kept_moving()

    def _with_openers(self, account: AccountState, now: datetime, *, fresh: bool = True,
                      may_read: bool = True, marks: MarkFields | None = None
                      ) -> tuple[AccountState, OpenersSeen]:
        """``account`` with the approved openers its state does not show yet (and ``marks``).

        A symbol with an approved, unfilled opener counts as an open position, and the
        openers approved since 00:00 UTC (not given back) as the day's trades: without them a
        bot could be approved for any number of new symbols, or trades, before its first fill.
        What was counted goes with the write and is checked again at commit. Without
        ``fresh`` the store answers from the holds it holds in memory (no I/O): holds it
        missed that would refuse the order fail the write and the order is decided again;
        holds given back elsewhere that it still counts can only refuse, and a refusal on
        the counts is decided again with ``fresh`` (:meth:`_recommendation`). ``marks``, the
        capital tracker's fields
        (:meth:`CapitalMarks.fields_for`), go into the same copy.
        """
        since = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
        if not may_read and not self.store.holds_known(self.account_id):
            raise SaveNeededError("the approved openers must be read")
        pending, opened = self.store.pending_openers(self.account_id, now=now,
                                                     as_of=account.as_of, since=since,
                                                     fresh=fresh)
        seen = OpenersSeen(frozenset(p.symbol for p in account.positions), pending,
                           opened if self.config.phases.enabled else None, since)
        if not pending and opened <= account.trades_today:
            return (account if marks is None else replace(account, **marks)), seen
        trades = max(account.trades_today, opened)
        if marks is None:
            return replace(account, pending_symbols=pending, trades_today=trades), seen
        return replace(account, **marks, pending_symbols=pending, trades_today=trades), seen

    def _decides_inline(self) -> bool:
        """Whether deciding may run on an event loop: the broker answers from memory."""
        return isinstance(self.broker, PaperBroker | NoAccount)

    def _recommendation(self, signal: Signal, given: MarketInput | None,
                        request_id: str | None, claim: Claim, api_key_id: str | None, *,
                        save: bool = True, weights: Mapping[str, float] | None = None,
                        new_key: NewKey = None) -> DecisionWrite:
        """Decide on the held desk state and build the write (raises DeskMovedError).

        The write stores its answer under the claim ``claim`` or claims ``new_key`` itself.
        """
        now = self.clock()
        signal = self._with_trade_stats(signal)
        # On an event loop (save=False) a local read may block it briefly, a networked one not.
        may_read = save or self.store.dialect == "sqlite"
        broker_account = self._broker_account(now)
        marks = self.marks.fields_for(broker_account, now, may_write=save, may_read=may_read)
        account, seen = self._with_openers(broker_account, now, fresh=False,
                                           may_read=may_read, marks=marks)
        market = self.market(signal.symbol, given, now)
        decision, version = self.session.decide(
            lambda desk: desk.recommend(signal, account, market, now=now, weights=weights),
            at=now, save=save)
        if _COUNT_REFUSALS.intersection(decision.reasons) and (seen.pending or seen.opened):
            # Refused on counts the store held in memory: decide on the stored holds.
            if not may_read:
                raise SaveNeededError("the approved openers must be read")
            account, seen = self._with_openers(broker_account, now, fresh=True, marks=marks)
            decision, version = self.session.decide(
                lambda desk: desk.recommend(signal, account, market, now=now,
                                            weights=weights), at=now, save=save)
        record = decision_record(
            decision, signal=signal, account=account, market=market, config=self.config,
            config_name=self.config_name, ttl_seconds=self.reservation_ttl_seconds,
            account_id=self.account_id, request_id=request_id, seen=seen)
        keyed = claim is not None or new_key is not None
        return DecisionWrite((record,), now, desk_version=version, idempotency=claim,
                             key_at_commit=new_key, answer=single_answer if keyed else None,
                             api_key_id=api_key_id)

    def _with_trade_stats(self, signal: Signal) -> Signal:
        """Complete a Kelly signal's missing win rate and win/loss ratio from recorded fills.

        Only for the ``kelly`` sizing method, and only from enough closed trades
        (``kelly.min_trades``), shrunk toward the configured prior. With too few trades the
        signal is left as it is and the desk rejects it: Kelly never sizes from a default.
        """
        if self.config.position_sizing.method != "kelly" or (
                signal.win_rate is not None and signal.win_loss_ratio is not None):
            return signal
        k = self.config.kelly
        stats = self.store.trade_stats(
            signal.strategy, signal.symbol, min_trades=k.min_trades,
            prior_win_rate=k.prior_win_rate, prior_win_loss_ratio=k.prior_win_loss_ratio,
            prior_weight=k.prior_weight)
        if not stats.sufficient:
            return signal
        return replace(
            signal,
            win_rate=stats.win_rate if signal.win_rate is None else signal.win_rate,
            win_loss_ratio=(stats.win_loss_ratio if signal.win_loss_ratio is None
                            else signal.win_loss_ratio))

    @staticmethod
    def _answer(result: WriteResult) -> dict[str, Any]:
        return result.answer if result.answer is not None else decision_view(result.decisions[0])

    def _counted(self, result: WriteResult) -> WriteResult:
        for recorded in result.decisions:
            self.metrics.decisions.labels(action=recorded.decision.action.value).inc()
        return result

    def _retrying(self, make: Callable[[], DecisionWrite | None],
                  commit: Callable[[DecisionWrite], WriteResult]) -> WriteResult:
        """Decide and write until both ran on the stored desk state (see :mod:`._state`).

        ``make`` decides and builds the write (``None``: nothing to write).
        """
        for _ in range(DECIDE_TRIES):
            try:
                write = make()
            except DeskMovedError:
                self.session.invalidate()
                continue
            if write is None:
                return WriteResult(())
            try:
                result = commit(write)
            except StaleStateError:
                self.session.invalidate()
                continue
            return self._counted(result)
        raise _desk_kept_moving()

    def plan(self, targets: Mapping[str, float], prices: Mapping[str, Decimal], *,
             idempotency_key: str | None = None, digest: str | None = None,
             api_key_id: str | None = None) -> tuple[dict[str, Any], bool]:
        """Plan a batch towards target weights (seed 000): reducers first, then openers.

        Every decision of the plan is journaled, with its reservation, in one transaction.

        Parameters
        ----------
        targets
            Signed target weight per symbol, as a fraction of equity.
        prices
            Prices the caller supplies; the broker quotes the others.
        idempotency_key, digest, api_key_id
            As for :meth:`recommend`.

        Returns
        -------
        tuple
            ``{"lines": [...], "decisions": [...]}`` and whether it was replayed.
        """
        if idempotency_key is not None and digest is None:
            digest = body_hash({"targets": targets, "prices": prices})
        return self._idempotent(idempotency_key, digest,
                                lambda claim: self._plan(dict(targets), dict(prices), claim,
                                                         api_key_id))

    def _plan(self, targets: dict[str, float], prices: dict[str, Decimal],
              claim: Claim, api_key_id: str | None) -> dict[str, Any]:
        lines: dict[str, Any] = {}

        def answer(recorded: tuple[RecordedDecision, ...]) -> dict[str, Any]:
            return {**lines, "decisions": [decision_view(r) for r in recorded]}

        def make() -> DecisionWrite | None:
            now = self.clock()
            account, seen = self._with_openers(self.account(now), now)
            markets = {s: self.market(s, MarketInput(price=prices.get(s)), now,
                                      price_from="the target's price")
                       for s in targets}
            plan, version = self.session.decide(
                lambda desk: desk.plan(targets, account, markets, now=now), at=now)
            lines.clear()
            lines.update(ports.plan_view(plan))
            records = []
            for decision in ports.plan_decisions(plan):
                signal = Signal(symbol=decision.symbol, side=decision.side, strategy=PLAN_STRATEGY,
                                strength=min(abs(targets.get(decision.symbol, 0.0)), 1.0),
                                reduce_only=decision.intent is Intent.REDUCE)
                records.append(decision_record(
                    decision, signal=signal, account=account, market=markets[decision.symbol],
                    config=self.config, config_name=self.config_name,
                    ttl_seconds=self.reservation_ttl_seconds, account_id=self.account_id,
                    seen=seen))
            if not records:
                return None
            return DecisionWrite(tuple(records), now, desk_version=version, idempotency=claim,
                                 answer=answer if claim is not None else None,
                                 api_key_id=api_key_id)

        result = self._retrying(make, self.store.record_decisions)
        if result.answer is not None:
            return result.answer
        if claim is not None:  # nothing to journal: the answer is stored on its own
            return dict(self.store.complete_idempotency(*claim, answer(result.decisions)))
        return answer(result.decisions)


def _desk_kept_moving() -> ConflictError:
    return ConflictError(f"the desk state or the approved openers changed {DECIDE_TRIES} times "
                         "while deciding; retry")

