"""The reducer path: an order that shrinks or closes a position passes every risk gate.

A reducer is never denied by a rule meant for openers (trading state, margin zone, drawdown,
exposure, minimum notional). Only the per-order reducer cap and the market's largest order
can make it smaller; a reducer below the minimum notional goes through as a dust close.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from riskdesk.domain import (
    Action,
    Adjustment,
    Decision,
    ExecutionMethod,
    Intent,
    MarketSnapshot,
    Position,
    ReasonCode,
    Rounding,
    Side,
    quantize_to_step,
)
from riskdesk.errors import InvalidInputError
from riskdesk.sizing import liquidity_advice

from ._build import ZERO
from ._params import DeskParams


def _cap_qty(limit: float, unit: float, price: Decimal, cs: Decimal,
             step: Decimal) -> Decimal:
    """The largest quantity on the step grid whose notional stays within ``limit``."""
    q = quantize_to_step(Decimal(repr(limit / unit)), step, Rounding.DOWN)
    while q > 0 and q * price * cs > Decimal(limit):
        q -= step
    return q


def reduce_position(p: DeskParams, sym: str, side: Side, pos: Position, market: MarketSnapshot,
                    trail: list[Adjustment], now: datetime,
                    caution: tuple[ReasonCode, ...], reduce_qty: Decimal | None,
                    equity: float) -> Decision:
    """Size an order that reduces ``pos``: the whole position, or ``reduce_qty`` of it.

    Parameters
    ----------
    p
        Desk parameters.
    sym, side
        Symbol and the order's side (opposite to the position's).
    pos
        The position reduced.
    market
        The market snapshot.
    trail
        The trail so far; entries are appended.
    now
        Decision time.
    caution
        Reasons the order passes with CAUTION (stale state, a halted or reducing desk).
    reduce_qty
        A partial quantity, or ``None`` to close.
    equity
        Account equity, for ``risk_pct``.

    Returns
    -------
    Decision
        ENTER, or CAUTION with ``caution`` as reasons; never REJECT.
    """
    lp = p.lp
    rules = market.rules
    price = market.price
    cs = rules.contract_size
    unit = float(price) * float(cs)
    step = rules.step
    add = trail.append
    q = pos.quantity if reduce_qty is None or reduce_qty > pos.quantity else reduce_qty
    binding: ReasonCode | None = None
    if float(q) * unit > lp.reducer_cap:
        capped = _cap_qty(lp.reducer_cap, unit, price, cs, step)
        add(Adjustment("cap", ReasonCode.CAP_ORDER_NOTIONAL, float(q) * unit,
                       float(capped * price * cs), f"reducer notional cap {lp.reducer_cap:,.2f}"))
        q, binding = capped, ReasonCode.CAP_ORDER_NOTIONAL
    if rules.max_qty is not None and q > rules.max_qty:
        capped = quantize_to_step(rules.max_qty, step, Rounding.DOWN)
        add(Adjustment("cap", ReasonCode.CAP_MARKET_MAX_QTY, float(q) * unit,
                       float(capped) * unit, f"market max_qty {rules.max_qty}"))
        q, binding = capped, ReasonCode.CAP_MARKET_MAX_QTY
    remainder = pos.quantity - q
    if (reduce_qty is not None and lp.allow_dust_close and remainder > 0
            and float(remainder) * unit < lp.min_reduce_notional and binding is None):
        full = float(pos.quantity) * unit
        if full <= lp.reducer_cap and (rules.max_qty is None or pos.quantity <= rules.max_qty):
            add(Adjustment("reduce", ReasonCode.DUST_CLOSE, float(q) * unit, full,
                           f"the {remainder} left would be below the minimum "
                           f"{lp.min_reduce_notional:,.2f}: closing the whole position"))
            q = pos.quantity
    if q <= 0:
        # The reducer cap is smaller than one step: a close is never blocked, so the smallest
        # order the market takes goes out.
        q = step if step < pos.quantity else pos.quantity
        add(Adjustment("cap", ReasonCode.CAP_ORDER_NOTIONAL, 0.0, float(q) * unit,
                       f"reducer cap {lp.reducer_cap:,.2f} is below one step ({step}); "
                       "one step is sent"))
    notional = q * price * cs
    n_f = float(notional)
    closes = q == pos.quantity
    if n_f < lp.min_reduce_notional or notional < rules.min_notional or q < rules.min_qty:
        add(Adjustment("reduce", ReasonCode.DUST_CLOSE, n_f, n_f,
                       f"{n_f:,.2f} is below the minimum notional; a risk-reducing order "
                       "passes anyway" + (" (closes the position)" if closes else "")))
    add(Adjustment("quantize", ReasonCode.QUANTIZE, n_f, n_f,
                   f"{'close' if closes else 'reduce'} {q} of {pos.quantity} {pos.side.value}"))
    method = ExecutionMethod.LIMIT
    short = side is Side.SHORT
    levels = market.bids if short else market.asks
    other = market.asks if short else market.bids
    if p.liquidity_enabled and (levels or other):
        try:
            method = liquidity_advice(n_f, float(price), levels, p.cfg.liquidity,
                                      contract_size=float(cs), one_sided=not levels,
                                      field="market.bids" if short else "market.asks"
                                      ).execution_method
        except InvalidInputError as exc:
            # The book only picks how a close is sent: one out of order must not block it.
            add(Adjustment("execution", ReasonCode.LIQUIDITY_IMPACT, n_f, n_f,
                           f"order book unusable ({exc.field}): execution method not "
                           "estimated"))
    action = Action.CAUTION if caution else Action.ENTER
    return Decision(action, sym, side, Intent.REDUCE, q, price, notional, pos.leverage, ZERO,
                    method, binding, tuple(trail), caution, n_f / equity, (), now)
