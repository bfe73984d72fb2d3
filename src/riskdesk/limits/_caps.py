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


#: Every cap on an opening order, in the order the desk applies them: (code, what it is).
#: The last four apply only when configured (see :func:`opener_cap_limits`).
OPENER_CAPS: tuple[tuple[ReasonCode, str], ...] = (
    (ReasonCode.CAP_ORDER_NOTIONAL, "per-order notional cap"),
    (ReasonCode.CAP_MAX_TRADE_SIZE, "max_trade_size"),
    (ReasonCode.CAP_SYMBOL, "max_pos_pct of equity less the position held"),
    (ReasonCode.CAP_POSITION_SIZE, "max_position_size of equity less the position held"),
    (ReasonCode.CAP_TOTAL_EXPOSURE,
     "max_total_exposure x equity less net exposure in this direction"),
    (ReasonCode.CAP_GROSS_EXPOSURE, "max_gross_exposure x equity less gross exposure"),
    (ReasonCode.CAP_BUYING_POWER,
     "min(available x leverage, buying power) x buying_power_safety"),
    (ReasonCode.CAP_MAX_POSITION_DOLLAR, "max_position_dollar less the position held"),
    (ReasonCode.CAP_TIER_BUDGET, "capital tier margin left x leverage"),
    (ReasonCode.CAP_BUYING_POWER, "account phase max_bp_usage margin left x leverage"),
    (ReasonCode.CAP_MARKET_MAX_QTY, "market max_qty"),
)
_ALWAYS = 7  # the first seven caps always apply


def opener_cap_limits(sign: int, symbol: str, leverage: float, ex: Exposure, lp: LimitParams,
                      tier_margin_room: float | None = None,
                      phase_margin_room: float | None = None,
                      max_qty_notional: float | None = None) -> tuple[float, ...]:
    """The limit of every cap in :data:`OPENER_CAPS`, in order, as plain floats.

    The same arguments as :func:`opener_caps` (positional) and the same limits; a cap that
    does not apply (no ``max_position_dollar``, tiers or phases off, no ``max_qty``) is
    ``inf``, which never cuts. A caller on a hot path can test ``min(limits) >= size`` and
    walk the caps only when one cuts.

    Returns
    -------
    tuple of float
        Eleven limits in quote currency, aligned with :data:`OPENER_CAPS`.
    """
    eq = ex.equity
    held = ex.by_symbol.get(symbol, 0.0) * sign
    if held < 0.0:
        held = 0.0
    margin_power = ex.available * leverage
    power = margin_power if margin_power < ex.buying_power else ex.buying_power
    return (
        lp.order_cap,
        lp.max_trade_size,
        lp.max_pos_pct * eq - held,
        lp.max_position_size * eq - held,
        lp.max_total_exposure * eq - sign * ex.net,
        lp.max_gross_exposure * eq - ex.gross,
        power * lp.buying_power_safety,
        _INF if lp.max_position_dollar == _INF else lp.max_position_dollar - held,
        _INF if tier_margin_room is None else tier_margin_room * leverage,
        _INF if phase_margin_room is None else phase_margin_room * leverage,
        _INF if max_qty_notional is None else max_qty_notional,
    )


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
        ``(code, limit, what the limit is)`` per cap that applies.
    """
    limits = opener_cap_limits(sign, symbol, leverage, ex, lp, tier_margin_room,
                               phase_margin_room, max_qty_notional)
    applies = (lp.max_position_dollar != _INF, tier_margin_room is not None,
               phase_margin_room is not None, max_qty_notional is not None)
    return [(code, limit, label) for i, ((code, label), limit)
            in enumerate(zip(OPENER_CAPS, limits, strict=True))
            if i < _ALWAYS or applies[i - _ALWAYS]]
