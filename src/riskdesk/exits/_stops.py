"""Initial protective stop and final take-profit levels."""

from __future__ import annotations

from decimal import Decimal

from riskdesk.config import Exits
from riskdesk.domain import MarketRules, Side, to_decimal
from riskdesk.errors import InvalidInputError
from riskdesk.exits._prices import beyond, offset, scaled, to_tick


def initial_stop(config: Exits, side: Side, entry: Decimal, rules: MarketRules, *,
                 stop_price: Decimal | None = None, atr: Decimal | None = None
                 ) -> Decimal | None:
    """The protective stop for a fresh position, on the tick grid.

    A ``stop_price`` handed in wins; otherwise ``config.stop_mode`` picks
    ``entry x (1 - stop_pct)`` or ``entry - stop_atr_multiple x ATR`` (mirrored for a short).
    The stop rounds toward the entry (up for a long), so the risk never exceeds the budget.

    Parameters
    ----------
    config
        The ``exits`` settings.
    side, entry, rules
        The position and its market.
    stop_price
        An explicit stop (from the signal or the position), optional.
    atr
        Average true range in price units; required for ``stop_mode: atr``.

    Returns
    -------
    Decimal or None
        The stop, or ``None`` when stops are off and none was handed in.

    Raises
    ------
    InvalidInputError
        When the ATR is missing, or the stop is not at least one tick on the loss side of the
        entry after rounding.
    """
    if stop_price is not None:
        field = "stop_price"
        raw = to_decimal(stop_price, field, allow_zero=False)
    elif not config.stop_enabled:
        return None
    elif config.stop_mode == "atr":
        field = "atr"
        if atr is None:
            raise InvalidInputError("atr", None, "an ATR: exits.stop_mode is 'atr'")
        k = to_decimal(config.stop_atr_multiple, "exits.stop_atr_multiple")
        raw = offset(side, entry, -k * to_decimal(atr, "atr"))
    else:
        field = "exits.stop_pct"
        raw = scaled(side, entry, -to_decimal(config.stop_pct, field))
    if raw <= 0:
        raise InvalidInputError(field, raw, "a stop distance smaller than the entry price")
    stop = to_tick(raw, side, rules, field)
    if not beyond(side, entry, stop):
        where = "below" if side is Side.LONG else "above"
        raise InvalidInputError(field, raw, f"a stop {where} the entry {entry} after rounding "
                                            f"to the tick {rules.tick} (got {stop})")
    return stop


def take_profit(config: Exits, side: Side, entry: Decimal, risk_per_unit: Decimal | None,
                rules: MarketRules) -> Decimal | None:
    """The final target, on the tick grid, or ``None`` when targets are off.

    ``percent`` mode is seed 002's rule: a long's target is ``entry x (1 + take_profit_pct)``,
    a short's ``entry x (1 - take_profit_pct)``. ``r`` mode is ``entry + take_profit_r x R``.
    The target rounds away from the entry (up for a long): the reward is never less than asked,
    and for prices on the tick grid ``price >= target`` holds exactly when the seed's
    ``price >= entry x (1 + tp_pct)`` does.

    Raises
    ------
    InvalidInputError
        When ``r`` mode has no stop distance to measure from.
    """
    if not config.take_profit_enabled:
        return None
    if config.take_profit_mode == "percent":
        field = "exits.take_profit_pct"
        raw = scaled(side, entry, to_decimal(config.take_profit_pct, field))
    else:
        field = "exits.take_profit_r"
        if risk_per_unit is None:
            raise InvalidInputError("stop_price", None, "a stop: exits.take_profit_mode 'r' "
                                    "measures the target in multiples of the stop distance")
        raw = offset(side, entry, to_decimal(config.take_profit_r, field) * risk_per_unit)
    if raw <= 0:
        raise InvalidInputError(field, raw, "a target above zero")
    return to_tick(raw, side, rules, field)
