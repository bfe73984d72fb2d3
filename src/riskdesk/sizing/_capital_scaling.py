"""Seed 000's capital scaling: ``|weight| x portfolio value x capital utilization factor``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from riskdesk.config import PositionSizing
from riskdesk.domain import MarketRules, ReasonCode
from riskdesk.sizing._checks import INF, bad, exact
from riskdesk.sizing._qty import market_limits, whole_steps


@dataclass(frozen=True, slots=True)
class SizeDecision:
    """The target size seed 000's ``compute_size`` settles on.

    Parameters
    ----------
    symbol
        Instrument.
    qty
        Target quantity, signed like the target weight (negative for a short).
    ref_price
        Price the size was computed at.
    notional
        ``|qty| x ref_price x contract_size``.
    intended_val
        ``|target_weight| x portfolio_value x capital_utilization_factor``, before caps.
    capped_val
        The intended value after the order, trade-size and per-symbol caps.
    binding
        The cap that set the size (``CAP_ORDER_NOTIONAL``, ``CAP_MAX_TRADE_SIZE``,
        ``CAP_SYMBOL`` or ``CAP_MARKET_MAX_QTY``), or ``None`` when none did.
    """

    symbol: str
    qty: Decimal
    ref_price: float
    notional: float
    intended_val: float
    capped_val: float
    binding: ReasonCode | None

    def log_line(self) -> str:
        """The seed's log format.

        Returns
        -------
        str
            For example ``"SizeDecision: AAPL qty=-22 (TARGET), notional=4989.60,
            intended_val=41819.22"``.
        """
        return (f"SizeDecision: {self.symbol} qty={self.qty} (TARGET), "
                f"notional={self.notional:.2f}, intended_val={self.intended_val:.2f}")


def compute_size_or_reason(symbol: str, target_weight: float, price: float,
                           portfolio_value: float, cfg: PositionSizing, *,
                           rules: MarketRules | None = None,
                           max_order_notional: float | None = None,
                           min_notional: float | None = None) -> SizeDecision | ReasonCode:
    """Like :func:`compute_size`, but says why no size came out.

    Returns
    -------
    SizeDecision or ReasonCode
        The size, or ``SIGNAL_BELOW_THRESHOLD`` (``|target_weight| < signal_threshold``),
        ``ZERO_AFTER_QUANTIZE`` (fewer than ``min_shares``, or nothing left on the market's
        grid) or ``BELOW_MIN_NOTIONAL`` (below ``min_trade_size`` or ``min_notional``).

    See Also
    --------
    compute_size : parameters and caps.
    """
    if not -INF < target_weight < INF:
        bad("target_weight", target_weight, "a finite number")
    if not 0.0 < price < INF:
        bad("price", price, "a finite number > 0")
    if not 0.0 < portfolio_value < INF:
        bad("portfolio_value", portfolio_value, "a finite number > 0")
    weight = abs(target_weight)
    if weight < cfg.signal_threshold:
        return ReasonCode.SIGNAL_BELOW_THRESHOLD

    intended = weight * portfolio_value * cfg.capital_utilization_factor
    capped = intended
    binding: ReasonCode | None = None
    order_cap = cfg.order_notional_cap
    if max_order_notional is not None:
        if not 0.0 <= max_order_notional < INF:
            bad("max_order_notional", max_order_notional, "a finite number >= 0")
        if max_order_notional < order_cap:
            order_cap = max_order_notional
    if order_cap < capped:
        capped, binding = order_cap, ReasonCode.CAP_ORDER_NOTIONAL
    if cfg.max_trade_size < capped:
        capped, binding = cfg.max_trade_size, ReasonCode.CAP_MAX_TRADE_SIZE
    symbol_cap = cfg.max_position_size * portfolio_value
    if symbol_cap < capped:
        capped, binding = symbol_cap, ReasonCode.CAP_SYMBOL

    raw = whole_steps(capped, price, rules, lambda: exact(capped))
    if rules is None:
        qty = raw
        contract_size = 1.0
    else:
        qty = market_limits(raw, price, rules)
        if rules.max_qty is not None and raw > rules.max_qty and qty > 0:
            binding = ReasonCode.CAP_MARKET_MAX_QTY
        contract_size = float(rules.contract_size)
    if qty == 0 or float(qty) < cfg.min_shares:
        return ReasonCode.ZERO_AFTER_QUANTIZE
    notional = float(qty) * price * contract_size
    if notional < cfg.min_trade_size:
        return ReasonCode.BELOW_MIN_NOTIONAL
    if min_notional is not None:
        if not 0.0 <= min_notional < INF:
            bad("min_notional", min_notional, "a finite number >= 0")
        if notional < min_notional:
            return ReasonCode.BELOW_MIN_NOTIONAL
    if target_weight < 0:
        qty = -qty
    return SizeDecision(symbol, qty, price, notional, intended, capped, binding)


def compute_size(symbol: str, target_weight: float, price: float, portfolio_value: float,
                 cfg: PositionSizing, *, rules: MarketRules | None = None,
                 max_order_notional: float | None = None,
                 min_notional: float | None = None) -> SizeDecision | None:
    """Seed 000's target size: scaled weight, capped, in whole shares or market steps.

    ``intended = |target_weight| x portfolio_value x capital_utilization_factor``;
    ``capped = min(intended, order cap, max_trade_size, max_position_size x portfolio_value)``
    where the order cap is the tighter of ``cfg.order_notional_cap`` and
    ``max_order_notional``; ``qty = floor(capped / price)`` shares (or, with ``rules``, the
    capped value rounded down onto the market's step grid), signed like the weight.

    Parameters
    ----------
    symbol
        Instrument.
    target_weight
        Target portfolio weight, signed (negative for a short), finite.
    price
        Reference price, > 0.
    portfolio_value
        Total portfolio value, > 0.
    cfg
        The ``position_sizing`` configuration section.
    rules
        The market's rules; ``None`` sizes in whole shares as the seed does.
    max_order_notional
        A per-order cap from the caller (seed 000 passes the risk section's); only tightens
        ``cfg.order_notional_cap``.
    min_notional
        Smallest order value from the caller; smaller sizes give ``None``.

    Returns
    -------
    SizeDecision or None
        ``None`` when ``|target_weight| < signal_threshold``, when the quantity is zero or
        below ``min_shares``, or when its value is below ``min_trade_size`` or
        ``min_notional``.

    Raises
    ------
    InvalidInputError
        Naming the first argument that is not finite or out of range.

    Examples
    --------
    Seed 000's AAPL line: a 10.72% short weight of a $195,000 portfolio at 2x, price $226.80,
    under a $5,000 order cap:

    >>> from riskdesk.config import PositionSizing
    >>> cfg = PositionSizing(capital_utilization_factor=2.0, signal_threshold=0.02)
    >>> d = compute_size("AAPL", -41819.22 / 390_000, 226.80, 195_000, cfg,
    ...                  max_order_notional=5000)
    >>> d.log_line()
    'SizeDecision: AAPL qty=-22 (TARGET), notional=4989.60, intended_val=41819.22'
    """
    out = compute_size_or_reason(symbol, target_weight, price, portfolio_value, cfg,
                                 rules=rules, max_order_notional=max_order_notional,
                                 min_notional=min_notional)
    return out if isinstance(out, SizeDecision) else None
