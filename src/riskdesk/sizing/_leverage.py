"""Seed 001's adaptive leverage optimizer."""

from __future__ import annotations

from dataclasses import dataclass

from riskdesk.config import Leverage
from riskdesk.sizing._checks import INF, bad


@dataclass(frozen=True, slots=True)
class LeverageAdvice:
    """The leverage the optimizer recommends and how it got there.

    Parameters
    ----------
    leverage
        The recommendation after every clamp.
    raw
        The product of the factors before clamping.
    factors
        ``(name, value)`` pairs in the order applied: ``base``, ``volatility``, ``spread``,
        ``liquidity``, ``win_rate``, ``regime``, ``account_size`` (or ``fixed``).
    note
        What was clamped or missing, in words.
    """

    leverage: float
    raw: float
    factors: tuple[tuple[str, float], ...]
    note: str = ""


def _clamp(raw: float, cfg: Leverage, min_leverage: float | None,
           max_leverage: float | None) -> tuple[float, str]:
    # NaN (0 x inf from absurd inputs) falls to the floor: never more leverage than allowed.
    lev = raw if raw == raw else 0.0
    note = ""
    if lev < cfg.min_leverage:
        lev = cfg.min_leverage
        note = f"raised to configured minimum {lev:g}x"
    elif lev > cfg.max_leverage:
        lev = cfg.max_leverage
        note = f"lowered to configured maximum {lev:g}x"
    if min_leverage is not None and lev < min_leverage:
        lev = min_leverage
        note = _then(note, f"raised to the range minimum {lev:g}x")
    if max_leverage is not None and lev > max_leverage:
        lev = max_leverage
        note = _then(note, f"lowered to the range maximum {lev:g}x")
    return lev, note


def _then(note: str, more: str) -> str:
    return f"{note}; {more}" if note else more


def optimal_leverage(*, atr_pct: float | None, spread_bps: float | None, depth: float | None,
                     equity: float, win_rate: float | None, regime: str | None,
                     cfg: Leverage, min_leverage: float | None = None,
                     max_leverage: float | None = None) -> LeverageAdvice:
    """Seed 001's leverage for one symbol, from volatility, liquidity, record and account size.

    ``raw = base x (reference_atr_pct / atr_pct) x min(1, reference_spread_bps / spread_bps)
    x min(1, depth / reference_depth) x (win_rate / reference_win_rate)
    x regime_multipliers[regime] x (reference_equity / equity) ** account_size_exponent``,
    clamped to the configured ``[min_leverage, max_leverage]``, then to the caller's range
    (account tier, capital tier, market maximum; the maximum wins a conflict).

    Spread and depth only ever lower leverage. A missing spread, depth, win rate or regime
    contributes 1 (the desk's spread gate and liquidity step judge missing book data). A
    missing volatility cannot be judged at all, so the result is the lowest leverage the
    ranges allow. With ``cfg.fixed`` set, that value is returned, lowered to ``max_leverage``
    when given; with ``cfg.enabled`` false, ``cfg.base`` is, clamped like a computed value.

    Parameters
    ----------
    atr_pct
        ATR as a fraction of price (0.02 = 2%), > 0, or ``None``.
    spread_bps
        Quoted spread in basis points, >= 0, or ``None``.
    depth
        Visible book depth in quote currency near the touch, >= 0, or ``None``.
    equity
        Account equity, > 0.
    win_rate
        Recent hit rate in [0, 1], or ``None``.
    regime
        Market regime name (any case), or ``None``.
    cfg
        The ``leverage`` configuration section.
    min_leverage, max_leverage
        Optional outer range, each >= 1, ``min_leverage <= max_leverage``.

    Returns
    -------
    LeverageAdvice
        The leverage, the raw product and each factor. Never increases with ``atr_pct``.

    Raises
    ------
    InvalidInputError
        Naming the argument out of range.

    Examples
    --------
    Seed 001: BTC with a 2% ATR, good liquidity, a $5,000 account -> 10x.

    >>> from riskdesk.config import Leverage
    >>> optimal_leverage(atr_pct=0.02, spread_bps=1.0, depth=5e6, equity=5000,
    ...                  win_rate=0.5, regime="NEUTRAL", cfg=Leverage()).leverage
    10.0
    """
    lev, raw, note, factors = leverage_parts(atr_pct, spread_bps, depth, equity, win_rate,
                                             regime, cfg, min_leverage, max_leverage)
    return LeverageAdvice(lev, raw, factors, note)


