"""Pre-trade gates: each a small pure function that passes (``None``) or denies with a reason.

Gates are for orders that open or add risk. The desk never puts a risk-reducing order through
them. Caps that resize rather than deny live in :mod:`riskdesk.limits._caps`.
"""

from __future__ import annotations

from typing import NamedTuple

from riskdesk.domain import ReasonCode


class Denial(NamedTuple):
    """Why a gate denied an order."""

    code: ReasonCode
    note: str


def restricted_symbol_gate(symbol: str, restricted: frozenset[str] | tuple[str, ...],
                           allowed: tuple[str, ...] = ()) -> Denial | None:
    """Deny a symbol on the restricted list, or one outside a non-empty ``allowed`` list."""
    if symbol in restricted:
        return Denial(ReasonCode.RESTRICTED_SYMBOL, f"{symbol} is on the restricted list")
    if allowed and symbol not in allowed:
        return Denial(ReasonCode.RESTRICTED_SYMBOL,
                      f"{symbol} is not among the account tier's symbols {list(allowed)}")
    return None


def signal_threshold_gate(strength: float | None, threshold: float) -> Denial | None:
    """Seed 000: deny when ``|strength| < threshold`` (a threshold of 0 passes anything).

    A positive threshold with no strength denies: the gate cannot be judged.
    """
    if threshold <= 0.0:
        return None
    if strength is None:
        return Denial(ReasonCode.SIGNAL_BELOW_THRESHOLD,
                      f"no signal strength to compare with the {threshold:g} threshold")
    if abs(strength) < threshold:
        return Denial(ReasonCode.SIGNAL_BELOW_THRESHOLD,
                      f"|strength| {abs(strength):g} < threshold {threshold:g}")
    return None


def score_validity_gate(score: float | None, minimum: float | None) -> Denial | None:
    """Seed 003: deny entries whose score is missing or at or below ``minimum``."""
    if minimum is None:
        return None
    if score is None:
        return Denial(ReasonCode.SCORE_INVALID, "no entry score")
    if score <= minimum:
        return Denial(ReasonCode.SCORE_INVALID, f"entry score {score:g} <= {minimum:g}")
    return None


def concentration_gate(sign: int, net_delta_pct: float, limit: float) -> Denial | None:
    """Seed 003: deny bullish entries above ``limit`` net long (and bearish above net short).

    Parameters
    ----------
    sign
        +1 for a long entry, -1 for a short one.
    net_delta_pct
        Net exposure over equity before the order.
    limit
        The largest net exposure in the entry's direction, as a fraction.
    """
    directional = sign * net_delta_pct
    if directional > limit:
        side = "long" if sign > 0 else "short"
        return Denial(ReasonCode.CONCENTRATION,
                      f"portfolio is {directional:.1%} net {side} > {limit:.0%}")
    return None


def max_positions_gate(open_count: int, limit: int, source: str,
                       code: ReasonCode = ReasonCode.MAX_POSITIONS,
                       pending: int = 0) -> Denial | None:
    """Deny a new position when ``open_count`` already reaches ``limit``.

    ``pending`` of the open ones are approved openers whose fill is not in the account yet.
    """
    if open_count >= limit:
        waiting = f" ({pending} approved, not yet filled)" if pending else ""
        return Denial(code, f"{open_count} open{waiting} >= {source} limit {limit}")
    return None


def trades_per_day_gate(trades_today: int, limit: int) -> Denial | None:
    """Seed 004: deny an opening trade once ``limit`` trades were made today."""
    if trades_today >= limit:
        return Denial(ReasonCode.TRADES_PER_DAY, f"{trades_today} trades today >= {limit}")
    return None


def price_band_gate(price: float, bid: float | None, ask: float | None,
                    band: float) -> Denial | None:
    """Seed 000's price sanity: the reference price within ``band`` of the bid/ask mid.

    Without both bid and ask the last price is its own reference and the gate passes.
    """
    if bid is None or ask is None:
        return None
    mid = (bid + ask) * 0.5
    dev = abs(price / mid - 1.0)
    if dev > band:
        return Denial(ReasonCode.PRICE_OUT_OF_BAND,
                      f"price {price:g} is {dev:.2%} from mid {mid:g} > {band:.2%}")
    return None


def spread_gate(spread_bps: float | None, max_spread_bps: float) -> Denial | None:
    """Seed 002's spread guard: deny above ``max_spread_bps``.

    With a configured limit and no quote the spread cannot be judged and the gate fails
    closed (``STATE_MISSING``).
    """
    if max_spread_bps == float("inf"):
        return None
    if spread_bps is None:
        return Denial(ReasonCode.STATE_MISSING,
                      "no bid/ask: the spread guard cannot be evaluated")
    if spread_bps > max_spread_bps:
        return Denial(ReasonCode.SPREAD_TOO_WIDE,
                      f"spread {spread_bps:.1f} bps > {max_spread_bps:g} bps")
    return None


def cvar_gate(notional: float, cvar: float, equity: float, limit_pct: float) -> Denial | None:
    """Seed 002's CVaR limit: deny when the order's tail loss exceeds ``limit_pct`` of equity.

    Parameters
    ----------
    notional
        Order value.
    cvar
        Historical CVaR of the symbol's returns as a loss fraction.
    equity
        Account equity.
    limit_pct
        Largest tail loss of one order as a fraction of equity.
    """
    loss = notional * cvar
    if loss > limit_pct * equity:
        return Denial(ReasonCode.CVAR_LIMIT,
                      f"tail loss {loss:,.2f} (CVaR {cvar:.2%}) > {limit_pct:.2%} of equity")
    return None
