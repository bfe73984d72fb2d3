"""Seed 003's conviction tiers: a percentage of equity chosen by the entry score."""

from __future__ import annotations

from dataclasses import dataclass

from riskdesk.config import Conviction
from riskdesk.sizing._checks import INF, bad


@dataclass(frozen=True, slots=True)
class ConvictionSize:
    """The size a conviction tier asks for and what is left after the dollar cap.

    Parameters
    ----------
    pct
        Fraction of equity of the tier (0.015 = 1.5%).
    tier
        ``"high"``, ``"base"`` or ``"low"``.
    intended
        ``equity x pct``.
    capped
        ``min(intended, cap)``, or ``intended`` when there is no cap.
    cap
        The configured ``max_position_dollar``, or ``None``.
    """

    pct: float
    tier: str
    intended: float
    capped: float
    cap: float | None

    @property
    def cap_bound(self) -> bool:
        """True when the dollar cap reduced the size."""
        return self.capped < self.intended


def conviction_pct(score: float, cfg: Conviction) -> tuple[float, str]:
    """The equity fraction and tier name for an entry score.

    ``score > high_threshold`` gives ``high_pct`` ("high"), ``score < low_threshold`` gives
    ``low_pct`` ("low"), anything in between, both thresholds included, ``base_pct`` ("base").

    Parameters
    ----------
    score
        The entry score, finite (seed 003 uses a 0-5 scale).
    cfg
        The ``conviction`` configuration section.

    Returns
    -------
    tuple of (float, str)
        The fraction of equity and the tier name.

    Raises
    ------
    InvalidInputError
        If ``score`` is NaN or infinite.
    """
    if not -INF < score < INF:
        bad("score", score, "a finite number")
    if score > cfg.high_threshold:
        return cfg.high_pct, "high"
    if score < cfg.low_threshold:
        return cfg.low_pct, "low"
    return cfg.base_pct, "base"


def conviction_notional(equity: float, score: float, cfg: Conviction) -> ConvictionSize:
    """Seed 003's conviction-scaled notional, capped at ``max_position_dollar``.

    Parameters
    ----------
    equity
        Account equity, > 0.
    score
        The entry score, finite.
    cfg
        The ``conviction`` configuration section.

    Returns
    -------
    ConvictionSize
        Tier, fraction, intended and capped notional.

    Raises
    ------
    InvalidInputError
        If ``equity`` is not finite and positive or ``score`` is not finite.

    Examples
    --------
    >>> from riskdesk.config import Conviction
    >>> cfg = Conviction(max_position_dollar=825)
    >>> conviction_notional(55_000, 4.8, cfg).capped
    825.0
    """
    if not 0.0 < equity < INF:
        bad("equity", equity, "a finite number > 0")
    pct, tier = conviction_pct(score, cfg)
    intended = equity * pct
    cap = cfg.max_position_dollar
    capped = intended if cap is None or intended <= cap else cap
    return ConvictionSize(pct, tier, intended, capped, cap)
