"""The one typed risk configuration tree, its presets and its loaders."""

from __future__ import annotations

from riskdesk.config._exits_section import Exits, PartialTakeProfit
from riskdesk.config._model import ENV_PREFIX, RiskConfig
from riskdesk.config._sections import (
    AccountTier,
    CapitalStatus,
    CapitalTier,
    CapitalTiers,
    Conviction,
    Drawdown,
    Kelly,
    Leverage,
    Liquidity,
    MarginZones,
    Opportunity,
    Phases,
    PositionSizing,
    RiskManagement,
    Stabilizer,
    Strategies,
    Strategy,
    Vix,
)

__all__ = [
    "ENV_PREFIX",
    "AccountTier",
    "CapitalStatus",
    "CapitalTier",
    "CapitalTiers",
    "Conviction",
    "Drawdown",
    "Exits",
    "Kelly",
    "Leverage",
    "Liquidity",
    "MarginZones",
    "Opportunity",
    "PartialTakeProfit",
    "Phases",
    "PositionSizing",
    "RiskConfig",
    "RiskManagement",
    "Stabilizer",
    "Strategies",
    "Strategy",
    "Vix",
]
