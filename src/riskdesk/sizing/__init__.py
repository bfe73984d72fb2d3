"""Sizing models: pure functions and small policy objects, plain floats inside.

Base sizes: :func:`fixed_fraction_notional`, :func:`conviction_notional` (seed 003),
:func:`compute_size` (seed 000), :func:`kelly_binary` / :func:`kelly_mu_sigma` (seed 002),
:func:`stop_distance_qty`, :func:`volatility_target_notional`. Adjustments:
:func:`dd_haircut_factor`, :func:`kelly_adjustments` (seed 001), :func:`liquidity_advice`,
:class:`SizingStabilizer`. Leverage: :func:`optimal_leverage` (:func:`leverage_parts`, the
same as a plain tuple, for hot paths). Quantities:
:func:`fraction_to_qty`, :func:`notional_to_qty`. Account size: :func:`account_profile`.
``docs/sizing.md`` gives each formula, its parameters and its seed.
"""

from __future__ import annotations

from riskdesk.sizing._capital_scaling import SizeDecision, compute_size, compute_size_or_reason
from riskdesk.sizing._conviction import ConvictionSize, conviction_notional, conviction_pct
from riskdesk.sizing._fixed import fixed_fraction_notional, margin_required
from riskdesk.sizing._kelly import (
    apply_dd_haircut,
    dd_haircut_factor,
    half_kelly,
    heat_multiplier,
    kelly_adjustments,
    kelly_binary,
    kelly_mu_sigma,
)
from riskdesk.sizing._leverage import LeverageAdvice, leverage_parts, optimal_leverage
from riskdesk.sizing._liquidity import LiquidityAdvice, liquidity_advice
from riskdesk.sizing._profile import account_profile
from riskdesk.sizing._qty import fraction_to_qty, notional_to_qty
from riskdesk.sizing._stabilizer import SizingStabilizer
from riskdesk.sizing._stop import atr_stop_price, stop_distance_qty, volatility_target_notional

__all__ = [
    "ConvictionSize",
    "LeverageAdvice",
    "LiquidityAdvice",
    "SizeDecision",
    "SizingStabilizer",
    "account_profile",
    "apply_dd_haircut",
    "atr_stop_price",
    "compute_size",
    "compute_size_or_reason",
    "conviction_notional",
    "conviction_pct",
    "dd_haircut_factor",
    "fixed_fraction_notional",
    "fraction_to_qty",
    "half_kelly",
    "heat_multiplier",
    "kelly_adjustments",
    "kelly_binary",
    "kelly_mu_sigma",
    "leverage_parts",
    "liquidity_advice",
    "margin_required",
    "notional_to_qty",
    "optimal_leverage",
    "stop_distance_qty",
    "volatility_target_notional",
]
