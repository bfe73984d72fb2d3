"""Seed 001's opportunity-cost decision tree: weigh a new trade against the positions held."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from riskdesk.config import Opportunity
from riskdesk.domain import Position
from riskdesk.errors import InvalidInputError


class OpportunityAction(StrEnum):
    """The answers of the decision tree."""

    ENTER_AND_CLOSE_WORST = "ENTER_AND_CLOSE_WORST"
    ENTER = "ENTER"
    SKIP = "SKIP"
    HOLD = "HOLD"


@dataclass(frozen=True, slots=True)
class OpportunityAdvice:
    """What the opportunity-cost analysis advises.

    Parameters
    ----------
    action
        ENTER_AND_CLOSE_WORST, ENTER, SKIP or HOLD.
    worst_symbol
        The open position with the lowest score, when one has a score (never the new trade's
        own symbol).
    worst_score
        Its score.
    note
        The rule that decided, with the figures.
    """

    action: OpportunityAction
    worst_symbol: str | None
    worst_score: float | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"action": self.action.value, "worst_symbol": self.worst_symbol,
                "worst_score": self.worst_score, "note": self.note}


def worst_scored(positions: Sequence[Position], exclude: str | None = None
                 ) -> tuple[str | None, float | None]:
    """The open position with the lowest score, as ``(symbol, score)``.

    ``(None, None)`` when no position has a score; the first of equal scores wins. A position
    in ``exclude`` (the symbol of the order being weighed) is left out.
    """
    worst_symbol: str | None = None
    worst_score: float | None = None
    for p in positions:
        if p.score is not None and (worst_score is None or p.score < worst_score) \
                and p.symbol != exclude:
            worst_symbol, worst_score = p.symbol, p.score
    return worst_symbol, worst_score


def opportunity_cost(new_score: float, positions: Sequence[Position], free_margin_pct: float,
                     cfg: Opportunity, *,
                     worst: tuple[str | None, float | None] | None = None,
                     symbol: str | None = None) -> OpportunityAdvice:
    """Seed 001's decision tree, in its order.

    1. ``new_score > worst position's score + replace_margin`` -> ENTER_AND_CLOSE_WORST;
    2. ``new_score > enter_score`` and ``free_margin_pct > enter_free_margin`` -> ENTER;
    3. ``free_margin_pct < skip_free_margin`` -> SKIP;
    4. otherwise HOLD.

    With no open position there is nothing to weigh the trade against, so the answer is
    ENTER (the tree read literally would HOLD every first trade scoring 80 or less, which
    contradicts the seed's own $500 and $2,500 examples). Positions without a score take no
    part in rule 1, and neither does a position in the new trade's own ``symbol``: the trade
    adds to it (a trade on the other side reduces it and is never weighed here), so closing
    it to make room would undo the trade. With no other scored position, rule 1 does not
    apply and rules 2-4 decide.

    Parameters
    ----------
    new_score
        Score of the new signal (seed 001's 0-100 scale), finite.
    positions
        Open positions; their ``score`` is compared.
    free_margin_pct
        Free margin as a fraction of equity, in [0, 1].
    cfg
        The ``opportunity`` section.
    worst
        :func:`worst_scored` of ``positions`` when the caller already has it (the desk keeps
        it per account state); computed here when ``None``, or when it names ``symbol``.
    symbol
        The new trade's symbol; its own position is never the one to close.

    Returns
    -------
    OpportunityAdvice
        The action and why.

    Examples
    --------
    >>> from riskdesk.config import Opportunity
    >>> from riskdesk.domain import Position
    >>> held = [Position("ETHUSDT", "LONG", 1, 3000, score=60.0)]
    >>> opportunity_cost(75.0, held, 0.6, Opportunity()).action.value
    'ENTER_AND_CLOSE_WORST'
    """
    return OpportunityAdvice(*opportunity_parts(new_score, positions, free_margin_pct, cfg,
                                                worst, symbol))


def opportunity_parts(new_score: float, positions: Sequence[Position], free_margin_pct: float,
                      cfg: Opportunity, worst: tuple[str | None, float | None] | None = None,
                      symbol: str | None = None
                      ) -> tuple[OpportunityAction, str | None, float | None, str]:
    """:func:`opportunity_cost` as a plain tuple, for callers on a hot path.

    Same arguments (``worst`` and ``symbol`` positional), same checks and the same answer,
    without building an :class:`OpportunityAdvice`.

    Returns
    -------
    tuple of (OpportunityAction, str or None, float or None, str)
        ``(action, worst_symbol, worst_score, note)`` as in :class:`OpportunityAdvice`.
    """
    if not -math.inf < new_score < math.inf:
        raise InvalidInputError("new_score", new_score, "a finite score")
    if not 0.0 <= free_margin_pct <= 1.0:
        raise InvalidInputError("free_margin_pct", free_margin_pct, "a fraction in [0, 1]")
    if not positions:
        return (OpportunityAction.ENTER, None, None, "no open position to compare against")
    if worst is None or (symbol is not None and worst[0] == symbol):
        worst_symbol, worst_score = worst_scored(positions, symbol)
    else:
        worst_symbol, worst_score = worst
    if worst_score is not None and new_score > worst_score + cfg.replace_margin:
        return (
            OpportunityAction.ENTER_AND_CLOSE_WORST, worst_symbol, worst_score,
            f"score {new_score:g} > worst position {worst_symbol} {worst_score:g} + "
            f"{cfg.replace_margin:g}")
    if new_score > cfg.enter_score and free_margin_pct > cfg.enter_free_margin:
        return (
            OpportunityAction.ENTER, worst_symbol, worst_score,
            f"score {new_score:g} > {cfg.enter_score:g} and free margin "
            f"{free_margin_pct:.0%} > {cfg.enter_free_margin:.0%}")
    if free_margin_pct < cfg.skip_free_margin:
        return (
            OpportunityAction.SKIP, worst_symbol, worst_score,
            f"free margin {free_margin_pct:.0%} < {cfg.skip_free_margin:.0%}")
    return (
        OpportunityAction.HOLD, worst_symbol, worst_score,
        f"score {new_score:g} does not beat the positions held"
        + ("" if worst_score is None else f" (worst {worst_symbol} {worst_score:g})")
        + "; keep capital for a better opportunity")
