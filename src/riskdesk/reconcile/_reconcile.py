"""Compare the book with the broker and resolve every difference by policy.

Positions are matched by ``(symbol, side)``. For positions on both sides the mark price,
leverage and contract size always come from the broker (market data, not the book's belief);
quantity and entry price are compared within tolerances. The result is deterministic, so
reconciling the resulting book against the same broker state finds nothing more to do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from riskdesk.domain import AccountState, Position
from riskdesk.errors import InvalidInputError, StaleStateError, StateError
from riskdesk.reconcile._book import Book, PositionKey, index_positions
from riskdesk.reconcile._model import (
    CloseOrder,
    Finding,
    FindingKind,
    ReconcilePolicy,
    Resolution,
    report_dict,
)

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    """The outcome of one reconciliation.

    Parameters
    ----------
    as_of
        When reconciliation ran.
    remote_as_of
        When the broker state was read.
    findings
        Every difference found, with its resolution.
    actions
        Close orders to send (from ``FLATTEN`` resolutions).
    book
        The book after applying the resolutions.
    halt
        Whether a ``HALT`` resolution asks the desk to stop opening positions.
    account_id
        The account reconciled, when given.
    """

    as_of: datetime
    remote_as_of: datetime
    findings: tuple[Finding, ...]
    actions: tuple[CloseOrder, ...]
    book: Book
    halt: bool
    account_id: str | None = None

    @property
    def clean(self) -> bool:
        """No differences at all."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for ``store.save_reconciliation``."""
        return {**report_dict('reconciliation', account_id=self.account_id, as_of=self.as_of,
                              remote_as_of=self.remote_as_of, halt=self.halt,
                              findings=self.findings, actions=self.actions),
                "book": self.book.to_dict()}


def check_remote(remote: AccountState, policy: ReconcilePolicy, now: datetime) -> datetime:
    """Validate the time arguments and the broker state's age; return its timestamp.

    Raises
    ------
    StateError
        When the broker state carries no timestamp.
    StaleStateError
        When it is older than ``policy.max_age``, or dated more than that ahead of ``now``.
    """
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise InvalidInputError("now", now, "a timezone-aware datetime")
    if not isinstance(remote, AccountState):
        raise InvalidInputError("remote", remote, "an AccountState from a broker")
    if not isinstance(policy, ReconcilePolicy):
        raise InvalidInputError("policy", policy, "a ReconcilePolicy")
    if remote.as_of is None:
        raise StateError("broker state has no as_of time; refusing to reconcile against it")
    # Like the desk, a state dated further ahead of ``now`` than the maximum age is refused
    # too: its clock cannot be trusted to say how old it is.
    if policy.max_age is not None and abs(now - remote.as_of) > policy.max_age:
        raise StaleStateError(f"broker state from {remote.as_of.isoformat()} is more than "
                              f"{policy.max_age} away from {now.isoformat()}")
    return remote.as_of


def remote_cash(remote: AccountState) -> Decimal:
    """The broker's wallet balance: equity without unrealized PnL."""
    return remote.equity - remote.unrealized_pnl


def reconcile(local: Book, remote: AccountState, policy: ReconcilePolicy, now: datetime, *,
              account_id: str | None = None) -> ReconciliationReport:
    """Reconcile the book with the broker's account state.

    Parameters
    ----------
    local
        The desk's book.
    remote
        The broker's account state with its positions (``broker.account(now)``).
    policy
        Resolutions, tolerances and the maximum age of ``remote``.
    now
        Reconciliation time (timezone-aware).
    account_id
        Name of the account, carried into the report.

    Returns
    -------
    ReconciliationReport
        Findings, close orders, the resulting book and the halt flag.

    Raises
    ------
    StateError, StaleStateError
        When the broker state has no timestamp or is too old: never reconcile against it.
    InvalidInputError
        For a malformed argument (for example two broker positions with one symbol and side).
    """
    if not isinstance(local, Book):
        raise InvalidInputError("local", local, "a Book")
    remote_as_of = check_remote(remote, policy, now)
    mine = index_positions(local.positions, "local.positions")
    theirs = index_positions(remote.positions, "remote.positions")
    findings: list[Finding] = []
    actions: list[CloseOrder] = []
    result: dict[PositionKey, Position] = {}
    for key in sorted(mine.keys() | theirs.keys(), key=lambda k: (k[0], k[1].value)):
        kept = _reconcile_position(mine.get(key), theirs.get(key), policy, findings, actions)
        if kept is not None:
            result[key] = kept
    cash = _reconcile_cash(local.cash, remote, policy, findings)
    book = Book(positions=tuple(result.values()), cash=cash, fill_ids=local.fill_ids)
    halt = any(f.resolution is Resolution.HALT for f in findings)
    return ReconciliationReport(now, remote_as_of, tuple(findings), tuple(actions), book, halt,
                                account_id)


