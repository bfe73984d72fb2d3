"""Seed 001's margin monitor: four zones by margin used, and what to do in each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from riskdesk.config import MarginZones
from riskdesk.domain import AccountState, MarketRules, Position, Rounding, quantize_to_step
from riskdesk.limits._ladder import ladder_zone


class MarginZone(StrEnum):
    """Margin zones, from normal operation to emergency."""

    GREEN = "GREEN"
    YELLOW = "YELLOW"
    ORANGE = "ORANGE"
    RED = "RED"


# The zones above GREEN, highest first, as the ladder reads them.
_ZONES = (MarginZone.RED, MarginZone.ORANGE, MarginZone.YELLOW)


@dataclass(frozen=True, slots=True)
class MarginAction:
    """One thing to do about one position to bring margin use down.

    Parameters
    ----------
    symbol
        The position's symbol.
    action
        ``"REDUCE"`` (sell part of it) or ``"CLOSE"`` (all of it).
    quantity
        Quantity to take off, > 0.
    note
        Why, with the figures.
    """

    symbol: str
    action: str
    quantity: Decimal
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the quantity becomes a string so no digit is lost."""
        return {"symbol": self.symbol, "action": self.action, "quantity": str(self.quantity),
                "note": self.note}


@dataclass(frozen=True, slots=True)
class MarginStatus:
    """Where margin use stands and what the monitor asks for.

    Parameters
    ----------
    zone
        GREEN, YELLOW, ORANGE or RED.
    margin_used_pct
        Margin used as a fraction of equity (0.16 = 16%).
    free_margin_pct
        ``1 - margin_used_pct``, at least 0.
    entries_allowed
        True only in GREEN: YELLOW pauses new entries, ORANGE and RED ask to reduce.
    actions
        Concrete reductions: in ORANGE every position reduced by ``orange_reduce_pct``; in RED
        the worst positions closed until margin use is back at ``red_target``.
    """

    zone: MarginZone
    margin_used_pct: float
    free_margin_pct: float
    entries_allowed: bool
    actions: tuple[MarginAction, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"zone": self.zone.value, "margin_used_pct": self.margin_used_pct,
                "free_margin_pct": self.free_margin_pct,
                "entries_allowed": self.entries_allowed,
                "actions": [a.to_dict() for a in self.actions]}


def margin_zone(margin_used_pct: float, cfg: MarginZones) -> MarginZone:
    """The zone of a margin use.

    Parameters
    ----------
    margin_used_pct
        Margin used as a fraction of equity, finite and >= 0.
    cfg
        The ``margin_zones`` section: GREEN below ``yellow``, YELLOW from ``yellow``, ORANGE
        from ``orange``, RED from ``red`` (each lower bound included).

    Returns
    -------
    MarginZone
        The zone.

    Raises
    ------
    InvalidInputError
        If ``margin_used_pct`` is negative or not finite.
    """
    return ladder_zone(margin_used_pct, (cfg.red, cfg.orange, cfg.yellow), _ZONES,
                       MarginZone.GREEN, field="margin_used_pct")


def worst_first(positions: tuple[Position, ...]) -> list[Position]:
    """Positions ordered for emergency closing: the largest loss relative to notional first.

    Ties keep the account's order. Used by the RED zone; the opportunity-cost analysis ranks
    by signal score instead.
    """
    def key(p: Position) -> float:
        return float(p.unrealized_pnl / p.notional)

    return sorted(positions, key=key)


def _reduce_qty(p: Position, fraction: float, rules: MarketRules | None) -> Decimal:
    raw = p.quantity * Decimal(repr(fraction))
    if rules is None:
        return raw
    # Round up onto the step: a requested reduction is a floor, never more than the position.
    q = quantize_to_step(raw, rules.step, Rounding.UP)
    return min(q, p.quantity)


def margin_status(account: AccountState, cfg: MarginZones, *,
                  rules: Mapping[str, MarketRules] | None = None) -> MarginStatus:
    """Seed 001's margin monitor for an account.

    Parameters
    ----------
    account
        The account; margin use is ``account.margin_used / account.equity``.
    cfg
        The ``margin_zones`` section.
    rules
        Optional market rules by symbol; when given, reduction quantities are rounded up onto
        each market's step (never beyond the position). Without them they are exact.

    Returns
    -------
    MarginStatus
        Zone, fractions, whether entries are allowed, and the concrete actions.

    Examples
    --------
    >>> from riskdesk.config import MarginZones
    >>> from riskdesk.domain import AccountState
    >>> margin_status(AccountState(equity=5000, available=4200, margin_used=800),
    ...               MarginZones()).zone.value
    'GREEN'
    """
    used = account.margin_used_pct
    zone = margin_zone(used, cfg)
    free = max(0.0, 1.0 - used)
    actions: list[MarginAction] = []
    if zone is MarginZone.ORANGE:
        pct = cfg.orange_reduce_pct
        for p in account.positions:
            r = None if rules is None else rules.get(p.symbol)
            q = _reduce_qty(p, pct, r)
            if q > 0:
                actions.append(MarginAction(
                    p.symbol, "REDUCE", q,
                    f"ORANGE zone: margin used {used:.1%} >= {cfg.orange:.0%}; "
                    f"reduce by {pct:.0%}"))
    elif zone is MarginZone.RED:
        target = Decimal(repr(cfg.red_target)) * account.equity
        remaining = account.margin_used
        for p in worst_first(account.positions):
            if remaining <= target:
                break
            actions.append(MarginAction(
                p.symbol, "CLOSE", p.quantity,
                f"RED zone: margin used {used:.1%} >= {cfg.red:.0%}; close worst positions "
                f"until margin used <= {cfg.red_target:.0%} (frees {p.margin:.2f})"))
            remaining -= p.margin
    return MarginStatus(zone, used, free, zone is MarginZone.GREEN, tuple(actions))
