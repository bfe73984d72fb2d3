"""The take-profit ladder: partial rungs in R and the final target."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from riskdesk.config import Exits
from riskdesk.domain import MarketRules, Rounding, Side, to_decimal
from riskdesk.exits._prices import excursion, offset, to_tick

_ZERO = Decimal(0)
# Fractions come from float config values; a ladder whose fractions sum to 1 within this
# tolerance closes what remains on its last rung instead of leaving rounding dust.
_FULL = Decimal("0.999999999")


@dataclass(frozen=True, slots=True)
class TargetLevel:
    """One take-profit level.

    Parameters
    ----------
    price
        The level on the tick grid.
    fraction
        Share of the quantity held (entry plus adds) this level takes off; ``None`` for a
        final level.
    quantity
        What the level takes off the planned quantity (step-rounded down; the engine
        recomputes it from the quantity held when it fires).
    final
        The level closes whatever remains.
    r_multiple
        Distance from the entry in R, ``None`` for a percent target.
    """

    price: Decimal
    fraction: Decimal | None
    quantity: Decimal
    final: bool
    r_multiple: Decimal | None = None


def rung_quantity(fraction: Decimal, held: Decimal, price: Decimal,
                  rules: MarketRules) -> Decimal:
    """``fraction x held`` rounded down to the step (zero below the market's minimums)."""
    return rules.quantize_qty(fraction * held, Rounding.DOWN, price=price)


def leaves_dust(remaining: Decimal, price: Decimal, rules: MarketRules) -> bool:
    """True when ``remaining`` is open but below the market's minimum quantity or notional.

    Such a remainder could not be closed by an order of its own, so the rung that would
    leave it closes the whole position instead.
    """
    return remaining > _ZERO and (remaining < rules.min_qty
                                  or rules.notional(remaining, price) < rules.min_notional)


def build_ladder(config: Exits, side: Side, entry: Decimal, quantity: Decimal,
                 risk_per_unit: Decimal | None, final_target: Decimal | None,
                 rules: MarketRules) -> tuple[TargetLevel, ...]:
    """The ladder, nearest level first.

    Rungs come from ``config.partials`` (``entry + r x R``, rounded away from the entry); the
    final target closes the rest. A rung whose running fraction reaches 1 is final itself.
    Levels beyond the first final level can never fire and are left out.

    Parameters
    ----------
    config
        The ``exits`` settings.
    side, entry, quantity
        The position.
    risk_per_unit
        The R unit; required when there are rungs (the caller checks).
    final_target
        The final take-profit price, or ``None``.
    rules
        The market, for the tick and the step.

    Returns
    -------
    tuple of TargetLevel
        Quantities of the non-final levels sum to at most ``quantity``. A rung that would
        leave less than the market's minimum quantity or notional (at its price) is final.
    """
    levels: list[TargetLevel] = []
    running = _ZERO
    for i, rung in enumerate(config.partials):
        assert risk_per_unit is not None
        r = to_decimal(rung.r_multiple, f"exits.partials[{i}].r_multiple")
        frac = to_decimal(rung.fraction, f"exits.partials[{i}].fraction")
        running += frac
        price = to_tick(offset(side, entry, r * risk_per_unit), side, rules,
                        f"exits.partials[{i}]")
        final = running >= _FULL
        qty = quantity if final else rung_quantity(frac, quantity, price, rules)
        levels.append(TargetLevel(price, None if final else frac, qty, final, r))
    if final_target is not None:
        r_final = None
        if config.take_profit_mode == "r" and config.take_profit_r is not None:
            r_final = to_decimal(config.take_profit_r, "exits.take_profit_r")
        levels.append(TargetLevel(final_target, None, quantity, True, r_final))
    # stable sort: on a tie the rung stays before the final target
    levels.sort(key=lambda lv: excursion(side, lv.price, entry))
    out: list[TargetLevel] = []
    taken = _ZERO
    for lv in levels:
        if lv.final or (lv.quantity > _ZERO
                        and leaves_dust(quantity - taken - lv.quantity, lv.price, rules)):
            out.append(TargetLevel(lv.price, None, quantity - taken, True, lv.r_multiple))
            break
        out.append(lv)
        taken += lv.quantity
    return tuple(out)
