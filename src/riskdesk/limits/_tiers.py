"""Seed 001's capital tiers as a limit: the margin an order may still take from its tier.

Membership and the budget rule are :mod:`riskdesk.allocation`'s (one implementation:
:func:`~riskdesk.allocation.tier_members`, :func:`~riskdesk.allocation.tier_rooms`); this
module applies them to an account's margin figures for the desk's ``CAP_TIER_BUDGET``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from riskdesk.allocation import TierSpec, tier_rooms


def tier_margin_rooms(margin_by_symbol: Mapping[str, float], equity: float, available: float,
                      tiers: Sequence[TierSpec], members: Mapping[str, str], default: str
                      ) -> dict[str, tuple[TierSpec, float]]:
    """Every tier's spec and the margin a new order may still take from it.

    Each symbol's margin counts against the tier that lists it exactly (``members``), else
    against ``default``; the room is :func:`~riskdesk.allocation.tier_budgets`' remaining
    budget (through its float twin :func:`~riskdesk.allocation.tier_rooms`): the tier's target
    share of equity less the margin its positions use, never into the reserve, and never more
    than the free balance above the reserve. The reserve's room is 0.

    Parameters
    ----------
    margin_by_symbol
        Margin in use per symbol (notional / leverage).
    equity, available
        Account equity (> 0) and free balance.
    tiers
        Checked tiers (:func:`~riskdesk.allocation.tiers_from_config`).
    members
        :func:`~riskdesk.allocation.tier_members` of ``tiers``.
    default
        The tier of symbols no tier lists (``capital_tiers.default_tier``).

    Returns
    -------
    dict of str to (TierSpec, float)
        Spec and margin room (>= 0) by tier name, in tier order.
    """
    used: dict[str, float] = {}
    for sym, m in margin_by_symbol.items():
        name = members.get(sym, default)
        used[name] = used.get(name, 0.0) + m
    rooms = tier_rooms(equity, used, tiers, available=available)
    return {t.name: (t, room) for t, room in zip(tiers, rooms.values(), strict=True)}
