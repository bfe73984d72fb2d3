"""Virtual sub-accounts: per-strategy capital and positions on one broker account.

The broker sees one account; the desk splits it into sub-accounts, one per strategy, plus an
``unassigned`` bucket for exposure and cash no strategy owns. The pool reconciles as a whole:
for each symbol the sum of the sub-accounts' signed quantities is compared with the broker's net
position, and the pool's total capital with the broker's wallet balance. Drift is then
allocated, by these rules:

* A **shortfall** (the broker holds less in the pool's direction: a liquidation, a stop, a
  manual close) comes first out of the ``unassigned`` bucket, then out of the strategies holding
  that direction, pro rata to their quantities.
* An **excess** (the broker holds more, or the other direction) belongs to no strategy: it goes
  to the ``unassigned`` bucket at the broker's entry price (and is closed there under
  ``FLATTEN``).
* **Entry-price drift** (one broker position, every pool position on its side) shifts every
  sub-account's entry by the same amount, so the pool's average equals the broker's.
* **Balance drift** (funding, interest, fees no fill explains) is shared pro rata to capital
  (all of it to ``unassigned`` when no sub-account has positive capital).

Pro rata shares use the largest-remainder method on the finest decimal step of the inputs, so
they add up exactly and no sub-account gives up more than it holds. ``HALT`` leaves the pool
untouched and reports the pool-level difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from riskdesk.brokers import Fill, apply_fill
from riskdesk.domain import Position, to_decimal
from riskdesk.errors import ComputationError, InvalidInputError
from riskdesk.reconcile._book import check_contract_size
from riskdesk.reconcile._model import (
    CloseOrder,
    Finding,
    position_from_dict,
    position_to_dict,
    report_dict,
)

UNASSIGNED = "unassigned"
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class SubAccount:
    """One strategy's share of the broker account.

    Parameters
    ----------
    strategy
        Strategy name.
    capital
        Cash allocated to the strategy (its share of the wallet balance; may go negative).
    positions
        The strategy's positions, at most one per symbol; each is tagged with ``strategy``.
    """

    strategy: str
    capital: Decimal
    positions: tuple[Position, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.strategy, str) or not self.strategy.strip():
            raise InvalidInputError("sub_account.strategy", self.strategy, "a non-empty name")
        where = f"sub_account[{self.strategy}]"
        object.__setattr__(self, "capital",
                           to_decimal(self.capital, f"{where}.capital", allow_negative=True))
        seen: dict[str, Position] = {}
        for i, p in enumerate(self.positions):
            if not isinstance(p, Position):
                raise InvalidInputError(f"{where}.positions[{i}]", p, "a Position")
            if p.strategy not in (None, self.strategy):
                raise InvalidInputError(f"{where}.positions[{i}].strategy", p.strategy,
                                        f"None or {self.strategy!r}")
            if p.symbol in seen:
                raise InvalidInputError(f"{where}.positions[{i}]", p.symbol,
                                        "one position per symbol in a sub-account")
            seen[p.symbol] = replace(p, strategy=self.strategy)
        object.__setattr__(self, "positions", tuple(seen[s] for s in sorted(seen)))

    def position(self, symbol: str) -> Position | None:
        """The sub-account's position in ``symbol``, or ``None``."""
        return next((p for p in self.positions if p.symbol == symbol), None)

    def with_position(self, symbol: str, position: Position | None) -> SubAccount:
        """A copy holding ``position`` (or nothing) in ``symbol``."""
        rest = [p for p in self.positions if p.symbol != symbol]
        return replace(self, positions=tuple(rest + ([position] if position else [])))


