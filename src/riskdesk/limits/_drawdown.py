"""Drawdown states, daily and weekly loss limits, and the circuit breaker (seeds 001, 002)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from riskdesk.config import Drawdown
from riskdesk.domain import AccountState, ReasonCode
from riskdesk.domain._memo import slot_setters
from riskdesk.errors import InvalidInputError


class DrawdownLevel(StrEnum):
    """Drawdown states of seed 001, from none to heavy."""

    NORMAL = "NORMAL"
    LIGHT = "LIGHT"
    MODERATE = "MODERATE"
    HEAVY = "HEAVY"

    @property
    def rank(self) -> int:
        """0 for NORMAL up to 3 for HEAVY."""
        return _RANK[self]


_LEVELS = (DrawdownLevel.NORMAL, DrawdownLevel.LIGHT, DrawdownLevel.MODERATE,
           DrawdownLevel.HEAVY)
_RANK = {lvl: i for i, lvl in enumerate(_LEVELS)}


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise InvalidInputError(field, value, "a timezone-aware datetime")
    return value


def _parse_time(value: object, field: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware(value, field)
    if isinstance(value, str):
        try:
            return _aware(datetime.fromisoformat(value), field)
        except ValueError:
            raise InvalidInputError(field, value, "an ISO 8601 timestamp") from None
    raise InvalidInputError(field, value, "an ISO 8601 timestamp")


def _opt_str(value: object, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidInputError(field, value, "a string or null")


@dataclass(frozen=True, slots=True)
class BreakerState:
    """The circuit breaker: tripped by a heavy drawdown, cleared by time or by an operator.

    Parameters
    ----------
    tripped
        True from the trip until an operator resets it. A tripped breaker stops blocking once
        ``until`` has passed (see :meth:`is_active`).
    tripped_at
        When it tripped.
    until
        When the pause ends; ``None`` means it holds until an operator resets it.
    reason
        Why it tripped.
    reset_by, reset_at, reset_note
        Who reset it, when and why (the last reset, kept for the record).
    """

    tripped: bool = False
    tripped_at: datetime | None = None
    until: datetime | None = None
    reason: str | None = None
    reset_by: str | None = None
    reset_at: datetime | None = None
    reset_note: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tripped, bool):
            raise InvalidInputError("breaker.tripped", self.tripped, "a boolean")
        for name in ("tripped_at", "until", "reset_at"):
            _aware(getattr(self, name), f"breaker.{name}")
        for name in ("reason", "reset_by", "reset_note"):
            _opt_str(getattr(self, name), f"breaker.{name}")

    def is_active(self, now: datetime) -> bool:
        """True while the breaker blocks new risk: tripped and its pause not yet over."""
        return self.tripped and (self.until is None or now < self.until)

    def trip(self, now: datetime, pause_hours: float, reason: str) -> BreakerState:
        """The breaker tripped at ``now`` for ``pause_hours`` (0: until an operator resets)."""
        until = None if pause_hours <= 0 else now + timedelta(hours=pause_hours)
        return replace(self, tripped=True, tripped_at=now, until=until, reason=reason)

    def reset(self, *, operator: str, note: str, now: datetime) -> BreakerState:
        """The breaker reset by ``operator`` at ``now``; the trip is kept for the record."""
        if not isinstance(operator, str) or not operator.strip():
            raise InvalidInputError("operator", operator, "a non-empty name")
        if not isinstance(note, str):
            raise InvalidInputError("note", note, "a string")
        _aware(now, "now")
        return replace(self, tripped=False, reset_by=operator, reset_at=now, reset_note=note)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as ISO 8601 strings)."""
        def iso(t: datetime | None) -> str | None:
            return None if t is None else t.isoformat()

        return {"tripped": self.tripped, "tripped_at": iso(self.tripped_at),
                "until": iso(self.until), "reason": self.reason, "reset_by": self.reset_by,
                "reset_at": iso(self.reset_at), "reset_note": self.reset_note}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BreakerState:
        """Rebuild from :meth:`to_dict` output; unknown keys are an error."""
        if not isinstance(data, dict):
            raise InvalidInputError("breaker", data, "a mapping")
        known = {"tripped", "tripped_at", "until", "reason", "reset_by", "reset_at",
                 "reset_note"}
        extra = set(data) - known
        if extra:
            raise InvalidInputError("breaker", sorted(extra), f"only the keys {sorted(known)}")
        return cls(
            tripped=data.get("tripped", False),
            tripped_at=_parse_time(data.get("tripped_at"), "breaker.tripped_at"),
            until=_parse_time(data.get("until"), "breaker.until"),
            reason=_opt_str(data.get("reason"), "breaker.reason"),
            reset_by=_opt_str(data.get("reset_by"), "breaker.reset_by"),
            reset_at=_parse_time(data.get("reset_at"), "breaker.reset_at"),
            reset_note=_opt_str(data.get("reset_note"), "breaker.reset_note"),
        )


