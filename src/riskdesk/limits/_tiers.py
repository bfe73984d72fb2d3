"""Seed 001's capital tiers as a limit: a symbol's tier, its leverage range and its budget left."""

from __future__ import annotations

from collections.abc import Mapping

from riskdesk.config import CapitalTier, CapitalTiers


def capital_tier(symbol: str, cfg: CapitalTiers) -> tuple[str, CapitalTier]:
    """The tier a symbol belongs to: the first tier listing it, else ``default_tier``.

    Parameters
    ----------
    symbol
        Instrument.
    cfg
        The ``capital_tiers`` section.

    Returns
    -------
    tuple of (str, CapitalTier)
        The tier's name and settings.
    """
    for name, tier in cfg.tiers.items():
        if symbol in tier.symbols:
            return name, tier
    return cfg.default_tier, cfg.tiers[cfg.default_tier]


def tier_margin_room(symbol: str, margin_by_symbol: Mapping[str, float], equity: float,
                     available: float, cfg: CapitalTiers) -> tuple[str, CapitalTier, float]:
    """Margin a new order in ``symbol`` may still take from its tier.

    ``target_pct x equity`` less the margin the tier's positions already use, and never so much
    that free balance falls below the reserve tiers' share of equity. A symbol mapped to a
    reserve tier has no room: the reserve is never allocated.

    Parameters
    ----------
    symbol
        Instrument of the new order.
    margin_by_symbol
        Margin in use per symbol.
    equity, available
        Account equity and free balance.
    cfg
        The ``capital_tiers`` section.

    Returns
    -------
    tuple of (str, CapitalTier, float)
        Tier name, tier settings and the margin room (>= 0 is not guaranteed: a negative room
        means the tier is over budget).
    """
    name, _ = capital_tier(symbol, cfg)
    tier, room = tier_rooms(margin_by_symbol, equity, available, cfg)[name]
    return name, tier, room


def tier_rooms(margin_by_symbol: Mapping[str, float], equity: float, available: float,
               cfg: CapitalTiers, members: Mapping[str, str] | None = None
               ) -> dict[str, tuple[CapitalTier, float]]:
    """Every tier's settings and margin room at once (see :func:`tier_margin_room`).

    Parameters
    ----------
    margin_by_symbol
        Margin in use per symbol.
    equity, available
        Account equity and free balance.
    cfg
        The ``capital_tiers`` section.
    members
        :func:`tier_members` of ``cfg``, when the caller keeps it.

    Returns
    -------
    dict of str to (CapitalTier, float)
        Settings and margin room by tier name.
    """
    members = tier_members(cfg) if members is None else members
    used: dict[str, float] = {}
    default = cfg.default_tier
    for sym, m in margin_by_symbol.items():
        name = members.get(sym, default)
        used[name] = used.get(name, 0.0) + m
    tiers = cfg.tiers
    reserve = 0.0
    for t in tiers.values():
        if t.reserve:
            reserve += t.target_pct
    free = available - reserve * equity
    out: dict[str, tuple[CapitalTier, float]] = {}
    for name, tier in tiers.items():
        if tier.reserve:
            out[name] = (tier, 0.0)
            continue
        room = tier.target_pct * equity - used.get(name, 0.0)
        out[name] = (tier, room if room < free else free)
    return out


def tier_members(cfg: CapitalTiers) -> dict[str, str]:
    """Tier name by listed symbol (the first tier listing a symbol wins)."""
    members: dict[str, str] = {}
    for name, tier in cfg.tiers.items():
        for sym in tier.symbols:
            members.setdefault(sym, name)
    return members