def leverage_parts(atr_pct: float | None, spread_bps: float | None, depth: float | None,
                   equity: float, win_rate: float | None, regime: str | None, cfg: Leverage,
                   min_leverage: float | None = None, max_leverage: float | None = None,
                   factors: bool = True
                   ) -> tuple[float, float, str, tuple[tuple[str, float], ...]]:
    """:func:`optimal_leverage` as a plain tuple, for callers on a hot path.

    Same arguments (positional), same checks and the same figures, without building a
    :class:`LeverageAdvice`; with ``factors=False`` the factor list comes back empty.

    Returns
    -------
    tuple of (float, float, str, tuple)
        ``(leverage, raw, note, factors)`` as in :class:`LeverageAdvice`.
    """
    if not 0.0 < equity < INF:
        bad("equity", equity, "a finite number > 0")
    if min_leverage is not None and not 1.0 <= min_leverage < INF:
        bad("min_leverage", min_leverage, "a finite number >= 1")
    if max_leverage is not None:
        if not 1.0 <= max_leverage < INF:
            bad("max_leverage", max_leverage, "a finite number >= 1")
        if min_leverage is not None and min_leverage > max_leverage:
            bad("min_leverage", min_leverage, f"<= max_leverage ({max_leverage})")

    if cfg.fixed is not None:
        lev = cfg.fixed
        note = "fixed leverage"
        if max_leverage is not None and lev > max_leverage:
            lev = max_leverage
            note = f"fixed leverage lowered to the range maximum {lev:g}x"
        return lev, cfg.fixed, note, (("fixed", cfg.fixed),) if factors else ()
    if not cfg.enabled:
        lev, note = _clamp(cfg.base, cfg, min_leverage, max_leverage)
        return (lev, cfg.base, "adaptive leverage disabled" + (f"; {note}" if note else ""),
                (("base", cfg.base),) if factors else ())

    if atr_pct is None:
        floor, note = _clamp(cfg.min_leverage, cfg, min_leverage, max_leverage)
        return (floor, cfg.min_leverage,
                "volatility unknown: lowest allowed leverage" + (f"; {note}" if note else ""),
                (("base", cfg.base),) if factors else ())
    if not 0.0 < atr_pct < INF:
        bad("atr_pct", atr_pct, "a finite fraction > 0")
    vol = cfg.reference_atr_pct / atr_pct

    if spread_bps is None:
        spread = 1.0
    elif not 0.0 <= spread_bps < INF:
        bad("spread_bps", spread_bps, "a finite number >= 0")
    else:
        spread = 1.0 if spread_bps <= cfg.reference_spread_bps \
            else cfg.reference_spread_bps / spread_bps

    if depth is None:
        liquidity = 1.0
    elif not 0.0 <= depth < INF:
        bad("depth", depth, "a finite number >= 0")
    else:
        liquidity = 1.0 if depth >= cfg.reference_depth else depth / cfg.reference_depth

    if win_rate is None:
        record = 1.0
    elif not 0.0 <= win_rate <= 1.0:
        bad("win_rate", win_rate, "a fraction in [0, 1]")
    else:
        record = win_rate / cfg.reference_win_rate

    reg = 1.0 if regime is None else cfg.regime_multipliers.get(regime.upper(), 1.0)
    account = (cfg.reference_equity / equity) ** cfg.account_size_exponent

    raw = cfg.base * vol * spread * liquidity * record * reg * account
    if (cfg.min_leverage <= raw <= cfg.max_leverage
            and (min_leverage is None or raw >= min_leverage)
            and (max_leverage is None or raw <= max_leverage)):
        lev, note = raw, ""  # inside every range: _clamp would change nothing
    else:
        lev, note = _clamp(raw, cfg, min_leverage, max_leverage)
    if not factors:
        return lev, raw, note, ()
    return lev, raw, note, (("base", cfg.base), ("volatility", vol), ("spread", spread),
                            ("liquidity", liquidity), ("win_rate", record), ("regime", reg),
                            ("account_size", account))