@dataclass(frozen=True, slots=True)
class DrawdownStatus:
    """Drawdown protection as it stands.

    Parameters
    ----------
    level
        NORMAL, LIGHT, MODERATE or HEAVY (after recovery hysteresis).
    drawdown
        Drawdown from the high-water mark as a positive fraction.
    size_multiplier
        Multiplier of new position sizes.
    leverage_reduction
        Leverage levels (1x each) to take off the computed leverage.
    force_min_leverage
        True in HEAVY: use the lowest leverage the ranges allow.
    breaker
        The breaker after this evaluation (possibly newly tripped).
    daily_pnl_pct, weekly_pnl_pct
        Change since the start of the day and week, as fractions.
    reasons
        What blocks or shrinks new entries: ``DRAWDOWN_HEAVY``, ``BREAKER_TRIPPED``,
        ``DAILY_LOSS_LIMIT``, ``WEEKLY_LOSS_LIMIT``.
    entries_allowed
        False while the breaker is active or a loss limit is hit.
    breaker_tripped_now
        True when this evaluation tripped the breaker.
    recovery_multiplier
        ``size_multiplier`` while recovery holds it below the level's own multiplier (the
        desk records it, and the next evaluation rises from it by at most
        ``recovery_step``); ``None`` when the level's own multiplier applies.
    """

    level: DrawdownLevel
    drawdown: float
    size_multiplier: float
    leverage_reduction: float
    force_min_leverage: bool
    breaker: BreakerState
    daily_pnl_pct: float
    weekly_pnl_pct: float
    reasons: tuple[ReasonCode, ...] = ()
    entries_allowed: bool = True
    breaker_tripped_now: bool = False
    recovery_multiplier: float | None = None

    def __init__(self, level: DrawdownLevel, drawdown: float, size_multiplier: float,
                 leverage_reduction: float, force_min_leverage: bool, breaker: BreakerState,
                 daily_pnl_pct: float, weekly_pnl_pct: float,
                 reasons: tuple[ReasonCode, ...] = (), entries_allowed: bool = True,
                 breaker_tripped_now: bool = False,
                 recovery_multiplier: float | None = None) -> None:
        # Slots written directly (see riskdesk.domain._memo.slot_setters); the class stays
        # frozen. Built once per account state and desk state.
        _level(self, level)
        _drawdown(self, drawdown)
        _size_multiplier(self, size_multiplier)
        _leverage_reduction(self, leverage_reduction)
        _force_min_leverage(self, force_min_leverage)
        _breaker(self, breaker)
        _daily_pnl_pct(self, daily_pnl_pct)
        _weekly_pnl_pct(self, weekly_pnl_pct)
        _reasons(self, reasons)
        _entries_allowed(self, entries_allowed)
        _breaker_tripped_now(self, breaker_tripped_now)
        _recovery_multiplier(self, recovery_multiplier)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"level": self.level.value, "drawdown": self.drawdown,
                "size_multiplier": self.size_multiplier,
                "leverage_reduction": self.leverage_reduction,
                "force_min_leverage": self.force_min_leverage,
                "breaker": self.breaker.to_dict(), "daily_pnl_pct": self.daily_pnl_pct,
                "weekly_pnl_pct": self.weekly_pnl_pct,
                "reasons": [r.value for r in self.reasons],
                "entries_allowed": self.entries_allowed,
                "breaker_tripped_now": self.breaker_tripped_now}


(_level, _drawdown, _size_multiplier, _leverage_reduction, _force_min_leverage, _breaker,
 _daily_pnl_pct, _weekly_pnl_pct, _reasons, _entries_allowed, _breaker_tripped_now,
 _recovery_multiplier) = slot_setters(DrawdownStatus)


def drawdown_level(drawdown: float, cfg: Drawdown) -> DrawdownLevel:
    """The level a drawdown falls in, without hysteresis (each threshold included)."""
    if drawdown >= cfg.heavy:
        return DrawdownLevel.HEAVY
    if drawdown >= cfg.moderate:
        return DrawdownLevel.MODERATE
    if drawdown >= cfg.light:
        return DrawdownLevel.LIGHT
    return DrawdownLevel.NORMAL


def level_multiplier(level: DrawdownLevel, cfg: Drawdown) -> float:
    """The size multiplier of a level (1 for NORMAL)."""
    if level is DrawdownLevel.HEAVY:
        return cfg.heavy_multiplier
    if level is DrawdownLevel.MODERATE:
        return cfg.moderate_multiplier
    if level is DrawdownLevel.LIGHT:
        return cfg.light_multiplier
    return 1.0


def _threshold(level: DrawdownLevel, cfg: Drawdown) -> float:
    if level is DrawdownLevel.HEAVY:
        return cfg.heavy
    if level is DrawdownLevel.MODERATE:
        return cfg.moderate
    return cfg.light


