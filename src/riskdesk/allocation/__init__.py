"""Allocation across assets: risk parity, the mean-variance family, multi-asset Kelly, tiers.

Every optimiser returns an :class:`AllocationResult` that says whether the solve converged,
how many iterations it took and the residual it achieved; a solve that misses its tolerance
raises :class:`riskdesk.errors.ComputationError` unless the caller asks for the flagged result
with ``on_failure="return"``. Bad input raises :class:`riskdesk.errors.InvalidInputError`.

Covariances can be passed as plain arrays (checked on every call) or as a
:class:`Covariance`, checked once; the estimators (:func:`sample_covariance`,
:func:`ledoit_wolf`, :func:`ewma_covariance`) return the latter.

Capital tiers (:class:`TierSpec`, from the configuration with :func:`tiers_from_config`) are
the one implementation of tier membership (exact symbols, else a default tier), budgets and
rebalancing; the desk's tier cap and the service's multi-tier view read them.

Weights are fractions of equity. Everything here is pure: no I/O and no clock reads (time is
passed in).
"""

from riskdesk.allocation._covariance import (
    Covariance,
    ewma_covariance,
    ledoit_wolf,
    sample_covariance,
)
from riskdesk.allocation._kelly import kelly_weights
from riskdesk.allocation._mean_variance import max_sharpe, mean_variance, min_variance
from riskdesk.allocation._rebalance import RebalanceCheck, rebalance_due
from riskdesk.allocation._result import AllocationResult, risk_contributions, scale_leverage
from riskdesk.allocation._risk_parity import inverse_volatility, risk_parity
from riskdesk.allocation._tier_config import tiers_from_config
from riskdesk.allocation._tiers import (
    DEFAULT_TIERS,
    TierBudget,
    TierSpec,
    check_tiers,
    tier_budgets,
    tier_exposures,
    tier_for_symbol,
    tier_members,
    tier_rooms,
)

__all__ = [
    "DEFAULT_TIERS",
    "AllocationResult",
    "Covariance",
    "RebalanceCheck",
    "TierBudget",
    "TierSpec",
    "check_tiers",
    "ewma_covariance",
    "inverse_volatility",
    "kelly_weights",
    "ledoit_wolf",
    "max_sharpe",
    "mean_variance",
    "min_variance",
    "rebalance_due",
    "risk_contributions",
    "risk_parity",
    "sample_covariance",
    "scale_leverage",
    "tier_budgets",
    "tier_exposures",
    "tier_for_symbol",
    "tier_members",
    "tier_rooms",
    "tiers_from_config",
]
