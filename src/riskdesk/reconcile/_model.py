"""Value types of reconciliation: findings, policies, tolerances and close orders."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from riskdesk.domain import Position, Side, to_decimal
from riskdesk.errors import InvalidInputError

_ZERO = Decimal(0)
#: Relative price differences below this are arithmetic noise, never drift.
PRICE_NOISE = Decimal("1e-9")
#: Relative cash differences below this are rounding of 28-digit decimal arithmetic
#: (equity minus unrealized PnL), never drift.
BALANCE_NOISE = Decimal("1e-18")


class FindingKind(StrEnum):
    """What differs between the local book and the broker."""

    MISSING_POSITION = "MISSING_POSITION"
    """The book holds a position the broker does not: a liquidation, a stop or a manual close."""
    UNKNOWN_POSITION = "UNKNOWN_POSITION"
    """The broker holds a position the book does not know: a manual or foreign order."""
    QUANTITY_DRIFT = "QUANTITY_DRIFT"
    """Both hold the position, in different sizes."""
    PRICE_DRIFT = "PRICE_DRIFT"
    """Both hold the position, at different average entry prices."""
    BALANCE_DRIFT = "BALANCE_DRIFT"
    """The book's cash differs from the broker's wallet balance."""


class Resolution(StrEnum):
    """What reconciliation does about a finding.

    ``ADOPT``: the book takes the broker's value. ``FLATTEN``: the book takes the broker's
    value and a reduce-only order closing the exposure the book did not expect is emitted
    (a shortfall has nothing to close and is adopted). ``HALT``: the book keeps its value and the
    report asks the desk to halt until an operator resolves it.
    """

    ADOPT = "ADOPT"
    FLATTEN = "FLATTEN"
    HALT = "HALT"


@dataclass(frozen=True, slots=True)
class Tolerances:
    """How much difference is not drift.

    Parameters
    ----------
    quantity_abs, quantity_rel
        A quantity drifts when ``|remote - local| > max(quantity_abs, quantity_rel x
        max(|remote|, |local|))``.
    price_rel
        An entry price drifts when ``|remote - local| > price_rel x remote`` (never below
        ``PRICE_NOISE``); ``None`` skips the check (spot brokers keep no cost basis).
    balance_abs, balance_rel
        Cash drifts when ``|remote - local| > max(balance_abs, balance_rel x |remote|)`` (never
        below ``BALANCE_NOISE`` of the balance).
    """

    quantity_abs: Decimal = _ZERO
    quantity_rel: Decimal = _ZERO
    price_rel: Decimal | None = Decimal("0.0001")
    balance_abs: Decimal = Decimal("0.01")
    balance_rel: Decimal = _ZERO

    def __post_init__(self) -> None:
        s = object.__setattr__
        for name in ("quantity_abs", "quantity_rel", "balance_abs", "balance_rel"):
            s(self, name, to_decimal(getattr(self, name), f"tolerances.{name}"))
        if self.price_rel is not None:
            s(self, "price_rel", to_decimal(self.price_rel, "tolerances.price_rel"))

    def quantity_drifts(self, local: Decimal, remote: Decimal) -> bool:
        """Whether two quantities differ by more than the tolerance."""
        return abs(remote - local) > max(self.quantity_abs,
                                         self.quantity_rel * max(abs(remote), abs(local)))

    def price_drifts(self, local: Decimal, remote: Decimal) -> bool:
        """Whether two entry prices differ by more than the tolerance."""
        if self.price_rel is None:
            return False
        return abs(remote - local) > max(self.price_rel, PRICE_NOISE) * remote

    def balance_drifts(self, local: Decimal, remote: Decimal) -> bool:
        """Whether two balances differ by more than the tolerance."""
        return abs(remote - local) > max(self.balance_abs, self.balance_rel * abs(remote),
                                         BALANCE_NOISE * abs(remote))


_FLATTENABLE = {"unknown", "quantity"}


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    """The resolution of each kind of finding, the tolerances and the freshness required.

    Parameters
    ----------
    missing
        For ``MISSING_POSITION`` (``ADOPT`` or ``HALT``: there is nothing to flatten).
    unknown
        For ``UNKNOWN_POSITION``.
    quantity
        For ``QUANTITY_DRIFT``.
    price
        For ``PRICE_DRIFT`` (``ADOPT`` or ``HALT``).
    balance
        For ``BALANCE_DRIFT`` (``ADOPT`` or ``HALT``).
    tolerances
        What difference is not drift.
    max_age
        The broker state must be at most this old at reconciliation time; ``None`` accepts any
        age.
    """

    missing: Resolution = Resolution.ADOPT
    unknown: Resolution = Resolution.HALT
    quantity: Resolution = Resolution.ADOPT
    price: Resolution = Resolution.ADOPT
    balance: Resolution = Resolution.ADOPT
    tolerances: Tolerances = field(default_factory=Tolerances)
    max_age: timedelta | None = timedelta(minutes=1)

    def __post_init__(self) -> None:
        for name in ("missing", "unknown", "quantity", "price", "balance"):
            raw = getattr(self, name)
            try:
                value = Resolution(str(raw).upper())
            except ValueError:
                raise InvalidInputError(f"policy.{name}", raw,
                                        "one of ADOPT, FLATTEN, HALT") from None
            if value is Resolution.FLATTEN and name not in _FLATTENABLE:
                raise InvalidInputError(f"policy.{name}", raw,
                                        "ADOPT or HALT (nothing on the broker to flatten)")
            object.__setattr__(self, name, value)
        if not isinstance(self.tolerances, Tolerances):
            raise InvalidInputError("policy.tolerances", self.tolerances, "Tolerances")
        if self.max_age is not None and self.max_age <= timedelta(0):
            raise InvalidInputError("policy.max_age", self.max_age, "a positive duration or None")

    @classmethod
    def adopt_all(cls, tolerances: Tolerances | None = None,
                  max_age: timedelta | None = timedelta(minutes=1)) -> ReconcilePolicy:
        """A policy that makes the book equal the broker, whatever differs."""
        return cls(Resolution.ADOPT, Resolution.ADOPT, Resolution.ADOPT, Resolution.ADOPT,
                   Resolution.ADOPT, tolerances or Tolerances(), max_age)

    def for_kind(self, kind: FindingKind) -> Resolution:
        """The resolution configured for ``kind``."""
        return {
            FindingKind.MISSING_POSITION: self.missing,
            FindingKind.UNKNOWN_POSITION: self.unknown,
            FindingKind.QUANTITY_DRIFT: self.quantity,
            FindingKind.PRICE_DRIFT: self.price,
            FindingKind.BALANCE_DRIFT: self.balance,
        }[kind]


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between the book and the broker, and what was done about it.

    Parameters
    ----------
    kind
        What differs.
    resolution
        What reconciliation did.
    symbol, side
        The position concerned (``None`` for a balance).
    local, remote
        The book's and the broker's value (quantity, entry price or cash); ``None`` where one
        side has no such position.
    note
        A sentence for the operator.
    strategy
        The virtual sub-account the finding was allocated to, when reconciling a pool.
    """

    kind: FindingKind
    resolution: Resolution
    symbol: str | None
    side: Side | None
    local: Decimal | None
    remote: Decimal | None
    note: str
    strategy: str | None = None

    @property
    def drift(self) -> Decimal:
        """Broker's value minus the book's (a missing value counts as zero)."""
        return (self.remote or _ZERO) - (self.local or _ZERO)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (decimals as strings)."""
        return {"kind": self.kind.value, "resolution": self.resolution.value,
                "symbol": self.symbol, "side": None if self.side is None else self.side.value,
                "local": _s(self.local), "remote": _s(self.remote), "drift": str(self.drift),
                "strategy": self.strategy, "note": self.note}


@dataclass(frozen=True, slots=True)
class CloseOrder:
    """A reduce-only market order that closes exposure the book did not expect.

    Parameters
    ----------
    symbol
        Instrument.
    side
        Order side: ``SHORT`` (sell) closes a long, ``LONG`` (buy) closes a short.
    quantity
        Quantity to close, > 0.
    reason
        The finding that asked for it.
    client_order_id
        A deterministic id derived from the broker position, so that sending the same close
        twice is refused by the broker instead of executed twice.
    """

    symbol: str
    side: Side
    quantity: Decimal
    reason: FindingKind
    client_order_id: str
    reduce_only: bool = True

    @classmethod
    def closing(cls, position: Position, quantity: Decimal, reason: FindingKind) -> CloseOrder:
        """The order closing ``quantity`` of ``position``."""
        key = "|".join((position.symbol, position.side.value, str(position.quantity),
                        str(position.entry_price), str(quantity)))
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        return cls(position.symbol, position.side.opposite, quantity, reason, f"rdflat-{digest}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"symbol": self.symbol, "side": "BUY" if self.side is Side.LONG else "SELL",
                "quantity": str(self.quantity), "reduce_only": self.reduce_only,
                "order_type": "market", "reason": self.reason.value,
                "client_order_id": self.client_order_id}


def report_dict(kind: str, *, account_id: str | None, as_of: datetime,
                remote_as_of: datetime, halt: bool, findings: tuple[Finding, ...],
                actions: tuple[CloseOrder, ...]) -> dict[str, Any]:
    """The part of a report's stored form that single and pool reports share."""
    return {"kind": kind, "account_id": account_id,
            "as_of": as_of.isoformat(), "remote_as_of": remote_as_of.isoformat(),
            "clean": not findings, "halt": halt,
            "findings": [f.to_dict() for f in findings],
            "actions": [a.to_dict() for a in actions]}


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def position_to_dict(p: Position) -> dict[str, Any]:
    """JSON-safe form of a position (the fields reconciliation keeps)."""
    return {"symbol": p.symbol, "side": p.side.value, "quantity": str(p.quantity),
            "entry_price": str(p.entry_price), "mark_price": _s(p.mark_price),
            "leverage": str(p.leverage), "contract_size": str(p.contract_size),
            "strategy": p.strategy, "stop_price": _s(p.stop_price),
            "opened_at": None if p.opened_at is None else p.opened_at.isoformat()}


def position_from_dict(d: dict[str, Any], field: str = "position") -> Position:
    """Inverse of :func:`position_to_dict`; bad values raise naming ``field``."""
    if not isinstance(d, dict):
        raise InvalidInputError(field, d, "a position document")

    def num(name: str, default: str | None = None) -> Decimal:
        return to_decimal(d.get(name, default), f"{field}.{name}", allow_negative=True)

    def opt(name: str) -> Decimal | None:
        return None if d.get(name) is None else num(name)

    opened = d.get("opened_at")
    try:
        opened_at = None if opened is None else datetime.fromisoformat(opened)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{field}.opened_at", opened, "an ISO 8601 time") from None
    strategy = d.get("strategy")
    return Position(symbol=str(d.get("symbol") or ""),
                    side=Side.parse(d.get("side"), f"{field}.side"),
                    quantity=num("quantity"), entry_price=num("entry_price"),
                    mark_price=opt("mark_price"), leverage=num("leverage", "1"),
                    contract_size=num("contract_size", "1"),
                    strategy=None if strategy is None else str(strategy),
                    stop_price=opt("stop_price"), opened_at=opened_at)
