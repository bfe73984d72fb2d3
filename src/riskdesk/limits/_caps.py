"""Caps on an opening order's notional: each a limit in quote currency; the smallest binds."""

from __future__ import annotations

from riskdesk.domain import ReasonCode
from riskdesk.limits._exposure import Exposure
from riskdesk.limits._params import LimitParams

Cap = tuple[ReasonCode, float, str]

_INF = float("inf")

#: The denial reported when a cap leaves no room at all.
EXHAUSTED = {
    ReasonCode.CAP_SYMBOL: ReasonCode.SYMBOL_CAP_REACHED,
    ReasonCode.CAP_POSITION_SIZE: ReasonCode.SYMBOL_CAP_REACHED,
    ReasonCode.CAP_MAX_POSITION_DOLLAR: ReasonCode.SYMBOL_CAP_REACHED,
    ReasonCode.CAP_TOTAL_EXPOSURE: ReasonCode.EXPOSURE_LIMIT,
    ReasonCode.CAP_GROSS_EXPOSURE: ReasonCode.EXPOSURE_LIMIT,
    ReasonCode.CAP_BUYING_POWER: ReasonCode.INSUFFICIENT_BUYING_POWER,
    ReasonCode.CAP_TIER_BUDGET: ReasonCode.CAP_TIER_BUDGET,
    ReasonCode.CAP_ORDER_NOTIONAL: ReasonCode.CAP_ORDER_NOTIONAL,
    ReasonCode.CAP_MAX_TRADE_SIZE: ReasonCode.CAP_MAX_TRADE_SIZE,
    ReasonCode.CAP_MARKET_MAX_QTY: ReasonCode.CAP_MARKET_MAX_QTY,
}


def opener_caps(sign: int, symbol: str, leverage: float, ex: Exposure, lp: LimitParams, *,
                tier_margin_room: float | None = None, phase_margin_room: float | None = None,
                max_qty_notional: float | None = None) -> list[Cap]:
    """Every cap on an opening order, in the order the desk applies them.

    Per-symbol caps count the position already held in the order's direction; the total
    exposure cap counts net exposure in the order's direction and the gross cap the sum of
    absolute exposures; the buying-power cap is ``min(available x leverage, buying_power) x
    buying_power_safety``.

    Parameters
    ----------
    sign
        +1 for a long order, -1 for a short one.
    symbol
        Instrument.
    leverage
        Leverage the order will use, >= 1.
    ex
        The account's exposure.
    lp
        The configuration's limits.
    tier_margin_room
        Margin left in the symbol's capital tier, or ``None`` when tiers are off.
    phase_margin_room
        Margin left under the account phase's buying-power usage, or ``None``.
    max_qty_notional
        The market's largest order, as notional, or ``None``.

    Returns
    -------
    list of (ReasonCode, float, str)
        ``(code, limit, what the limit is)`` per cap.
    """
    eq = ex.equity
    held = ex.by_symbol.get(symbol, 0.0) * sign
    if held < 0.0:
        held = 0.0
    margin_power = ex.available * leverage
    power = margin_power if margin_power < ex.buying_power else ex.buying_power
    caps: list[Cap] = [
        (ReasonCode.CAP_ORDER_NOTIONAL, lp.order_cap, "per-order notional cap"),
        (ReasonCode.CAP_MAX_TRADE_SIZE, lp.max_trade_size, "max_trade_size"),
        (ReasonCode.CAP_SYMBOL, lp.max_pos_pct * eq - held,
         "max_pos_pct of equity less the position held"),
        (ReasonCode.CAP_POSITION_SIZE, lp.max_position_size * eq - held,
         "max_position_size of equity less the position held"),
        (ReasonCode.CAP_TOTAL_EXPOSURE, lp.max_total_exposure * eq - sign * ex.net,
         "max_total_exposure x equity less net exposure in this direction"),
        (ReasonCode.CAP_GROSS_EXPOSURE, lp.max_gross_exposure * eq - ex.gross,
         "max_gross_exposure x equity less gross exposure"),
        (ReasonCode.CAP_BUYING_POWER, power * lp.buying_power_safety,
         "min(available x leverage, buying power) x buying_power_safety"),
    ]
    if lp.max_position_dollar != _INF:
        caps.append((ReasonCode.CAP_MAX_POSITION_DOLLAR, lp.max_position_dollar - held,
                     "max_position_dollar less the position held"))
    if tier_margin_room is not None:
        caps.append((ReasonCode.CAP_TIER_BUDGET, tier_margin_room * leverage,
                     "capital tier margin left x leverage"))
    if phase_margin_room is not None:
        caps.append((ReasonCode.CAP_BUYING_POWER, phase_margin_room * leverage,
                     "account phase max_bp_usage margin left x leverage"))
    if max_qty_notional is not None:
        caps.append((ReasonCode.CAP_MARKET_MAX_QTY, max_qty_notional, "market max_qty"))
    return caps
