"""The configured capital tiers (``RiskConfig.capital_tiers``) as allocation's :class:`TierSpec`."""

from __future__ import annotations

from decimal import Decimal

from riskdesk.allocation._tiers import TierSpec, check_tiers
from riskdesk.config import CapitalTiers
from riskdesk.errors import ConfigError, InvalidInputError


def tiers_from_config(cfg: CapitalTiers) -> tuple[TierSpec, ...]:
    """The ``capital_tiers`` section as checked :class:`TierSpec` values, in config order.

    Targets become Decimals through their shortest decimal spelling (``0.15`` is
    ``Decimal("0.15")``); symbols are kept exactly as written. The section's
    ``default_tier`` is not part of the specs: pass it as ``default`` to
    :func:`~riskdesk.allocation.tier_for_symbol` and :func:`~riskdesk.allocation.tier_exposures`.

    Parameters
    ----------
    cfg
        The ``capital_tiers`` section.

    Returns
    -------
    tuple of TierSpec
        One spec per configured tier, checked with :func:`~riskdesk.allocation.check_tiers`.

    Raises
    ------
    ConfigError
        When the tiers are not coherent as allocation reads them (a symbol listed in two
        tiers, a reserve tier listing symbols, more than one reserve) or ``default_tier`` names
        the reserve, which is never allocated. The message names the configuration key.
    """
    if not isinstance(cfg, CapitalTiers):
        raise InvalidInputError("capital_tiers", cfg, "a CapitalTiers configuration section")
    try:
        specs = check_tiers([
            TierSpec(name, Decimal(repr(t.target_pct)), t.min_leverage, t.max_leverage,
                     frozenset(t.symbols), t.reserve)
            for name, t in cfg.tiers.items()])
    except InvalidInputError as exc:
        raise ConfigError(f"capital_tiers.{exc.field}: got {exc.value!r}, expected "
                          f"{exc.expected}") from None
    if cfg.tiers[cfg.default_tier].reserve:
        raise ConfigError(f"capital_tiers.default_tier: {cfg.default_tier!r} is the reserve "
                          "tier, which is never allocated; name a tier that can hold positions")
    return specs
