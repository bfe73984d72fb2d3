"""What the desk reads from its configuration and from an account, computed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from riskdesk.config import AccountTier, CapitalTier, RiskConfig
from riskdesk.domain import AccountState, Position
from riskdesk.limits import (
    DrawdownStatus,
    Exposure,
    LimitParams,
    MarginZone,
    account_phase,
    drawdown_status,
    exposure,
    margin_zone,
    tier_members,
    tier_rooms,
)
from riskdesk.sizing import account_profile

from ._state import DeskState

#: Base-size methods and the reason code their trail entry carries.
METHODS = ("fixed_fraction", "conviction", "capital_scaling", "kelly", "stop_risk",
           "volatility_target", "account_profile")


@dataclass(frozen=True, slots=True)
class DeskParams:
    """The configuration as plain values, read once in ``Desk.__init__``.

    Reading nested pydantic attributes on every order costs more than the arithmetic they
    feed, so the pipeline reads this object instead. Every field mirrors a configuration key.
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
    tier_members: dict[str, str]
    named_strategies: frozenset[str]

    @classmethod
    def from_config(cls, cfg: RiskConfig) -> DeskParams:
        """Read ``cfg`` once."""
        ps, k = cfg.position_sizing, cfg.kelly
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
            tier_members=tier_members(cfg.capital_tiers),
            named_strategies=frozenset(n.upper() for n in cfg.strategies.by_name),
        )


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account's figures the pipeline needs, computed once per (immutable) account.

    Parameters
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
        Capital tier settings and margin room by tier name (empty when tiers are off).
    members
        Capital tier name by listed symbol.
    """

    account: AccountState
    ex: Exposure
    positions: dict[str, Position]
    profile: tuple[str, AccountTier] | None
    phase: int | None
    zone: MarginZone
    tiers: dict[str, tuple[CapitalTier, float]]
    members: dict[str, str]
    _dd: dict[tuple[int, datetime], tuple[DeskState, DrawdownStatus]] = field(
        default_factory=dict, repr=False)

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
            tiers = tier_rooms(ex.margin_by_symbol, ex.equity, ex.available, cfg.capital_tiers,
                               p.tier_members)
            members = p.tier_members
        else:
            tiers, members = {}, {}
        return cls(account, ex, positions, prof, phase, zone, tiers, members)

    def tier_of(self, symbol: str, p: DeskParams) -> tuple[CapitalTier, float]:
        """The capital tier of ``symbol`` and its margin room (tiers enabled)."""
        return self.tiers[self.members.get(symbol, p.cfg.capital_tiers.default_tier)]

    def drawdown(self, state: DeskState, now: datetime, p: DeskParams) -> DrawdownStatus:
        """:func:`~riskdesk.limits.drawdown_status` of this account, remembered per state/time.

        The status is a pure function of the account, the recorded breaker and level, and the
        time, so one evaluation serves every order decided at the same moment.
        """
        key = (id(state), now)
        hit = self._dd.get(key)
        if hit is not None and hit[0] is state:
            return hit[1]
        dd = drawdown_status(self.account, state.breaker, now, p.cfg.drawdown,
                             state.drawdown_level)
        if len(self._dd) > 64:
            self._dd.clear()
        self._dd[key] = (state, dd)
        return dd
