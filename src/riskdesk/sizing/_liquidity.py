"""Seed 001's liquidity-aware sizing: market impact from the order book, and how to execute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from riskdesk.config import Liquidity
from riskdesk.domain import BookLevel, ExecutionMethod
from riskdesk.sizing._checks import INF, bad


@dataclass(frozen=True, slots=True)
class LiquidityAdvice:
    """What the order book says about an order of a given size.

    Parameters
    ----------
    impact
        Estimated market impact as a fraction: ``|average fill price - best price| / best``
        when the order walks the book.
    multiplier
        Size multiplier: 1, ``1 - impact_moderate_reduction`` above ``impact_moderate``, or
        ``1 - impact_severe_reduction`` above ``impact_severe`` (or when the order is larger
        than every level walked).
    visible_liquidity
        Notional resting in the first ``near_levels`` levels.
    execution_method
        ``ICEBERG`` above ``iceberg_fraction`` of the visible liquidity, ``TWAP`` above
        ``twap_fraction``, otherwise ``LIMIT``.
    share
        The order's notional as a fraction of ``visible_liquidity`` (``inf`` when nothing is
        visible).
    levels_walked
        How many levels the fill estimate used.
    exceeds_book
        True when the order is larger than every level walked.
    reason
        Why no estimate was made (empty book, disabled), or ``""``.
    """

    impact: float
    multiplier: float
    visible_liquidity: float
    execution_method: ExecutionMethod
    share: float = 0.0
    levels_walked: int = 0
    exceeds_book: bool = False
    reason: str = ""

    @property
    def note(self) -> str:
        """The figures behind the advice, in words (built on demand)."""
        if self.reason:
            return self.reason
        return (f"impact {self.impact:.4%} over {self.levels_walked} levels"
                f"{' (order exceeds the levels walked)' if self.exceeds_book else ''}, "
                f"size x{self.multiplier:g}; order is {self.share:.1%} of "
                f"{self.visible_liquidity:,.2f} visible -> {self.execution_method.value}")


def liquidity_advice(notional: float, price: float, levels: Sequence[BookLevel],
                     cfg: Liquidity, *, contract_size: float = 1.0, one_sided: bool = False,
                     field: str = "levels") -> LiquidityAdvice:
    """Estimate the impact of an order of ``notional`` and advise a size cut and a method.

    The order, ``notional / (price x contract_size)`` contracts, is filled level by level
    through the first ``far_levels`` levels of the side it takes (asks for a buy, bids for a
    sell, best first); what remains beyond them is priced at the last level walked and the
    order is treated as severe. An empty book gives multiplier 1 and ``LIMIT`` with a note:
    whether trading without depth data is allowed is the desk's decision. An empty side of a
    book whose other side has levels (``one_sided``) is not missing data but a side with
    nothing to fill against: severe, like a side whose levels hold no size.

    Parameters
    ----------
    notional
        Order value in quote currency, >= 0.
    price
        Reference price used to turn the notional into contracts, > 0.
    levels
        Book levels of the side the order takes, best first (prices moving away from the
        best, never back towards it); sizes in contracts, the unit of the market's
        quantities.
    cfg
        The ``liquidity`` configuration section.
    contract_size
        Units per contract (the market's ``contract_size``), finite and > 0: a level's value
        is ``price x size x contract_size``.
    one_sided
        True when ``levels`` is empty but the book's other side is not.
    field
        Name of ``levels`` in errors (the desk passes ``"market.asks"`` or
        ``"market.bids"``).

    Returns
    -------
    LiquidityAdvice
        Impact, size multiplier, visible liquidity and execution method.

    Raises
    ------
    InvalidInputError
        Naming the argument or the book level out of range.
    """
    if not 0.0 <= notional < INF:
        bad("notional", notional, "a finite number >= 0")
    if not 0.0 < price < INF:
        bad("price", price, "a finite number > 0")
    if not 0.0 < contract_size < INF:
        bad("contract_size", contract_size, "a finite number > 0")
    if not cfg.enabled:
        return LiquidityAdvice(0.0, 1.0, 0.0, ExecutionMethod.LIMIT,
                               reason="liquidity sizing disabled")
    if not levels:
        if one_sided:
            return LiquidityAdvice(
                0.0, 1.0 - cfg.impact_severe_reduction, 0.0,
                ExecutionMethod.ICEBERG if notional > 0.0 else ExecutionMethod.LIMIT,
                INF if notional > 0.0 else 0.0, 0, notional > 0.0,
                f"{field} is empty while the other side has levels: nothing to fill "
                f"against, size x{1.0 - cfg.impact_severe_reduction:g}")
        return LiquidityAdvice(0.0, 1.0, 0.0, ExecutionMethod.LIMIT,
                               reason="no order book levels: impact not estimated")

    want = notional / (price * contract_size)
    remaining = want
    # Accumulate each fill's distance from the best price, not its cost: a fill at the best
    # price then adds exactly zero, whatever the order's size.
    shortfall = 0.0
    visible = 0.0
    best = levels[0].price
    last = best
    near, far = cfg.near_levels, cfg.far_levels
    walked = 0
    prev = best
    # Prices move away from the best (up for asks, down for bids): the first level priced
    # away from the best sets the direction, and a level that turns back is an error.
    way = 0.0
    for i, level in enumerate(levels):
        walking = i < far and remaining > 0.0
        if not walking and i >= near:
            break
        p, size = level.price, level.size
        if not 0.0 < p < INF:
            bad(f"{field}[{i}].price", p, "a finite price > 0")
        if not 0.0 <= size < INF:
            bad(f"{field}[{i}].size", size, "a finite size >= 0")
        # Levels out of order would net fills below and above the best against each other.
        step = p - prev
        if step * way < 0.0:
            bad(f"{field}[{i}].price", p,
                f"levels ordered from the best, moving away from {best:g} (after {prev:g})")
        if way == 0.0 and step != 0.0:
            way = 1.0 if step > 0.0 else -1.0
        prev = p
        if i < near:
            visible += p * size * contract_size
        if walking:
            take = size if size < remaining else remaining
            shortfall += take * (p - best)
            remaining -= take
            last = p
            walked = i + 1
    exhausted = remaining > 1e-12 * want
    if remaining > 0.0:
        shortfall += remaining * (last - best)
    impact = abs(shortfall) / want / best if want > 0.0 else 0.0

    if exhausted or impact > cfg.impact_severe:
        multiplier = 1.0 - cfg.impact_severe_reduction
    elif impact > cfg.impact_moderate:
        multiplier = 1.0 - cfg.impact_moderate_reduction
    else:
        multiplier = 1.0
    share = notional / visible if visible > 0.0 else (INF if notional > 0.0 else 0.0)
    if share > cfg.iceberg_fraction:
        method = ExecutionMethod.ICEBERG
    elif share > cfg.twap_fraction:
        method = ExecutionMethod.TWAP
    else:
        method = ExecutionMethod.LIMIT
    return LiquidityAdvice(impact, multiplier, visible, method, share, walked, exhausted)
