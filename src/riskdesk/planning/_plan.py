"""Seed 000's two-phase batch: reducers first, then openers within the budget they free."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from riskdesk.domain import (
    MAX_MAGNITUDE,
    AccountState,
    Decision,
    MarketSnapshot,
    Position,
    Rounding,
    Side,
    Signal,
    quantize_to_step,
)
from riskdesk.errors import InvalidInputError, UnknownSymbolError
from riskdesk.sizing import SizeDecision

if TYPE_CHECKING:
    from riskdesk.desk import Desk

# A target weight becomes the order's signal strength, which is bounded like every number.
_MAX_WEIGHT = float(MAX_MAGNITUDE)


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One order of a plan.

    Parameters
    ----------
    phase
        ``"A"`` for a reducer (runs first), ``"B"`` for an opener.
    symbol
        Instrument.
    target_weight
        The requested target weight.
    intended_val
        ``|target_weight| x equity x capital_utilization_factor``, the seed's intended value.
    current_qty
        Signed quantity held before the plan.
    decision
        The desk's decision for this order.
    """

    phase: str
    symbol: str
    target_weight: float
    intended_val: Decimal
    current_qty: Decimal
    decision: Decision

    @property
    def signed_qty(self) -> Decimal:
        """The order quantity, negative for a sell."""
        d = self.decision
        return d.quantity if d.side is Side.LONG else -d.quantity

    def size_decision(self) -> SizeDecision | None:
        """The line as seed 000's ``SizeDecision``, or ``None`` when no order goes out."""
        d = self.decision
        if not d.approved:
            return None
        n = float(d.notional)
        return SizeDecision(self.symbol, self.signed_qty, float(d.price), n,
                            float(self.intended_val), n, d.binding_cap)

    def log_line(self) -> str:
        """Seed 000's log line, ``SizeDecision: AAPL qty=-22 (TARGET), notional=..., ...``.

        A line that sends no order says why instead of ``TARGET``.
        """
        sd = self.size_decision()
        if sd is not None:
            return sd.log_line()
        why = ",".join(r.value for r in self.decision.reasons) or self.decision.action.value
        return (f"SizeDecision: {self.symbol} qty=0 ({self.decision.action.value}: {why}), "
                f"notional=0.00, intended_val={self.intended_val:.2f}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"phase": self.phase, "symbol": self.symbol, "target_weight": self.target_weight,
                "intended_val": str(self.intended_val), "current_qty": str(self.current_qty),
                "log": self.log_line(), "decision": self.decision.to_dict()}


@dataclass(frozen=True, slots=True)
class Plan:
    """A two-phase batch: reducers, then openers, each line decided by the desk.

    Parameters
    ----------
    lines
        Reducers (phase A) in target order, then openers (phase B), largest first.
    available_before
        Free balance before the plan.
    freed_margin
        Margin the approved reducers free.
    available_after
        Free balance once every approved line has filled.

    Money is exact (``Decimal``): the balances and margins of the account and the decisions.
    """

    lines: tuple[PlanLine, ...]
    available_before: Decimal
    freed_margin: Decimal
    available_after: Decimal

    def log_lines(self) -> list[str]:
        """Every line's seed 000 log line, in execution order."""
        return [line.log_line() for line in self.lines]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"lines": [line.to_dict() for line in self.lines],
                "available_before": str(self.available_before),
                "freed_margin": str(self.freed_margin),
                "available_after": str(self.available_after)}


def _reduced(positions: list[Position], symbol: str, qty: Decimal) -> list[Position]:
    out = []
    for p in positions:
        if p.symbol == symbol:
            left = p.quantity - qty
            if left > 0:
                out.append(replace(p, quantity=left))
        else:
            out.append(p)
    return out


def _with(account: AccountState, positions: list[Position], md: Decimal, nd: Decimal,
          trades: int) -> AccountState:
    """The account after fills: positions replaced, balances moved by the deltas."""
    assert account.buying_power is not None
    return replace(account, positions=tuple(positions),
                   available=max(Decimal(0), account.available - md),
                   margin_used=max(Decimal(0), account.margin_used + md),
                   buying_power=max(Decimal(0), account.buying_power - nd),
                   trades_today=account.trades_today + trades)