def _reconcile_position(mine: Position | None, theirs: Position | None, policy: ReconcilePolicy,
                        findings: list[Finding], actions: list[CloseOrder]) -> Position | None:
    tol = policy.tolerances
    if theirs is None:
        assert mine is not None
        res = policy.missing
        findings.append(Finding(
            FindingKind.MISSING_POSITION, res, mine.symbol, mine.side, mine.quantity, None,
            f"the broker holds no {mine.side.value} {mine.symbol}: closed there (liquidation, "
            f"stop or manual close)"))
        return mine if res is Resolution.HALT else None
    if mine is None:
        res = policy.unknown
        findings.append(Finding(
            FindingKind.UNKNOWN_POSITION, res, theirs.symbol, theirs.side, None, theirs.quantity,
            f"the broker holds {theirs.quantity} {theirs.symbol} {theirs.side.value} the book "
            f"does not know"))
        if res is Resolution.FLATTEN:
            actions.append(CloseOrder.closing(theirs, theirs.quantity,
                                              FindingKind.UNKNOWN_POSITION))
        return None if res is Resolution.HALT else theirs
    # Market data always follows the broker.
    kept = replace(mine, mark_price=theirs.mark_price, leverage=theirs.leverage,
                   contract_size=theirs.contract_size)
    if tol.quantity_drifts(mine.quantity, theirs.quantity):
        res = policy.quantity
        excess = theirs.quantity - mine.quantity
        note = (f"{mine.symbol} {mine.side.value}: book {mine.quantity}, broker "
                f"{theirs.quantity}")
        if res is Resolution.FLATTEN and excess <= 0:
            note += " (a shortfall has nothing to flatten: adopted)"
        findings.append(Finding(FindingKind.QUANTITY_DRIFT, res, mine.symbol, mine.side,
                                mine.quantity, theirs.quantity, note))
        if res is Resolution.FLATTEN and excess > 0:
            actions.append(CloseOrder.closing(theirs, excess, FindingKind.QUANTITY_DRIFT))
        if res is not Resolution.HALT:
            kept = replace(kept, quantity=theirs.quantity)
    if tol.price_drifts(mine.entry_price, theirs.entry_price):
        res = policy.price
        findings.append(Finding(
            FindingKind.PRICE_DRIFT, res, mine.symbol, mine.side, mine.entry_price,
            theirs.entry_price, f"{mine.symbol} {mine.side.value}: average entry book "
            f"{mine.entry_price}, broker {theirs.entry_price}"))
        if res is not Resolution.HALT:
            kept = replace(kept, entry_price=theirs.entry_price)
    return kept


def _reconcile_cash(cash: Decimal | None, remote: AccountState, policy: ReconcilePolicy,
                    findings: list[Finding]) -> Decimal:
    theirs = remote_cash(remote)
    if cash is None:
        return theirs
    if not policy.tolerances.balance_drifts(cash, theirs):
        return cash
    res = policy.balance
    findings.append(Finding(FindingKind.BALANCE_DRIFT, res, None, None, cash, theirs,
                            f"cash: book {cash}, broker wallet balance {theirs}"))
    return cash if res is Resolution.HALT else theirs
