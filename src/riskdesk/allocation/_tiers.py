"""Capital tiers (seed 001): CORE / GROWTH / OPPORTUNITY / RESERVE buckets of equity."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from riskdesk.errors import InvalidInputError

Cadence = Literal["daily", "weekly"]

_SUM_TOL = Decimal("1e-9")
_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "USD", "PERP")
_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)


def _as_decimal(value: object, field_name: str) -> Decimal:
    if isinstance(value, bool):
        raise InvalidInputError(field_name, value, "a Decimal")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(field_name, value, "a finite number")
        # the shortest decimal that reads back as this float: 0.3 means 0.3
        d = Decimal(repr(value))
    else:
        raise InvalidInputError(field_name, value, "a Decimal")
    if not d.is_finite():
        raise InvalidInputError(field_name, value, "a finite Decimal")
    return d


def _as_money(value: object, field_name: str) -> Decimal:
    """Money must arrive as Decimal (or int); a float would carry binary rounding in."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidInputError(field_name, value, "a Decimal amount")
    d = Decimal(value)
    if not d.is_finite():
        raise InvalidInputError(field_name, value, "a finite Decimal amount")
    return d


@dataclass(frozen=True)
class TierSpec:
    """One capital tier: a share of equity, a leverage range and the symbols it holds.

    Parameters
    ----------
    name
        Tier name, for example ``"CORE"``.
    target_pct
        Target share of equity, in ``[0, 1]`` (``0.5`` is 50%). Stored as a ``Decimal``; a
        float is read as the shortest decimal that represents it.
    min_leverage, max_leverage
        Leverage range for positions of this tier, ``0 < min_leverage <= max_leverage``.
    symbols
        Symbols (or base assets such as ``"BTC"``) that belong to the tier, matched
        case-insensitively. May be empty for a tier that only receives symbols by default.
    is_reserve
        The reserve tier is never allocated: it holds no symbols and has no budget.

    Raises
    ------
    InvalidInputError
        If a field is out of range.
    """

    name: str
    target_pct: Decimal
    min_leverage: float
    max_leverage: float
    symbols: frozenset[str] = field(default_factory=frozenset)
    is_reserve: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInputError("tier.name", self.name, "a non-empty string")
        where = f"tiers.{self.name}"
        pct = _as_decimal(self.target_pct, f"{where}.target_pct")
        if not Decimal(0) <= pct <= Decimal(1):
            raise InvalidInputError(f"{where}.target_pct", self.target_pct, "a share in [0, 1]")
        object.__setattr__(self, "target_pct", pct)
        lo, hi = self.min_leverage, self.max_leverage
        for key, val in (("min_leverage", lo), ("max_leverage", hi)):
            if (
                isinstance(val, bool)
                or not isinstance(val, int | float)
                or not math.isfinite(val)
                or val <= 0
            ):
                raise InvalidInputError(f"{where}.{key}", val, "a positive finite number")
        if lo > hi:
            raise InvalidInputError(f"{where}.min_leverage", lo, f"<= max_leverage ({hi})")
        object.__setattr__(self, "min_leverage", float(lo))
        object.__setattr__(self, "max_leverage", float(hi))
        raw: object = self.symbols
        if isinstance(raw, str) or not isinstance(raw, Iterable):
            raise InvalidInputError(f"{where}.symbols", raw, "a set of symbol strings")
        symbols = []
        for sym in raw:
            if not isinstance(sym, str) or not sym.strip():
                raise InvalidInputError(f"{where}.symbols", sym, "non-empty symbol strings")
            symbols.append(sym.strip().upper())
        object.__setattr__(self, "symbols", frozenset(symbols))
        if not isinstance(self.is_reserve, bool):
            raise InvalidInputError(f"{where}.is_reserve", self.is_reserve, "True or False")
        if self.is_reserve and self.symbols:
            raise InvalidInputError(
                f"{where}.symbols", sorted(self.symbols), "no symbols: the reserve holds none")

    def clamp_leverage(self, leverage: float) -> float:
        """Clamp a leverage into this tier's range.

        Parameters
        ----------
        leverage
            Proposed leverage.

        Returns
        -------
        float
            ``min(max(leverage, min_leverage), max_leverage)``.

        Raises
        ------
        InvalidInputError
            If ``leverage`` is not a finite number, or the tier is the reserve.
        """
        if self.is_reserve:
            raise InvalidInputError("tier", self.name, "a tier that can hold positions")
        if isinstance(leverage, bool) or not isinstance(leverage, int | float) or not (
            math.isfinite(leverage)
        ):
            raise InvalidInputError("leverage", leverage, "a finite number")
        return min(max(float(leverage), self.min_leverage), self.max_leverage)


