"""Reconcile a pool of virtual sub-accounts with its one broker account (rules in ``_pool``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from riskdesk.brokers import Fill, apply_fill
from riskdesk.domain import AccountState, Position, Side
from riskdesk.errors import InvalidInputError
from riskdesk.reconcile._book import index_positions
from riskdesk.reconcile._model import (
    CloseOrder,
    Finding,
    FindingKind,
    ReconcilePolicy,
    Resolution,
)
from riskdesk.reconcile._pool import (
    Pool,
    PoolReport,
    SubAccount,
    finest_unit,
    largest_remainder,
)
from riskdesk.reconcile._reconcile import check_remote, remote_cash

_ZERO = Decimal(0)


class _Work:
    """A mutable working copy of a pool: positions by strategy and symbol, and capital."""

    def __init__(self, pool: Pool) -> None:
        self.unassigned = pool.unassigned
        self.fill_ids = pool.fill_ids
        self.held: dict[str, dict[str, Position]] = {
            a.strategy: {p.symbol: p for p in a.positions} for a in pool.accounts}
        self.capital: dict[str, Decimal] = {a.strategy: a.capital for a in pool.accounts}

    def holding(self, symbol: str) -> list[tuple[str, Position]]:
        return [(name, by[symbol]) for name, by in sorted(self.held.items()) if symbol in by]

    def net(self, symbol: str) -> Decimal:
        return sum((p.quantity * p.side.sign for _, p in self.holding(symbol)), _ZERO)

    def put(self, name: str, symbol: str, position: Position | None) -> None:
        if position is None:
            self.held[name].pop(symbol, None)
        else:
            self.held[name][symbol] = position

    def pool(self) -> Pool:
        return Pool(tuple(SubAccount(name, self.capital[name], tuple(by.values()))
                          for name, by in self.held.items()), self.fill_ids, self.unassigned)


def reconcile_pool(pool: Pool, remote: AccountState, policy: ReconcilePolicy, now: datetime, *,
                   account_id: str | None = None) -> PoolReport:
    """Reconcile virtual sub-accounts, as one pool, with the broker account they share.

    Parameters
    ----------
    pool
        The sub-accounts.
    remote
        The broker's account state with its positions.
    policy
        Resolutions, tolerances and maximum age; quantity tolerances apply to each symbol's net
        position.
    now
        Reconciliation time (timezone-aware).
    account_id
        Name of the broker account, carried into the report.

    Returns
    -------
    PoolReport
        Findings (allocated ones name their sub-account in ``strategy``; quantities are signed,
        negative for shorts), close orders, the resulting pool and the halt flag.
    """
    if not isinstance(pool, Pool):
        raise InvalidInputError("pool", pool, "a Pool")
    remote_as_of = check_remote(remote, policy, now)
    theirs = index_positions(remote.positions, "remote.positions")
    by_symbol: dict[str, list[Position]] = {}
    for (symbol, _), p in sorted(theirs.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
        by_symbol.setdefault(symbol, []).append(p)
    work = _Work(pool)
    findings: list[Finding] = []
    actions: list[CloseOrder] = []
    for symbol in sorted(pool.symbols() | by_symbol.keys()):
        mine = by_symbol.get(symbol, [])
        _sync_market(work, symbol, mine)
        _reconcile_net(work, symbol, mine, policy, now, findings, actions)
        _reconcile_entry(work, symbol, mine, policy, findings)
    _reconcile_capital(work, remote, policy, findings)
    halt = any(f.resolution is Resolution.HALT for f in findings)
    return PoolReport(now, remote_as_of, tuple(findings), tuple(actions), work.pool(), halt,
                      account_id)


def _sign(x: Decimal) -> int:
    return (x > 0) - (x < 0)


def _side(sign: int) -> Side:
    return Side.LONG if sign > 0 else Side.SHORT


def _sync_market(work: _Work, symbol: str, remote: list[Position]) -> None:
    by_side = {p.side: p for p in remote}
    for name, p in work.holding(symbol):
        src = by_side.get(p.side)
        if src is not None and (p.mark_price, p.leverage, p.contract_size) != (
                src.mark_price, src.leverage, src.contract_size):
            work.put(name, symbol, replace(p, mark_price=src.mark_price, leverage=src.leverage,
                                           contract_size=src.contract_size))


def _reconcile_net(work: _Work, symbol: str, remote: list[Position], policy: ReconcilePolicy,
                   now: datetime, findings: list[Finding], actions: list[CloseOrder]) -> None:
    local = work.net(symbol)
    rnet = sum((p.quantity * p.side.sign for p in remote), _ZERO)
    if not policy.tolerances.quantity_drifts(local, rnet):
        return
    dl, dr = _sign(local), _sign(rnet)
    if dl != 0 and dl == dr:
        shortfall = max(abs(local) - abs(rnet), _ZERO)
        excess = max(abs(rnet) - abs(local), _ZERO)
    else:
        shortfall, excess = abs(local), abs(rnet)
    same = dl == dr
    if shortfall > 0:
        kind = FindingKind.QUANTITY_DRIFT if same else FindingKind.MISSING_POSITION
        res = policy.for_kind(kind)
        if res is Resolution.HALT:
            findings.append(Finding(kind, res, symbol, _side(dl), local, rnet,
                                    f"{symbol}: pool net {local}, broker net {rnet}"))
        else:
            _take(work, symbol, _side(dl), shortfall, kind, res, findings)
    if excess > 0:
        kind = FindingKind.QUANTITY_DRIFT if same else FindingKind.UNKNOWN_POSITION
        res = policy.for_kind(kind)
        side = _side(dr)
        src = next(p for p in remote if p.side is side)
        if res is Resolution.HALT:
            findings.append(Finding(kind, res, symbol, side, local, rnet,
                                    f"{symbol}: pool net {local}, broker net {rnet}"))
        else:
            _give_unassigned(work, src, excess, kind, res, now, findings)
            if res is Resolution.FLATTEN:
                actions.append(CloseOrder.closing(src, excess, kind))


def _take(work: _Work, symbol: str, side: Side, amount: Decimal, kind: FindingKind,
          res: Resolution, findings: list[Finding]) -> None:
    """Remove ``amount`` of ``side`` exposure: the unassigned bucket first, then pro rata."""
    take: dict[str, Decimal] = {}
    rest = amount
    bucket = work.held[work.unassigned].get(symbol)
    if bucket is not None and bucket.side is side:
        take[work.unassigned] = min(bucket.quantity, rest)
        rest -= take[work.unassigned]
    if rest > 0:
        holders = {name: p.quantity for name, p in work.holding(symbol)
                   if name != work.unassigned and p.side is side}
        take.update(largest_remainder(rest, holders, finest_unit(rest, *holders.values())))
    for name, t in sorted(take.items()):
        if t == 0:
            continue
        p = work.held[name][symbol]
        left = p.quantity - t
        work.put(name, symbol, replace(p, quantity=left) if left else None)
        note = f"{name}: gives up {t} {symbol} of a {amount} shortfall on the broker"
        if res is Resolution.FLATTEN:
            note += " (a shortfall has nothing to flatten: adopted)"
        findings.append(Finding(kind, res, symbol, side, p.quantity * side.sign,
                                left * side.sign, note, strategy=name))


def _give_unassigned(work: _Work, src: Position, excess: Decimal, kind: FindingKind,
                     res: Resolution, now: datetime, findings: list[Finding]) -> None:
    """Book ``excess`` of the broker position ``src`` to the unassigned bucket."""
    name = work.unassigned
    before = work.held[name].get(src.symbol)
    fill = Fill(fill_id="reconcile", symbol=src.symbol, side=src.side, quantity=excess,
                price=src.entry_price, at=now, strategy=name)
    after = apply_fill(before, fill, contract_size=src.contract_size, leverage=src.leverage)
    position = None if after.position is None else replace(
        after.position, mark_price=src.mark_price, opened_at=None)
    signed_before = _ZERO if before is None else before.quantity * before.side.sign
    signed_after = _ZERO if position is None else position.quantity * position.side.sign
    findings.append(Finding(kind, res, src.symbol, src.side, signed_before, signed_after,
                            f"{excess} {src.symbol} {src.side.value} on the broker belongs to "
                            f"no strategy: booked to {name}", strategy=name))
    work.put(name, src.symbol, position)


def _reconcile_entry(work: _Work, symbol: str, remote: list[Position], policy: ReconcilePolicy,
                     findings: list[Finding]) -> None:
    if policy.tolerances.price_rel is None or len(remote) != 1:
        return
    src = remote[0]
    held = work.holding(symbol)
    if not held or any(p.side is not src.side for _, p in held):
        return
    qty = sum((p.quantity for _, p in held), _ZERO)
    avg = sum((p.quantity * p.entry_price for _, p in held), _ZERO) / qty
    if not policy.tolerances.price_drifts(avg, src.entry_price):
        return
    res = policy.price
    findings.append(Finding(FindingKind.PRICE_DRIFT, res, symbol, src.side, avg,
                            src.entry_price, f"{symbol}: pool average entry {avg}, broker "
                            f"{src.entry_price}; every sub-account shifted by the difference"))
    if res is Resolution.HALT:
        return
    delta = src.entry_price - avg
    entries = {name: p.entry_price + delta for name, p in held}
    if any(e <= 0 for e in entries.values()):
        entries = dict.fromkeys(entries, src.entry_price)
    for name, p in held:
        work.put(name, symbol, replace(p, entry_price=entries[name]))


def _reconcile_capital(work: _Work, remote: AccountState, policy: ReconcilePolicy,
                       findings: list[Finding]) -> None:
    theirs, local = remote_cash(remote), sum(work.capital.values(), _ZERO)
    if not policy.tolerances.balance_drifts(local, theirs):
        return
    res = policy.balance
    if res is Resolution.HALT:
        findings.append(Finding(FindingKind.BALANCE_DRIFT, res, None, None, local, theirs,
                                f"pool capital {local}, broker wallet balance {theirs}"))
        return
    drift = theirs - local
    weights = {name: c for name, c in work.capital.items() if c > 0} \
        or {work.unassigned: Decimal(1)}
    shares = largest_remainder(abs(drift), weights, finest_unit(drift, *weights.values()))
    for name, share in sorted(shares.items()):
        old = work.capital[name]
        work.capital[name] = old + share * _sign(drift)
        findings.append(Finding(FindingKind.BALANCE_DRIFT, res, None, None, old,
                                work.capital[name], f"{name}: {share * _sign(drift)} of a "
                                f"{drift} balance drift (pro rata to capital)", strategy=name))
