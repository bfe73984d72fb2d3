"""Seed 001's rebalancing schedule of the capital tiers: daily past 20% deviation, else weekly."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from riskdesk.allocation._tiers import DEFAULT_TIERS, TierSpec, check_tiers
from riskdesk.errors import InvalidInputError

Cadence = Literal["daily", "weekly"]

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class RebalanceCheck:
    """Whether the tiers are due for rebalancing.

    Parameters
    ----------
    due
        ``now - last_rebalance`` has reached the cadence's period, or no rebalance was ever
        recorded (``last_rebalance`` was ``None``).
    cadence
        ``"daily"`` when some tier deviates from its target by more than the threshold
        (relative), ``"weekly"`` otherwise.
    deviations
        Relative deviation ``|share - target| / target`` per non-reserve tier (read-only).
    next_due
        ``last_rebalance`` plus the cadence's period; ``now`` when no rebalance was recorded.
    """

    due: bool
    cadence: Cadence
    deviations: Mapping[str, float]
    next_due: datetime


def _aware(value: object, field_name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInputError(field_name, value, "a datetime")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidInputError(field_name, value, "a timezone-aware datetime")
    return value


def rebalance_due(
    weights_now: Mapping[str, float | Decimal],
    last_rebalance: datetime | None,
    now: datetime,
    tiers: Sequence[TierSpec] = DEFAULT_TIERS,
    *,
    threshold: float = 0.20,
) -> RebalanceCheck:
    """Rebalancing schedule of seed 001: daily if a tier deviates > 20%, weekly otherwise.

    Parameters
    ----------
    weights_now
        Current share of equity committed to each tier (``0.42`` is 42%). Every non-reserve
        tier must be present; a reserve entry, if given, must be zero.
    last_rebalance
        When the tiers were last rebalanced (timezone-aware), or ``None`` when no rebalance
        was ever recorded: the tiers are then due now.
    now
        The current time (timezone-aware), passed in by the caller.
    tiers
        The tiers.
    threshold
        Relative deviation above which the cadence becomes daily (0.20 = 20% of the target,
        so a 50% tier triggers below 40% or above 60%).

    Returns
    -------
    RebalanceCheck
        The decision, the cadence, the per-tier deviations and the next due time.

    Raises
    ------
    InvalidInputError
        On naive datetimes, ``now`` before ``last_rebalance``, missing or unknown tiers,
        shares that are negative or not finite, or a non-zero reserve share.
    """
    specs = check_tiers(tiers)
    current = _aware(now, "now")
    last = None if last_rebalance is None else _aware(last_rebalance, "last_rebalance")
    if last is not None and current < last:
        raise InvalidInputError("now", now, f"a time at or after last_rebalance ({last})")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not (
        math.isfinite(threshold) and threshold >= 0
    ):
        raise InvalidInputError("threshold", threshold, "a finite number >= 0")
    if not isinstance(weights_now, Mapping):
        raise InvalidInputError("weights_now", weights_now, "a mapping of tier name to share")
    by_name = {t.name: t for t in specs}
    for name in weights_now:
        if name not in by_name:
            raise InvalidInputError("weights_now", name, f"one of {list(by_name)}")
    deviations: dict[str, float] = {}
    for t in specs:
        raw = weights_now.get(t.name)
        if raw is None:
            if t.is_reserve:
                continue
            raise InvalidInputError("weights_now", t.name, "a share for every non-reserve tier")
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal) \
                or (isinstance(raw, Decimal) and raw.is_nan()):
            raise InvalidInputError(f"weights_now.{t.name}", raw, "a number")
        share = float(raw)
        if t.is_reserve:
            if share != 0.0:
                raise InvalidInputError(
                    f"weights_now.{t.name}", raw, "0: the reserve is never allocated")
            continue
        if not math.isfinite(share) or share < 0:
            raise InvalidInputError(f"weights_now.{t.name}", raw, "a finite share >= 0")
        target = float(t.target_pct)
        if target == 0.0:
            deviations[t.name] = 0.0 if share == 0.0 else math.inf
        else:
            deviations[t.name] = abs(share - target) / target
    cadence: Cadence = (
        "daily" if any(d > threshold for d in deviations.values()) else "weekly"
    )
    if last is None:
        return RebalanceCheck(True, cadence, MappingProxyType(deviations), current)
    period = _DAY if cadence == "daily" else _WEEK
    return RebalanceCheck(
        due=current - last >= period,
        cadence=cadence,
        deviations=MappingProxyType(deviations),
        next_due=last + period,
    )