def drawdown_status(account: AccountState, breaker: BreakerState, now: datetime,
                    cfg: Drawdown, prior_level: DrawdownLevel | None = None,
                    prior_multiplier: float | None = None) -> DrawdownStatus:
    """Drawdown level, size and leverage multipliers, loss limits and the breaker.

    Levels follow ``cfg``: LIGHT from ``light`` (size x ``light_multiplier``, leverage minus
    ``light_leverage_reduction`` levels), MODERATE from ``moderate``, HEAVY from ``heavy``
    (size x ``heavy_multiplier``, minimum leverage, and the breaker trips for
    ``breaker_pause_hours`` when ``breaker_on_heavy``).

    Recovery is gradual: when ``prior_level`` is worse than the drawdown's level, the level
    improves by one step per evaluation, and only once the drawdown is ``recovery_buffer``
    below the prior level's threshold. The size multiplier rises by at most
    ``recovery_step`` per evaluation over the multiplier applied at the previous one
    (``prior_multiplier``, or the prior level's own when that is ``None``), whatever the
    step: with a step smaller than the gaps between the levels' multipliers it keeps
    climbing after the level has recovered, one step per evaluation, until it reaches the
    level's own. A deeper drawdown lowers it at once.

    The breaker trips when the level enters HEAVY (``prior_level`` not HEAVY; ``None`` counts
    as not HEAVY, so callers should pass the level they recorded last). It stays tripped until
    its pause passes or an operator resets it; a breaker that has been reset or has expired
    does not trip again until the level has left HEAVY and entered it anew.

    Daily and weekly loss limits deny new entries while the loss since the day's or week's
    start equity is at or beyond the limit.

    Parameters
    ----------
    account
        The account (equity, high-water mark, day and week start equity).
    breaker
        The breaker as last recorded.
    now
        Decision time, timezone-aware.
    cfg
        The ``drawdown`` section.
    prior_level
        The level recorded at the previous evaluation, or ``None``.
    prior_multiplier
        The size multiplier recorded at the previous evaluation while it was still below its
        level's own (:attr:`DrawdownStatus.recovery_multiplier`), or ``None``: the prior
        level's own multiplier. Read only with ``prior_level``.

    Returns
    -------
    DrawdownStatus
        The status; ``breaker`` may be newly tripped (``breaker_tripped_now``).

    Raises
    ------
    InvalidInputError
        If ``now`` is not timezone-aware, or ``prior_multiplier`` is not a finite number
        >= 0.
    """
    _aware(now, "now")
    if now is None:
        raise InvalidInputError("now", now, "a timezone-aware datetime")
    if prior_multiplier is not None and not _is_multiplier(prior_multiplier):
        raise InvalidInputError("prior_multiplier", prior_multiplier,
                                "a finite number >= 0 or None")
    figures = account.figures
    dd = max(0.0, figures.drawdown)
    raw = drawdown_level(dd, cfg)
    level = raw
    mult = level_multiplier(raw, cfg)
    own = mult
    if prior_level is not None:
        if prior_level.rank > raw.rank:
            if dd < _threshold(prior_level, cfg) - cfg.recovery_buffer:
                level = _LEVELS[max(raw.rank, prior_level.rank - 1)]
            else:
                level = prior_level
            own = mult = level_multiplier(level, cfg)
        # The rise is measured from what the previous evaluation applied, not from its
        # level's own multiplier: otherwise a step smaller than the gap between two levels
        # is exceeded on the evaluation after the one that stepped the level up.
        start = level_multiplier(prior_level, cfg) if prior_multiplier is None \
            else prior_multiplier
        if mult > start + cfg.recovery_step:
            mult = start + cfg.recovery_step

    reasons: list[ReasonCode] = []
    tripped_now = False
    heavy = level is DrawdownLevel.HEAVY
    if heavy:
        reasons.append(ReasonCode.DRAWDOWN_HEAVY)
        entering = prior_level is not DrawdownLevel.HEAVY
        if cfg.breaker_on_heavy and entering and not breaker.is_active(now):
            breaker = breaker.trip(now, cfg.breaker_pause_hours,
                                   f"heavy drawdown {dd:.2%} >= {cfg.heavy:.0%}")
            tripped_now = True
    active = breaker.is_active(now)
    if active:
        reasons.append(ReasonCode.BREAKER_TRIPPED)
    daily = figures.daily_pnl_pct
    weekly = figures.weekly_pnl_pct
    if cfg.daily_loss_limit_pct is not None and daily <= -cfg.daily_loss_limit_pct:
        reasons.append(ReasonCode.DAILY_LOSS_LIMIT)
    if cfg.weekly_loss_limit_pct is not None and weekly <= -cfg.weekly_loss_limit_pct:
        reasons.append(ReasonCode.WEEKLY_LOSS_LIMIT)
    blocked = active or ReasonCode.DAILY_LOSS_LIMIT in reasons \
        or ReasonCode.WEEKLY_LOSS_LIMIT in reasons
    if level is DrawdownLevel.LIGHT:
        lev_cut = cfg.light_leverage_reduction
    elif level is DrawdownLevel.MODERATE:
        lev_cut = cfg.moderate_leverage_reduction
    else:
        lev_cut = 0.0
    return DrawdownStatus(level, dd, mult, lev_cut, heavy, breaker, daily, weekly,
                          tuple(reasons), not blocked, tripped_now,
                          mult if mult < own else None)


def _is_multiplier(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and 0.0 <= value < math.inf