DEFAULT_TIERS: tuple[TierSpec, ...] = (
    TierSpec("CORE", Decimal("0.50"), 3.0, 5.0, frozenset({"BTC", "ETH"})),
    TierSpec("GROWTH", Decimal("0.30"), 5.0, 10.0),
    TierSpec("OPPORTUNITY", Decimal("0.15"), 3.0, 8.0),
    TierSpec("RESERVE", Decimal("0.05"), 1.0, 1.0, is_reserve=True),
)
"""Seed 001's tiers: CORE 50% (BTC, ETH; 3-5x), GROWTH 30% (5-10x), OPPORTUNITY 15% (3-8x),
RESERVE 5% (always free)."""


def check_tiers(tiers: Sequence[TierSpec]) -> tuple[TierSpec, ...]:
    """Check that a set of tiers is coherent.

    Parameters
    ----------
    tiers
        The tiers.

    Returns
    -------
    tuple of TierSpec
        The tiers, as a tuple.

    Raises
    ------
    InvalidInputError
        If there are no tiers, a name repeats, the targets do not sum to 1, there is more than
        one reserve, or a symbol belongs to two tiers.
    """
    out = tuple(tiers)
    if not out or not all(isinstance(t, TierSpec) for t in out):
        raise InvalidInputError("tiers", tiers, "a non-empty sequence of TierSpec")
    names = [t.name for t in out]
    if len(set(names)) != len(names):
        raise InvalidInputError("tiers", names, "unique tier names")
    total = sum((t.target_pct for t in out), Decimal(0))
    if abs(total - 1) > _SUM_TOL:
        raise InvalidInputError("tiers.target_pct", str(total), "targets summing to 1")
    if sum(t.is_reserve for t in out) > 1:
        raise InvalidInputError("tiers", names, "at most one reserve tier")
    owner: dict[str, str] = {}
    for t in out:
        for sym in t.symbols:
            if sym in owner:
                raise InvalidInputError(
                    f"tiers.{t.name}.symbols", sym, f"a symbol in one tier only (also in "
                    f"{owner[sym]})")
            owner[sym] = t.name
    return out


def _base_asset(symbol: str) -> str:
    s = symbol.strip().upper()
    for sep in "/:-_":
        if sep in s:
            return s.split(sep, 1)[0]
    for quote in _QUOTES:
        if s.endswith(quote) and len(s) > len(quote):
            return s[: -len(quote)]
    return s


def tier_for_symbol(
    symbol: str,
    tiers: Sequence[TierSpec] = DEFAULT_TIERS,
    *,
    default: str | None = None,
) -> TierSpec:
    """The tier a symbol belongs to.

    A tier matches when its ``symbols`` contain the symbol itself or its base asset
    (``"BTC/USDT:USDT"``, ``"BTC-PERP"`` and ``"BTCUSDT"`` all have base ``"BTC"``).

    Parameters
    ----------
    symbol
        Exchange symbol.
    tiers
        The tiers to search.
    default
        Name of the tier that takes symbols no tier lists (for example ``"GROWTH"``). Without
        it an unlisted symbol is an error.

    Returns
    -------
    TierSpec
        The matching tier.

    Raises
    ------
    InvalidInputError
        If the symbol is unlisted and there is no usable ``default``.
    """
    specs = check_tiers(tiers)
    if not isinstance(symbol, str) or not symbol.strip():
        raise InvalidInputError("symbol", symbol, "a non-empty symbol string")
    full = symbol.strip().upper()
    base = _base_asset(symbol)
    for t in specs:
        if full in t.symbols or base in t.symbols:
            return t
    if default is None:
        raise InvalidInputError("symbol", symbol, "a symbol listed in a tier (or a default tier)")
    for t in specs:
        if t.name == default:
            if t.is_reserve:
                raise InvalidInputError("default", default, "a tier other than the reserve")
            return t
    raise InvalidInputError("default", default, f"one of {[t.name for t in specs]}")


def tier_exposures(
    exposures_by_symbol: Mapping[str, Decimal],
    tiers: Sequence[TierSpec] = DEFAULT_TIERS,
    *,
    default: str | None = None,
) -> dict[str, Decimal]:
    """Sum per-symbol capital usage into per-tier usage.

    Parameters
    ----------
    exposures_by_symbol
        Capital committed per symbol (``Decimal``, >= 0); see :func:`tier_budgets` for what
        to count.
    tiers
        The tiers.
    default
        Tier for symbols no tier lists, as in :func:`tier_for_symbol`.

    Returns
    -------
    dict
        Tier name to summed usage, with every tier present (zero where unused).

    Raises
    ------
    InvalidInputError
        On an amount that is not a non-negative ``Decimal``, or an unassignable symbol.
    """
    specs = check_tiers(tiers)
    out = {t.name: Decimal(0) for t in specs}
    for sym, amount in exposures_by_symbol.items():
        value = _as_money(amount, f"exposures_by_symbol.{sym}")
        if value < 0:
            raise InvalidInputError(f"exposures_by_symbol.{sym}", amount, "an amount >= 0")
        out[tier_for_symbol(sym, specs, default=default).name] += value
    return out


