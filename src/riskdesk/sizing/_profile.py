"""Seed 001's account-size profiles: which tier an equity falls in."""

from __future__ import annotations

from collections.abc import Mapping

from riskdesk.config import AccountTier
from riskdesk.sizing._checks import INF, bad


def account_profile(equity: float,
                    tiers: Mapping[str, AccountTier]) -> tuple[str, AccountTier] | None:
    """The highest tier whose ``min_equity`` is at or below ``equity``.

    A tier's lower bound belongs to it: with seed 001's tiers, $1,000 is ``medium`` and
    $5,000 is ``large``.

    Parameters
    ----------
    equity
        Account equity, finite and >= 0.
    tiers
        Tiers by name (``RiskConfig.account_tiers``).

    Returns
    -------
    tuple of (str, AccountTier) or None
        The tier's name and settings, or ``None`` when the equity is below every tier (the
        desk rejects such an account rather than guess a profile).

    Raises
    ------
    InvalidInputError
        If ``equity`` is negative or not finite.

    Examples
    --------
    >>> from riskdesk.config import RiskConfig
    >>> account_profile(2_500, RiskConfig().account_tiers)[0]
    'medium'
    """
    if not 0.0 <= equity < INF:
        bad("equity", equity, "a finite number >= 0")
    best: tuple[str, AccountTier] | None = None
    for name, tier in tiers.items():
        if tier.min_equity <= equity and (best is None or tier.min_equity > best[1].min_equity):
            best = (name, tier)
    return best
