"""Step 8 of the vectorized pipeline (the gates), and the row helpers it shares."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from riskdesk.domain import ReasonCode
from riskdesk.limits import max_trades_per_day_array, phase_position_limits

from ._batch_input import BatchInput
from ._params import AccountView, DeskParams

F64 = npt.NDArray[np.float64]
I16 = npt.NDArray[np.int16]
B = npt.NDArray[np.bool_]


def first_open(out: I16, mask: B, code: int) -> None:
    """Set ``code`` where ``mask`` holds and no earlier step decided."""
    np.copyto(out, np.int16(code), where=mask & (out < 0))


def isin(b: BatchInput, keys: Iterable[str]) -> B:
    """Rows whose symbol is among ``keys``."""
    k = list(keys)
    if not k:
        return np.zeros(len(b), dtype=np.bool_)
    return np.isin(b.symbol_array, np.asarray(k, dtype=b.symbol_array.dtype))


def lookup(b: BatchInput, mapping: Mapping[str, Any], default: Any,
            dtype: type[np.generic]) -> npt.NDArray[Any]:
    """``mapping.get(symbol, default)`` per row, looking up only the rows that match."""
    out = np.full(len(b), default, dtype=dtype)
    if mapping:
        hit = np.flatnonzero(isin(b, mapping))
        syms = b.symbols
        for i in hit.tolist():
            out[i] = mapping[syms[i]]
    return out


def gates(p: DeskParams, view: AccountView, b: BatchInput, reason: I16, side: F64,
           size: F64, spread: F64, quoted: B,
           tcode: Callable[[tuple[ReasonCode, ...]], int]) -> None:
    """Step 8 for the rows still going, in the scalar pipeline's order (in place)."""
    lp = p.lp
    cfg = p.cfg
    ex = view.ex
    eq = ex.equity
    prof = view.profile
    allowed = () if prof is None else prof[1].symbols
    if lp.restricted or allowed:
        bad = isin(b, lp.restricted)
        if allowed:
            bad |= ~isin(b, allowed)
        first_open(reason, bad, tcode((ReasonCode.RESTRICTED_SYMBOL,)))
    if lp.signal_threshold > 0.0:
        w = b.strength
        first_open(reason, np.isnan(w) | (np.abs(w) < lp.signal_threshold),
               tcode((ReasonCode.SIGNAL_BELOW_THRESHOLD,)))
    if lp.entry_score_min is not None:
        s = b.score
        first_open(reason, np.isnan(s) | (s <= lp.entry_score_min),
                   tcode((ReasonCode.SCORE_INVALID,)))
    first_open(reason, side * (ex.net / eq) > lp.concentration, tcode((ReasonCode.CONCENTRATION,)))
    pending = view.account.pending_symbols
    waiting = pending.difference(ex.by_symbol)
    new_symbol = ~isin(b, ex.by_symbol) & ~isin(b, waiting) if waiting else ~isin(b, ex.by_symbol)
    limit_n = lp.max_concurrent_positions
    if prof is not None and prof[1].max_positions < limit_n:
        limit_n = prof[1].max_positions
    if view.phase is not None:
        limits = np.minimum(phase_position_limits(eq, b.vix, cfg), limit_n)
    else:
        limits = np.full(len(b), limit_n)
    first_open(reason, new_symbol & (ex.count + len(waiting) >= limits),
               tcode((ReasonCode.MAX_POSITIONS,)))
    if p.phases_enabled:
        trades = max_trades_per_day_array(eq, b.vix, cfg)
        first_open(reason, view.account.trades_today >= trades, tcode((ReasonCode.TRADES_PER_DAY,)))
    with np.errstate(invalid="ignore", divide="ignore"):
        mid = (b.bid + b.ask) * 0.5
        dev = np.abs(b.price / mid - 1.0)
    first_open(reason, quoted & (dev > lp.price_band_pct), tcode((ReasonCode.PRICE_OUT_OF_BAND,)))
    if lp.max_spread_bps != math.inf:
        first_open(reason, ~quoted, tcode((ReasonCode.STATE_MISSING,)))
        first_open(reason, quoted & (spread > lp.max_spread_bps),
               tcode((ReasonCode.SPREAD_TOO_WIDE,)))
