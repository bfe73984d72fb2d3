"""What :meth:`~riskdesk.store.Store.record_decisions` writes and what it answers.

A :class:`DecisionWrite` is one caller's unit: decisions journaled together, each with the
budget hold it asks for (:class:`HoldRequest`) and what to journal when the hold is refused,
the desk-state version they were made on, the idempotency key and the answer to store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from riskdesk.domain import AccountState, Decision, MarketSnapshot, Signal
from riskdesk.errors import ConflictError, InvalidInputError
from riskdesk.store._base import check_money, check_text, check_time
from riskdesk.store._holds import OpenersSeen
from riskdesk.store._reservations import (
    MAX_TTL_SECONDS,
    Reservation,
    ReservationLimits,
    ReservationOutcome,
)


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """Budget to reserve for a decision before it is journaled.

    Parameters
    ----------
    account_id
        The account (or virtual sub-account) whose budget is shared.
    notional
        Order value, > 0.
    margin
        Margin the order ties up, 0 <= margin <= notional.
    ttl_seconds
        Time-to-live, in (0, 7 days].
    limits
        The caps to respect (see :class:`~riskdesk.store.ReservationLimits`).
    seen
        The openers the decision counted; when more openers were granted since that would
        count against it (another symbol's, or one of the period), the write fails with
        :class:`StaleStateError` and the decision is made again.
    """

    account_id: str
    notional: Decimal
    margin: Decimal
    ttl_seconds: float
    limits: ReservationLimits
    seen: OpenersSeen | None = None

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "account_id", check_text(self.account_id, "account_id"))
        s(self, "notional", check_money(self.notional, "notional", allow_zero=False))
        s(self, "margin", check_money(self.margin, "margin"))
        if self.margin > self.notional:
            raise InvalidInputError("margin", self.margin,
                                    f"<= notional ({self.notional}): leverage >= 1")
        ttl = self.ttl_seconds
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) \
                or not math.isfinite(ttl) or not 0 < ttl <= MAX_TTL_SECONDS:
            raise InvalidInputError("ttl_seconds", ttl, f"in (0, {MAX_TTL_SECONDS:g}]")
        if not isinstance(self.limits, ReservationLimits):
            raise InvalidInputError("limits", self.limits, "a ReservationLimits")


#: Turns a decision whose hold was refused into what is journaled and answered instead.
Refusal = Callable[[Decision, ReservationOutcome], Decision]


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision to journal, with the inputs it was made from.

    Parameters
    ----------
    decision
        The desk's decision.
    signal, account, market, config_name, request_id
        As for :meth:`~riskdesk.store.Store.journal_decision`.
    hold
        Budget to reserve first, optional.
    on_refused
        Required with ``hold``: called inside the transaction when the hold is refused, it
        returns the decision to journal instead (a REJECT naming the limit). It must be a
        pure, quick function.
    """

    decision: Decision
    signal: Signal
    account: AccountState | None
    market: MarketSnapshot | None
    config_name: str
    request_id: str | None = None
    hold: HoldRequest | None = None
    on_refused: Refusal | None = None

    def __post_init__(self) -> None:
        if self.hold is not None and not isinstance(self.hold, HoldRequest):
            raise InvalidInputError("hold", self.hold, "a HoldRequest or None")
        if self.hold is not None and not callable(self.on_refused):
            raise InvalidInputError("on_refused", self.on_refused,
                                    "a function giving the decision to journal when the hold "
                                    "is refused")


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """A journaled decision: as written, its journal id, and its hold or the refusal."""

    decision: Decision
    decision_id: int
    reservation: Reservation | None
    refusal: ReservationOutcome | None


#: Builds the answer to store under the idempotency key from the recorded decisions.
Answer = Callable[[tuple[RecordedDecision, ...]], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class DecisionWrite:
    """Decisions written together, all or nothing.

    Parameters
    ----------
    records
        The decisions, in order; holds are checked in this order.
    now
        The decision time (timezone-aware): holds start and expire from it.
    desk_version
        The desk-state version the decisions were made on; when given and another version is
        stored at commit time, the write fails with :class:`~riskdesk.errors.StaleStateError`
        and nothing is written (decide again on the new state).
    idempotency
        ``(key, owner)`` of a claim from
        :meth:`~riskdesk.store.Store.claim_idempotency`; the answer is stored under it in the
        same transaction. Needs ``answer``.
    key_at_commit
        ``(key, body_hash)`` of an idempotency key not claimed beforehand: the key is
        claimed, with the answer, in the write's own transaction. When the key is stored by
        then (committed by another request, or taken by an earlier write of the same
        transaction), nothing of this write is written and its result is the stored answer,
        ``replayed``; with another ``body_hash`` it fails with
        :class:`~riskdesk.errors.ConflictError`, and while a claim of
        :meth:`~riskdesk.store.Store.claim_idempotency` is in progress under the key with
        :class:`KeyInUseError` (wait for it with that method). Needs ``answer``; not with
        ``idempotency``.
    answer
        Builds the answer from the recorded decisions (inside the transaction: pure, quick).
    api_key_id
        The API key the write is made for; when given and the key is revoked (or unknown)
        at commit time, the write fails with :class:`RevokedKeyError` and nothing is written.
    """

    records: tuple[DecisionRecord, ...]
    now: datetime
    desk_version: int | None = None
    idempotency: tuple[str, str] | None = None
    key_at_commit: tuple[str, str] | None = None
    answer: Answer | None = None
    api_key_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.records, tuple) or not self.records \
                or not all(isinstance(r, DecisionRecord) for r in self.records):
            raise InvalidInputError("records", self.records, "a non-empty tuple of "
                                    "DecisionRecord")
        check_time(self.now, "now")
        v = self.desk_version
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise InvalidInputError("desk_version", v, "an int >= 0 or None")
        if self.idempotency is not None:
            key, owner = self.idempotency
            check_text(key, "idempotency.key")
            check_text(owner, "idempotency.owner", 32)
        if self.key_at_commit is not None:
            if self.idempotency is not None:
                raise InvalidInputError("key_at_commit", self.key_at_commit,
                                        "None when a claim (idempotency) is given")
            key, digest = self.key_at_commit
            check_text(key, "key_at_commit.key")
            check_text(digest, "key_at_commit.body_hash", 128)
        if (self.idempotency is not None or self.key_at_commit is not None) \
                and self.answer is None:
            raise InvalidInputError("answer", None, "a function building the answer to "
                                    "store under the idempotency key")
        if self.api_key_id is not None:
            check_text(self.api_key_id, "api_key_id", 32)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What :meth:`BatchOps.record_decisions` committed.

    ``replayed``: the write's ``key_at_commit`` was stored already; nothing of the write was
    written (``decisions`` is empty) and ``answer`` is the one stored under the key.
    """

    decisions: tuple[RecordedDecision, ...]
    answer: dict[str, Any] | None = None
    replayed: bool = False


class KeyInUseError(ConflictError):
    """A write's ``key_at_commit`` is claimed by a request still computing its answer.

    Nothing of the write was written; wait for that answer with
    :meth:`~riskdesk.store.Store.claim_idempotency`.
    """