@dataclass(frozen=True, slots=True)
class Pool:
    """Sub-accounts sharing one broker account.

    Parameters
    ----------
    accounts
        The sub-accounts (unique strategy names). An empty ``unassigned`` bucket is added
        when missing.
    fill_ids
        Ids of fills already applied.
    unassigned
        Name of the bucket for exposure and cash no strategy owns.
    """

    accounts: tuple[SubAccount, ...]
    fill_ids: frozenset[str] = field(default_factory=frozenset)
    unassigned: str = UNASSIGNED

    def __post_init__(self) -> None:
        by_name: dict[str, SubAccount] = {}
        for i, a in enumerate(self.accounts):
            if not isinstance(a, SubAccount):
                raise InvalidInputError(f"pool.accounts[{i}]", a, "a SubAccount")
            if a.strategy in by_name:
                raise InvalidInputError(f"pool.accounts[{i}].strategy", a.strategy,
                                        "a name used once")
            by_name[a.strategy] = a
        by_name.setdefault(self.unassigned, SubAccount(self.unassigned, _ZERO))
        object.__setattr__(self, "accounts", tuple(by_name[n] for n in sorted(by_name)))
        object.__setattr__(self, "fill_ids", frozenset(self.fill_ids))

    def account(self, strategy: str) -> SubAccount:
        """The sub-account of ``strategy``."""
        for a in self.accounts:
            if a.strategy == strategy:
                return a
        raise InvalidInputError("strategy", strategy, "a sub-account of the pool")

    @property
    def capital(self) -> Decimal:
        """Total capital of the pool."""
        return sum((a.capital for a in self.accounts), _ZERO)

    def symbols(self) -> set[str]:
        """Symbols any sub-account holds."""
        return {p.symbol for a in self.accounts for p in a.positions}

    def net(self, symbol: str) -> Decimal:
        """Signed net quantity of ``symbol`` over every sub-account."""
        return sum((p.quantity * p.side.sign for a in self.accounts for p in a.positions
                    if p.symbol == symbol), _ZERO)

    def apply_fill(self, fill: Fill, *,
                   contract_size: Decimal | int | str | None = None) -> Pool:
        """The pool after ``fill``, booked to its strategy (``unassigned`` when it has none).

        A fill id seen before changes nothing. Realized PnL minus the fee goes to the
        sub-account's capital. ``contract_size`` is the fill's market's units per contract,
        as for :meth:`Book.apply_fill <riskdesk.reconcile.Book.apply_fill>`: a position the
        fill opens takes it (else 1), a held position keeps its own, and a different one is
        bad input.
        """
        return self._apply(fill, contract_size, "contract_size")

    def apply_fills(self, fills: Iterable[Fill], *,
                    contract_sizes: Mapping[str, Decimal | int | str] | None = None) -> Pool:
        """Apply fills in order; repeated ids are applied once.

        ``contract_sizes`` maps a symbol to its contract size (see :meth:`apply_fill`).
        """
        sizes = contract_sizes or {}
        pool = self
        for f in fills:
            pool = pool._apply(f, sizes.get(f.symbol), f"contract_sizes[{f.symbol}]")
        return pool

    def _apply(self, fill: Fill, contract_size: Decimal | int | str | None,
               field_name: str) -> Pool:
        size = None if contract_size is None else to_decimal(contract_size, field_name,
                                                             allow_zero=False)
        if fill.fill_id in self.fill_ids:
            return self
        acct = self.account(fill.strategy or self.unassigned)
        current = acct.position(fill.symbol)
        check_contract_size(current, size, contract_size, field_name)
        effect = apply_fill(current, replace(fill, strategy=acct.strategy), contract_size=size)
        new = replace(acct.with_position(fill.symbol, effect.position),
                      capital=acct.capital + effect.realized_pnl - fill.fee)
        return self.with_accounts(new, fill_ids=self.fill_ids | {fill.fill_id})

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"unassigned": self.unassigned, "fill_ids": sorted(self.fill_ids),
                "accounts": [{"strategy": a.strategy, "capital": str(a.capital),
                              "positions": [position_to_dict(p) for p in a.positions]}
                             for a in self.accounts]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pool:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
            raise InvalidInputError("pool", data, "a pool document with accounts")
        accounts = []
        for i, a in enumerate(data["accounts"]):
            if not isinstance(a, dict) or not isinstance(a.get("positions", []), list):
                raise InvalidInputError(f"pool.accounts[{i}]", a, "a sub-account document")
            accounts.append(SubAccount(
                str(a.get("strategy") or ""),
                to_decimal(a.get("capital"), f"pool.accounts[{i}].capital", allow_negative=True),
                tuple(position_from_dict(p, f"pool.accounts[{i}].positions[{j}]")
                      for j, p in enumerate(a.get("positions", [])))))
        return cls(tuple(accounts), frozenset(data.get("fill_ids", [])),
                   str(data.get("unassigned") or UNASSIGNED))

    def with_accounts(self, *changed: SubAccount, fill_ids: frozenset[str] | None = None) -> Pool:
        """A copy with ``changed`` sub-accounts replacing (or joining) those of the same name."""
        names = {a.strategy: a for a in self.accounts}
        names.update({a.strategy: a for a in changed})
        return Pool(tuple(names.values()), self.fill_ids if fill_ids is None else fill_ids,
                    self.unassigned)


@dataclass(frozen=True, slots=True)
class PoolReport:
    """The outcome of reconciling a pool: like a reconciliation report, for sub-accounts."""

    as_of: datetime
    remote_as_of: datetime
    findings: tuple[Finding, ...]
    actions: tuple[CloseOrder, ...]
    pool: Pool
    halt: bool
    account_id: str | None = None

    @property
    def clean(self) -> bool:
        """No differences at all."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for ``store.save_reconciliation``."""
        return {**report_dict('pool_reconciliation', account_id=self.account_id, as_of=self.as_of,
                              remote_as_of=self.remote_as_of, halt=self.halt,
                              findings=self.findings, actions=self.actions),
                "pool": self.pool.to_dict()}


def largest_remainder(total: Decimal, weights: dict[str, Decimal], unit: Decimal) \
        -> dict[str, Decimal]:
    """Split ``total`` (>= 0, a multiple of ``unit``) pro rata to positive ``weights``.

    Each share is a multiple of ``unit``; the shares add up to ``total`` exactly; leftover
    units go to the largest fractional remainders (ties to the first name). When every weight
    is a multiple of ``unit`` and ``total`` is at most their sum, no share exceeds its weight.
    """
    whole = sum(weights.values(), _ZERO)
    exact = {k: total * w / whole for k, w in weights.items()}
    shares = {k: v.quantize(unit, rounding=ROUND_FLOOR) for k, v in exact.items()}
    left = int((total - sum(shares.values(), _ZERO)) / unit)
    if not 0 <= left <= len(weights):
        raise ComputationError(f"pro rata split of {total} left {left} units over "
                               f"{len(weights)} shares")
    for k in sorted(weights, key=lambda k: (-(exact[k] - shares[k]), k))[:left]:
        shares[k] += unit
    return shares


def finest_unit(*values: Decimal) -> Decimal:
    """The smallest decimal step among ``values`` (``0.001`` for ``1.5`` and ``0.125``)."""
    exponent = min(int(v.as_tuple().exponent) for v in values)
    return Decimal(1).scaleb(exponent)
