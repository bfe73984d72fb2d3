"""Capital tiers (seed 001): CORE / GROWTH / OPPORTUNITY / RESERVE buckets of equity.

The one implementation of tier membership and budgets: the desk's tier cap
(:mod:`riskdesk.limits`), the service's multi-tier view and :func:`rebalance_due` all read
the tiers through this module. A symbol belongs to the tier that lists it *exactly* (the
exchange's own spelling, case included), else to the default tier the caller names.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from riskdesk.errors import InvalidInputError

_SUM_TOL = Decimal("1e-9")


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
        Exchange symbols that belong to the tier, exactly as the market rules and positions
        spell them (``"BTCUSDT"`` and ``"BTC/USDT:USDT"`` are two instruments; list both to
        put both in the tier). May be empty for a tier that only receives symbols by default.
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
    #: ``float(target_pct)``, kept for :func:`tier_rooms`.
    share: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInputError("tier.name", self.name, "a non-empty string")
        where = f"tiers.{self.name}"
        pct = _as_decimal(self.target_pct, f"{where}.target_pct")
        if not Decimal(0) <= pct <= Decimal(1):
            raise InvalidInputError(f"{where}.target_pct", self.target_pct, "a share in [0, 1]")
        object.__setattr__(self, "target_pct", pct)
        object.__setattr__(self, "share", float(pct))
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
            if not isinstance(sym, str) or not sym.strip() or sym != sym.strip():
                raise InvalidInputError(f"{where}.symbols", sym,
                                        "non-empty symbol strings without surrounding spaces")
            symbols.append(sym)
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
    TierSpec("CORE", Decimal("0.50"), 3.0, 5.0, frozenset({"BTCUSDT", "ETHUSDT"})),
    TierSpec("GROWTH", Decimal("0.30"), 5.0, 10.0),
    TierSpec("OPPORTUNITY", Decimal("0.15"), 3.0, 8.0),
    TierSpec("RESERVE", Decimal("0.05"), 1.0, 1.0, is_reserve=True),
)
"""Seed 001's tiers: CORE 50% (BTCUSDT, ETHUSDT; 3-5x), GROWTH 30% (5-10x), OPPORTUNITY 15%
(3-8x), RESERVE 5% (always free). The same table as the default ``capital_tiers`` section
(:func:`tiers_from_config` of it)."""


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
    if isinstance(tiers, str) or not isinstance(tiers, Iterable):
        raise InvalidInputError("tiers", tiers, "a non-empty sequence of TierSpec")
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


def tier_members(tiers: Sequence[TierSpec] = DEFAULT_TIERS) -> dict[str, str]:
    """The membership index: tier name by listed symbol.

    This is the whole membership rule: a symbol belongs to the tier whose ``symbols`` contain
    it exactly, and a symbol no tier lists belongs to the caller's default tier (see
    :func:`tier_for_symbol`). The desk builds the index once and looks symbols up in it.

    Parameters
    ----------
    tiers
        The tiers.

    Returns
    -------
    dict of str to str
        Tier name by symbol, for every listed symbol.

    Raises
    ------
    InvalidInputError
        If the tiers are incoherent (see :func:`check_tiers`).
    """
    return {sym: t.name for t in check_tiers(tiers) for sym in t.symbols}


def tier_for_symbol(
    symbol: str,
    tiers: Sequence[TierSpec] = DEFAULT_TIERS,
    *,
    default: str | None = None,
) -> TierSpec:
    """The tier a symbol belongs to.

    A tier matches when its ``symbols`` contain the symbol exactly (no base-asset guessing:
    ``"BTC/USDT:USDT"`` is not ``"BTCUSDT"``); see :func:`tier_members`.

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
    for t in specs:
        if symbol in t.symbols:
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
    if not isinstance(exposures_by_symbol, Mapping):
        raise InvalidInputError("exposures_by_symbol", exposures_by_symbol,
                                "a mapping of symbol to Decimal amount")
    members = tier_members(specs)
    out = {t.name: Decimal(0) for t in specs}
    for sym, amount in exposures_by_symbol.items():
        value = _as_money(amount, f"exposures_by_symbol.{sym}")
        if value < 0:
            raise InvalidInputError(f"exposures_by_symbol.{sym}", amount, "an amount >= 0")
        name = members.get(sym)
        if name is None:
            name = tier_for_symbol(sym, specs, default=default).name
        out[name] += value
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
    *,
    available: Decimal | None = None,
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
    available
        The account's free balance, when known. The equity left once the reserve and every
        tier's usage are set aside is then also limited to ``available - equity *
        reserve_pct``: the free balance never drops below the reserve either (it can be
        smaller than ``equity - total_used`` when margin is held outside the tiers' positions).

    Returns
    -------
    dict
        Tier name to :class:`TierBudget`. For a non-reserve tier,
        ``remaining = max(0, min(target - used, free))`` with
        ``free = equity * (1 - reserve_pct) - total_used`` (and at most
        ``available - equity * reserve_pct``): a tier never eats into the reserve, even when
        other tiers have overrun their targets.

    Raises
    ------
    InvalidInputError
        If equity is not positive, an amount is not a non-negative ``Decimal``, ``available``
        is not a finite ``Decimal``, a tier name is unknown, or the reserve reports usage (it
        is never allocated).
    """
    specs = check_tiers(tiers)
    free_balance = None if available is None else _as_money(available, "available")
    eq = _as_money(equity, "equity")
    if eq <= 0:
        raise InvalidInputError("equity", equity, "a positive Decimal amount")
    if not isinstance(exposures_by_tier, Mapping):
        raise InvalidInputError("exposures_by_tier", exposures_by_tier,
                                "a mapping of tier name to Decimal amount")
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
    if free_balance is not None:
        free = min(free, free_balance - eq * reserve_pct)
    out: dict[str, TierBudget] = {}
    for t in specs:
        target = eq * t.target_pct
        if t.is_reserve:
            remaining = Decimal(0)
        else:
            remaining = max(Decimal(0), min(target - used[t.name], free))
        out[t.name] = TierBudget(t.name, target, used[t.name], remaining, t.is_reserve)
    return out


def tier_rooms(
    equity: float,
    used_by_tier: Mapping[str, float],
    tiers: Sequence[TierSpec],
    *,
    available: float | None = None,
) -> dict[str, float]:
    """:func:`tier_budgets`' ``remaining`` in floats: the desk's hot-path twin.

    The same formula in the same order, on floats, without the checks: ``tiers`` must come
    from :func:`check_tiers` or :func:`~riskdesk.allocation.tiers_from_config`, and the
    amounts must be finite (the desk's exposure figures are). Usage reported against the
    reserve is ignored here (the checked tiers never route a symbol to it).
    ``tests/property/test_tier_properties.py`` checks it against :func:`tier_budgets`.

    Parameters
    ----------
    equity
        Account equity, > 0.
    used_by_tier
        Capital each tier commits (margin, or notional when unleveraged); absent tiers are 0.
    tiers
        Checked tiers.
    available
        The free balance, as in :func:`tier_budgets`.

    Returns
    -------
    dict of str to float
        Remaining budget by tier name, >= 0; 0 for the reserve.
    """
    get = used_by_tier.get
    reserve = total = 0.0
    for t in tiers:
        if t.is_reserve:
            reserve += t.share
        else:
            total += get(t.name, 0.0)
    free = equity * (1.0 - reserve) - total
    if available is not None:
        balance = available - equity * reserve
        if balance < free:
            free = balance
    out: dict[str, float] = {}
    for t in tiers:
        if t.is_reserve:
            out[t.name] = 0.0
        else:
            room = equity * t.share - get(t.name, 0.0)
            if free < room:
                room = free
            out[t.name] = room if room > 0.0 else 0.0
    return out