def plan_targets(desk: Desk, targets: Mapping[str, float], account: AccountState,
                 markets: Mapping[str, MarketSnapshot], now: datetime) -> Plan:
    """Plan the orders that move ``account`` toward ``targets`` (see :meth:`Desk.plan`).

    Phase A reduces every position whose target is smaller (or on the other side), through
    the desk's reducer path, so nothing blocks it; a flip whose close is cut by a cap opens
    nothing on the other side in this plan. Phase B opens or adds, largest first, each
    decided by the full pipeline against the account as it will be after everything before
    it: the reducers' freed margin and the available balance fund it, and every cap counts
    the orders already planned.
    """
    if not isinstance(targets, Mapping):
        raise InvalidInputError("targets", targets, "a mapping of symbol to target weight")
    if not isinstance(markets, Mapping):
        raise InvalidInputError("markets", markets, "a mapping of symbol to MarketSnapshot")
    weights: dict[str, float] = {}
    # Everything is checked before the first line is decided: a bad target must not leave
    # half a plan decided (and the desk's state moved by it).
    for sym, w in targets.items():
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) \
                or abs(w) > _MAX_WEIGHT:
            raise InvalidInputError(f"targets[{sym!r}]", w,
                                    f"a finite target weight of magnitude <= {_MAX_WEIGHT:g}")
        if sym not in markets:
            raise UnknownSymbolError(f"no market snapshot for target {sym!r}")
        if not isinstance(markets[sym], MarketSnapshot):
            raise InvalidInputError(f"markets[{sym!r}]", markets[sym], "a MarketSnapshot")
        weights[sym] = float(w)
    p = desk._params
    eq = float(account.equity)
    factor = p.capital_utilization_factor
    lines: list[PlanLine] = []
    positions = list(account.positions)
    freed = Decimal(0)
    freed_notional = Decimal(0)
    dec_factor = Decimal(repr(factor))
    current: dict[str, Decimal] = {}
    openers: list[tuple[float, str, float]] = []

    # Phase A: reducers, in target order.
    for sym, w in weights.items():
        market = markets[sym]
        unit = float(market.price) * float(market.rules.contract_size)
        pos = account.position(sym)
        target = w * eq * factor
        held_signed = 0.0
        cur_qty = Decimal(0)
        if pos is not None:
            held_signed = float(pos.quantity) * unit * pos.side.sign
            cur_qty = pos.quantity * pos.side.sign
        current[sym] = cur_qty
        flip = pos is not None and target * pos.side.sign < 0
        if pos is not None and (flip or abs(target) < abs(held_signed)):
            if flip or target == 0.0:
                qty = pos.quantity
            else:
                cut = (abs(held_signed) - abs(target)) / unit
                qty = quantize_to_step(Decimal(repr(cut)), market.rules.step, Rounding.DOWN)
            if qty > 0:
                sig = Signal(sym, pos.side.opposite, strength=w, reduce_only=True)
                d = desk._decide(sig, account, market, now,
                                 reduce_qty=qty)
                lines.append(PlanLine("A", sym, w, _intended(w, account, dec_factor), cur_qty,
                                      d))
                if d.approved:
                    freed += d.notional / pos.leverage
                    freed_notional += d.notional
                    positions = _reduced(positions, sym, d.quantity)
                if flip and not (d.approved and d.quantity >= pos.quantity):
                    # The close was cut (reducer cap, market max_qty): part of the old side
                    # is still open, and an order on the other side would only reduce it
                    # further. The other side opens once the old one is closed.
                    continue
            held_signed = 0.0 if flip else target if abs(target) < abs(held_signed) \
                else held_signed
        if abs(target) > abs(held_signed) and target != 0.0:
            openers.append((abs(target) - abs(held_signed), sym, w))

    sim = _with(account, positions, -freed, -freed_notional, 0)

    # Phase B: openers, largest first (ties in target order).
    openers.sort(key=lambda t: -t[0])
    for delta, sym, w in openers:
        market = markets[sym]
        side = Side.LONG if w > 0 else Side.SHORT
        sig = Signal(sym, side, strength=w)
        note = (f"target {w:+.4g} x equity {eq:,.2f} x factor {factor:g} = "
                f"{abs(w) * eq * factor:,.2f}; {delta:,.2f} to add")
        d = desk._decide(sig, sim, market, now, requested=delta,
                         requested_note=note)
        lines.append(PlanLine("B", sym, w, _intended(w, account, dec_factor), current[sym], d))
        if d.approved:
            new_pos = Position(sym, side, d.quantity, d.price, leverage=d.leverage,
                               contract_size=market.rules.contract_size)
            merged = []
            added = False
            for q in sim.positions:
                if q.symbol == sym and q.side is side:
                    total = q.quantity + d.quantity
                    entry = (q.quantity * q.entry_price + d.quantity * d.price) / total
                    merged.append(replace(q, quantity=total, entry_price=entry,
                                          mark_price=d.price))
                    added = True
                else:
                    merged.append(q)
            if not added:
                merged.append(new_pos)
            sim = _with(sim, merged, d.margin_required, d.notional, 1)
    return Plan(tuple(lines), account.available, freed, sim.available)


def _intended(weight: float, account: AccountState, factor: Decimal) -> Decimal:
    """``|weight| x equity x factor`` in exact decimals (the weight as written)."""
    return abs(Decimal(repr(weight))) * account.equity * factor