@dataclass(frozen=True)
class TierBudget:
    """Capital budget of one tier.

    Parameters
    ----------
    name
        Tier name.
    target
        ``equity * target_pct``.
    used
        Capital the tier's positions already commit.
    remaining
        What a new position in the tier may still commit: the tier's headroom, limited by the
        equity left once the reserve is set aside; never negative, always zero for the
        reserve.
    is_reserve
        Whether this is the reserve tier.
    """

    name: str
    target: Decimal
    used: Decimal
    remaining: Decimal
    is_reserve: bool


def tier_budgets(
    equity: Decimal,
    exposures_by_tier: Mapping[str, Decimal],
    tiers: Sequence[TierSpec] = DEFAULT_TIERS,
) -> dict[str, TierBudget]:
    """Remaining capital budget of every tier.

    Parameters
    ----------
    equity
        Account equity (``Decimal``, > 0).
    exposures_by_tier
        Capital each tier already commits (``Decimal``, >= 0): for leveraged positions the
        margin (notional divided by leverage), for unleveraged ones the notional. Tiers that
        are absent count as zero.
    tiers
        The tiers.

    Returns
    -------
    dict
        Tier name to :class:`TierBudget`. For a non-reserve tier,
        ``remaining = max(0, min(target - used, equity * (1 - reserve_pct) - total_used))``:
        a tier never eats into the reserve, even when other tiers have overrun their targets.

    Raises
    ------
    InvalidInputError
        If equity is not positive, an amount is not a non-negative ``Decimal``, a tier name is
        unknown, or the reserve reports usage (it is never allocated).
    """
    specs = check_tiers(tiers)
    eq = _as_money(equity, "equity")
    if eq <= 0:
        raise InvalidInputError("equity", equity, "a positive Decimal amount")
    by_name = {t.name: t for t in specs}
    used: dict[str, Decimal] = {t.name: Decimal(0) for t in specs}
    for name, amount in exposures_by_tier.items():
        if name not in by_name:
            raise InvalidInputError("exposures_by_tier", name, f"one of {list(by_name)}")
        value = _as_money(amount, f"exposures_by_tier.{name}")
        if value < 0:
            raise InvalidInputError(f"exposures_by_tier.{name}", amount, "an amount >= 0")
        if by_name[name].is_reserve and value != 0:
            raise InvalidInputError(
                f"exposures_by_tier.{name}", amount, "0: the reserve is never allocated")
        used[name] = value
    reserve_pct = sum((t.target_pct for t in specs if t.is_reserve), Decimal(0))
    free = eq * (1 - reserve_pct) - sum(used.values(), Decimal(0))
    out: dict[str, TierBudget] = {}
    for t in specs:
        target = eq * t.target_pct
        if t.is_reserve:
            remaining = Decimal(0)
        else:
            remaining = max(Decimal(0), min(target - used[t.name], free))
        out[t.name] = TierBudget(t.name, target, used[t.name], remaining, t.is_reserve)
    return out


@dataclass(frozen=True)
class RebalanceCheck:
    """Whether the tiers are due for rebalancing.

    Parameters
    ----------
    due
        ``now - last_rebalance`` has reached the cadence's period.
    cadence
        ``"daily"`` when some tier deviates from its target by more than the threshold
        (relative), ``"weekly"`` otherwise.
    deviations
        Relative deviation ``|share - target| / target`` per non-reserve tier (read-only).
    next_due
        ``last_rebalance`` plus the cadence's period.
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
    last_rebalance: datetime,
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
        When the tiers were last rebalanced (timezone-aware).
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
    last = _aware(last_rebalance, "last_rebalance")
    current = _aware(now, "now")
    if current < last:
        raise InvalidInputError("now", now, f"a time at or after last_rebalance ({last})")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not (
        math.isfinite(threshold) and threshold >= 0
    ):
        raise InvalidInputError("threshold", threshold, "a finite number >= 0")
    by_name = {t.name: t for t in specs}
    for name in weights_now:
        if name not in by_name:
            raise InvalidInputError("weights_now", name, f"one of {list(by_name)}")
    deviations: dict[str, float] = {}
    for t in specs:
        raw = weights_now.get(t.name)
        if t.is_reserve:
            if raw is not None and float(raw) != 0.0:
                raise InvalidInputError(
                    f"weights_now.{t.name}", raw, "0: the reserve is never allocated")
            continue
        if raw is None:
            raise InvalidInputError("weights_now", t.name, "a share for every non-reserve tier")
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            raise InvalidInputError(f"weights_now.{t.name}", raw, "a number")
        share = float(raw)
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
    period = _DAY if cadence == "daily" else _WEEK
    return RebalanceCheck(
        due=current - last >= period,
        cadence=cadence,
        deviations=MappingProxyType(deviations),
        next_due=last + period,
    )
