"""What the desk reads from its configuration and from an account, computed once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from riskdesk.allocation import TierSpec, tier_members, tiers_from_config
from riskdesk.config import AccountTier, RiskConfig
from riskdesk.domain import AccountState, Adjustment, Position, ReasonCode
from riskdesk.limits import (
    DrawdownStatus,
    Exposure,
    LimitParams,
    MarginZone,
    account_phase,
    drawdown_status,
    exposure,
    margin_zone,
    tier_margin_rooms,
    worst_scored,
)
from riskdesk.sizing import account_profile

from ._base import account_base
from ._state import DeskState, state_unchanged

#: Base-size methods and the reason code their trail entry carries.
METHODS = ("fixed_fraction", "conviction", "capital_scaling", "kelly", "stop_risk",
           "volatility_target", "account_profile")


@dataclass(frozen=True, slots=True)
class DeskParams:
    """The configuration as plain values, read once in ``Desk.__init__``.

    Reading nested pydantic attributes on every order costs more than the arithmetic they
    feed, so the pipeline reads this object instead. Every field mirrors a configuration key;
    the ``*_gate`` flags say whether a limit is configured at all (a gate whose limit is not
    configured passes every order, so the pipeline does not call it). With capital tiers on,
    ``tiers`` and ``tier_members`` are allocation's specs and membership index of
    ``capital_tiers`` (built and checked once; empty when tiers are off).
    """

    cfg: RiskConfig
    lp: LimitParams
    method: str
    risk_per_trade: float
    capital_utilization_factor: float
    atr_stop_multiple: float
    target_volatility: float
    kelly_clip: tuple[float, float]
    kelly_risk_aversion: float
    kelly_fraction: float
    dd_haircut: tuple[float, float, float]
    stabilizer_enabled: bool
    vix_sizes: bool
    phases_enabled: bool
    tiers_enabled: bool
    liquidity_enabled: bool
    near_levels: int
    opportunity_enabled: bool
    lev_min: float
    adaptive_leverage: bool
    tiers: tuple[TierSpec, ...]
    tier_members: dict[str, str]
    named_strategies: frozenset[str]
    default_tier: str
    risk_parity_max: float
    min_shares_gate: bool
    signal_gate: bool
    score_gate: bool
    concentration_gate: bool
    spread_gate: bool

    @classmethod
    def from_config(cls, cfg: RiskConfig) -> DeskParams:
        """Read ``cfg`` once.

        Raises
        ------
        ConfigError
            When capital tiers are on and allocation cannot read them (see
            :func:`~riskdesk.allocation.tiers_from_config`).
        """
        ps, k = cfg.position_sizing, cfg.kelly
        tiers = tiers_from_config(cfg.capital_tiers) if cfg.capital_tiers.enabled else ()
        return cls(
            cfg=cfg,
            lp=LimitParams.from_config(cfg),
            method=ps.method,
            risk_per_trade=ps.risk_per_trade,
            capital_utilization_factor=ps.capital_utilization_factor,
            atr_stop_multiple=ps.atr_stop_multiple,
            target_volatility=ps.target_volatility,
            kelly_clip=(k.clip_min, k.clip_max),
            kelly_risk_aversion=k.risk_aversion,
            kelly_fraction=k.fraction,
            dd_haircut=(k.dd_haircut_start, k.dd_haircut_full, k.dd_haircut_floor),
            stabilizer_enabled=k.stabilizer.enabled,
            vix_sizes=cfg.vix.enabled and cfg.vix.size_multipliers,
            phases_enabled=cfg.phases.enabled,
            tiers_enabled=cfg.capital_tiers.enabled,
            liquidity_enabled=cfg.liquidity.enabled,
            near_levels=cfg.liquidity.near_levels,
            opportunity_enabled=cfg.opportunity.enabled,
            lev_min=cfg.leverage.min_leverage,
            adaptive_leverage=cfg.leverage.fixed is None,
            tiers=tiers,
            tier_members=tier_members(tiers) if tiers else {},
            named_strategies=frozenset(n.upper() for n in cfg.strategies.by_name),
            default_tier=cfg.capital_tiers.default_tier,
            risk_parity_max=ps.risk_parity_max_multiplier,
            min_shares_gate=ps.min_shares > 0.0,
            signal_gate=not ps.signal_threshold <= 0.0,
            score_gate=cfg.risk_management.entry_score_min is not None,
            concentration_gate=cfg.risk_management.concentration_max_net_long_pct is not None,
            spread_gate=cfg.risk_management.max_spread_bps is not None,
        )


class AccountView:
    """An account's figures the pipeline needs, computed once per (immutable) account.

    Built by :meth:`of`. A plain class rather than a frozen dataclass: it is built for every
    new account state, and a frozen constructor costs more than most of the figures. Only
    ``margin_step`` and the drawdown cache change after construction, and both only ever
    hold values derived from the account.

    Attributes
    ----------
    account
        The account it was computed from.
    ex
        Exposure sums.
    positions
        Open positions by symbol.
    profile
        The account tier ``(name, tier)`` or ``None`` below every tier.
    phase
        Seed 004 account phase, or ``None`` when phases are off.
    zone
        Margin zone.
    tiers
        Capital tier spec and margin room by tier name (empty when tiers are off).
    members
        Capital tier name by listed symbol.
    worst
        The held position with the lowest score (opportunity cost), as ``(symbol, score)``.
    margin_note
        The trail note of the margin-zone step (GREEN only: other zones deny).
    margin_step
        The last margin-zone trail entry built for this account (entries are immutable, so
        an order of the same size reuses it).
    base
        The base size and its trail entry, for the methods that read only the account
        (``fixed_fraction``, ``account_profile``); ``None`` for the others.
    """

    __slots__ = ("_dd", "account", "base", "ex", "margin_note", "margin_step", "members",
                 "phase", "positions", "profile", "tiers", "worst", "zone")

    def __init__(self, account: AccountState, ex: Exposure, positions: dict[str, Position],
                 profile: tuple[str, AccountTier] | None, phase: int | None, zone: MarginZone,
                 tiers: dict[str, tuple[TierSpec, float]], members: dict[str, str],
                 worst: tuple[str | None, float | None],
                 margin_note: str, base: tuple[float, Adjustment] | None) -> None:
        self.account = account
        self.ex = ex
        self.positions = positions
        self.profile = profile
        self.phase = phase
        self.zone = zone
        self.tiers = tiers
        self.members = members
        self.worst = worst
        self.margin_note = margin_note
        self.base = base
        # The last margin-zone trail entry: orders sized alike against this account share it.
        self.margin_step: Adjustment | None = None
        self._dd: dict[int, DrawdownEntry] = {}

    @classmethod
    def of(cls, account: AccountState, p: DeskParams) -> AccountView:
        """Compute the view of ``account`` under ``p``."""
        cfg = p.cfg
        ex = exposure(account)
        positions = {pos.symbol: pos for pos in account.positions}
        prof = account_profile(ex.equity, cfg.account_tiers)
        phase = account_phase(ex.equity, cfg.phases) if p.phases_enabled else None
        zone = margin_zone(ex.margin_used_pct, cfg.margin_zones)
        if p.tiers_enabled:
            tiers = tier_margin_rooms(ex.margin_by_symbol, ex.equity, ex.available, p.tiers,
                                      p.tier_members, p.default_tier)
            members = p.tier_members
        else:
            tiers, members = {}, {}
        worst = worst_scored(account.positions) if p.opportunity_enabled else (None, None)
        margin_note = f"margin zone GREEN ({ex.margin_used_pct:.1%} used): x1" \
            if zone is MarginZone.GREEN else ""
        fixed = account_base(p, ex.equity, prof)
        base = None if fixed is None else (
            fixed[0], Adjustment("base_size", fixed[1], 0.0, fixed[0], fixed[2]))
        return cls(account, ex, positions, prof, phase, zone, tiers, members, worst,
                   margin_note, base)

    def drawdown(self, state: DeskState, now: datetime, p: DeskParams) -> DrawdownEntry:
        """:func:`~riskdesk.limits.drawdown_status` of this account, with what goes with it.

        The status is a pure function of the account, the recorded breaker and level, and the
        time, so one evaluation serves every order decided against the same account and
        state. The time only matters through the breaker: while it is not tripped (and this
        evaluation does not trip it) the status is the same at any time, and is kept for
        every ``now``; otherwise it is kept for the one ``now`` it was computed at.
        """
        hit = self._dd.get(id(state))
        if hit is not None and hit.state is state and (hit.now is None or hit.now == now):
            return hit
        dd = drawdown_status(self.account, state.breaker, now, p.cfg.drawdown,
                             state.drawdown_level, state.drawdown_multiplier)
        m = dd.size_multiplier
        note = f"{dd.level.value} drawdown {dd.drawdown:.2%}: size x{m:g}"
        timeless = not state.breaker.tripped and not dd.breaker_tripped_now
        adjust = None
        if self.base is not None:
            size = self.base[0]
            adjust = Adjustment("adjust", ReasonCode.DRAWDOWN, size, size * m, note)
        entry = DrawdownEntry(state, None if timeless else now, dd, note,
                               state_unchanged(state, dd), adjust)
        if len(self._dd) > 64:
            self._dd.clear()
        self._dd[id(state)] = entry
        return entry


def below_tiers_note(equity: float, tiers: dict[str, AccountTier]) -> str:
    """The trail note of an opener refused because ``equity`` is below every account tier.

    Such an account has no tier, so none of the smallest tier's limits (positions, leverage
    range, symbols) would bind it: it is refused rather than given looser limits than an
    account at the smallest tier's minimum.
    """
    name, tier = min(tiers.items(), key=lambda item: item[1].min_equity)
    return (f"equity {equity:,.2f} is below every account tier (the smallest, {name}, "
            f"starts at {tier.min_equity:,.2f})")


class DrawdownEntry(NamedTuple):
    """A drawdown evaluation kept by :meth:`AccountView.drawdown`."""

    state: DeskState  # the desk state it was computed for
    now: datetime | None  # the time, or None when the status holds at any time
    status: DrawdownStatus
    note: str  # the trail note of the drawdown step
    same: bool  # recording the status leaves the desk state as it is
    adjust: Adjustment | None  # the drawdown step applied to AccountView.base
