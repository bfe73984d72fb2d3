"""Step 4 of the pipeline, the base size by the configured method, and Kelly's adjustments."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from riskdesk.config import AccountTier
from riskdesk.domain import (
    Adjustment,
    Decision,
    Intent,
    MarketSnapshot,
    ReasonCode,
    Signal,
)
from riskdesk.errors import InvalidInputError
from riskdesk.limits import Exposure
from riskdesk.sizing import (
    atr_stop_price,
    conviction_notional,
    dd_haircut_factor,
    fixed_fraction_notional,
    kelly_adjustments,
    kelly_binary,
    stop_distance_qty,
    volatility_target_notional,
)

from ._build import reject_at

if TYPE_CHECKING:
    from ._params import DeskParams

Base = tuple[float, ReasonCode | None, float | None, float | None]


def account_base(p: DeskParams, eq: float, prof: tuple[str, AccountTier] | None
                 ) -> tuple[float, ReasonCode, str] | None:
    """The base notional of a method that reads only the account, with its code and note.

    ``fixed_fraction`` and ``account_profile`` size from equity alone, so the desk works
    them out once per account state. ``None`` for the other methods, and for
    ``account_profile`` below every tier.
    """
    method = p.method
    if method == "fixed_fraction":
        return (fixed_fraction_notional(eq, p.risk_per_trade), ReasonCode.BASE_SIZE,
                f"{p.risk_per_trade:.2%} of equity {eq:,.2f}")
    if method == "account_profile" and prof is not None:
        name, tier = prof
        return (fixed_fraction_notional(eq, tier.risk_pct), ReasonCode.ACCOUNT_PROFILE,
                f"{name} account: {tier.risk_pct:.2%} of equity {eq:,.2f}")
    return None


def base_size(p: DeskParams, signal: Signal, market: MarketSnapshot, ex: Exposure,
              prof: tuple[str, AccountTier] | None, leverage: float,
              trail: list[Adjustment], now: datetime) -> Base | Decision:
    """The base notional of an opening order, or a REJECT when the method lacks an input.

    Returns
    -------
    tuple of (float, ReasonCode or None, float or None, float or None) or Decision
        ``(notional, cap that bound inside the method, Kelly fraction, derived stop)`` or the
        rejection. The derived stop is the ATR stop ``stop_risk`` sized from when the signal
        has no stop of its own (``None`` otherwise: a signal's stop is the signal's).
    """
    eq = ex.equity
    method = p.method
    add = trail.append
    sym, side, price = signal.symbol, signal.side, market.price

    def reject(code: ReasonCode, note: str) -> Decision:
        return reject_at("base_size", code, note, sym, side, Intent.OPEN, price, trail, now)
    if method == "fixed_fraction" or method == "account_profile":
        fixed = account_base(p, eq, prof)
        assert fixed is not None
        size, code, note = fixed
        add(Adjustment("base_size", code, 0.0, size, note))
        return size, None, None, None
    if method == "conviction":
        if signal.score is None:
            return reject(ReasonCode.SCORE_INVALID, "conviction sizing needs an entry score")
        cs = conviction_notional(eq, signal.score, p.cfg.conviction)
        add(Adjustment("base_size", ReasonCode.CONVICTION, 0.0, cs.intended,
                       f"score {signal.score:g}: {cs.tier} conviction {cs.pct:.2%} of equity "
                       f"{eq:,.2f}"))
        if cs.cap_bound:
            add(Adjustment("cap", ReasonCode.CAP_MAX_POSITION_DOLLAR, cs.intended, cs.capped,
                           f"conviction max_position_dollar: {cs.cap:,.2f}"))
            return cs.capped, ReasonCode.CAP_MAX_POSITION_DOLLAR, None, None
        return cs.capped, None, None, None
    if method == "capital_scaling":
        w = signal.strength
        if w is None:
            return reject(ReasonCode.SIGNAL_BELOW_THRESHOLD,
                          "capital scaling needs a target weight (signal.strength)")
        size = abs(w) * eq * p.capital_utilization_factor
        add(Adjustment("base_size", ReasonCode.CAPITAL_UTILIZATION, 0.0, size,
                       f"|weight| {abs(w):g} x equity {eq:,.2f} x factor "
                       f"{p.capital_utilization_factor:g}"))
        return size, None, None, None
    if method == "kelly":
        wr, wlr = signal.win_rate, signal.win_loss_ratio
        if wr is None or wlr is None:
            return reject(ReasonCode.STATE_MISSING,
                          "Kelly sizing needs the signal's win_rate and win_loss_ratio")
        f = kelly_binary(wr, wlr, risk_aversion=p.kelly_risk_aversion, clip=p.kelly_clip)
        if f <= 0.0:
            return reject(ReasonCode.NO_EDGE,
                          f"no edge: win rate {wr:g}, win/loss {wlr:g} gives Kelly 0")
        fk = f * p.kelly_fraction
        size = fk * eq * leverage
        add(Adjustment("base_size", ReasonCode.KELLY, 0.0, size,
                       f"Kelly {f:.4g} x {p.kelly_fraction:g} = {fk:.4g} of equity "
                       f"{eq:,.2f} as margin at {leverage:g}x"))
        return size, None, fk, None
    if method == "stop_risk":
        price_f = float(price)
        derived: float | None = None
        if signal.stop_price is not None:
            stop = float(signal.stop_price)
            how = "signal stop"
        elif market.atr is not None and market.atr > 0:
            stop = derived = atr_stop_price(price_f, float(market.atr), p.atr_stop_multiple,
                                            side)
            how = f"{p.atr_stop_multiple:g} ATR stop"
        else:
            return reject(ReasonCode.STATE_MISSING,
                          "stop-risk sizing needs a stop price or the market's ATR")
        check_stop_side(stop, price_f, signal)
        risk = eq * p.risk_per_trade
        csize = float(market.rules.contract_size)
        size = stop_distance_qty(risk, price_f, stop, csize) * price_f * csize
        add(Adjustment("base_size", ReasonCode.STOP_RISK, 0.0, size,
                       f"risk {risk:,.2f} ({p.risk_per_trade:.2%}) over {how} at {stop:g}"))
        return size, None, None, derived
    # volatility_target
    vol = market.volatility if market.volatility is not None else market.atr_pct
    if not vol:
        return reject(ReasonCode.STATE_MISSING,
                      "volatility targeting needs the market's volatility or ATR")
    if not eq * p.target_volatility / vol < math.inf:
        # So small a volatility that the notional leaves the floats: bad input, not a size
        # for the caps to cut (nor a NaN under a zero risk-parity weight).
        field, value = ("market.volatility", market.volatility) \
            if market.volatility is not None else ("market.atr", market.atr)
        raise InvalidInputError(field, value, "a volatility for which equity x "
                                "target_volatility / volatility is a finite notional")
    size = volatility_target_notional(eq, p.target_volatility, vol)
    add(Adjustment("base_size", ReasonCode.VOLATILITY_TARGET, 0.0, size,
                   f"equity {eq:,.2f} x target {p.target_volatility:.2%} / volatility "
                   f"{vol:.2%}"))
    return size, None, None, None


def kelly_adjust(p: DeskParams, signal: Signal, ex: Exposure,
                 prof: tuple[str, AccountTier] | None, size: float,
                 trail: list[Adjustment]) -> tuple[float, bool]:
    """Seed 001's account-size, regime and heat multipliers and seed 002's DD haircut.

    Portfolio heat is margin used over equity on the 0-100 scale.

    Returns
    -------
    tuple of (float, bool)
        The adjusted size and whether any multiplier differed from 1.
    """
    changed = False
    for code, mult, note in kelly_adjustments(
            account_tier=None if prof is None else prof[0], regime=signal.regime,
            portfolio_heat=ex.margin_used_pct * 100.0, cfg=p.cfg.kelly):
        before = size
        size *= mult
        trail.append(Adjustment("adjust", code, before, size, note))
        changed = changed or mult != 1.0
    start, full, floor = p.dd_haircut
    h = dd_haircut_factor(ex.drawdown, start=start, full=full, floor=floor)
    before = size
    size *= h
    trail.append(Adjustment("adjust", ReasonCode.DD_HAIRCUT, before, size,
                            f"drawdown {ex.drawdown:.2%}: Kelly haircut x{h:.4g}"))
    return size, changed or h != 1.0


def check_stop_side(stop: float, price: float, signal: Signal) -> None:
    """Refuse an opener's stop that is not on its losing side of ``price``."""
    if (stop >= price) if signal.side.sign > 0 else (stop <= price):
        raise InvalidInputError("signal.stop_price", signal.stop_price,
                                f"a stop on the losing side of {price:g} for a "
                                f"{signal.side.value}")
