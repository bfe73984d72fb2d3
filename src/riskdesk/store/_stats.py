"""Trade statistics for Kelly: win rate and win/loss ratio, shrunk toward a prior."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from riskdesk.errors import InvalidInputError
from riskdesk.store._base import StoreBase, check_float
from riskdesk.store._fills import FillOps


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Win rate and win/loss ratio of closed trades.

    Parameters
    ----------
    n
        Closed trades counted (fills with a realized PnL); a zero PnL counts as a non-win.
    wins, losses
        Trades with a positive and a negative realized PnL.
    win_rate
        ``(wins + prior_win_rate * prior_weight) / (n + prior_weight)``.
    win_loss_ratio
        The raw ratio shrunk toward the prior with weight ``min(wins, losses)`` against
        ``prior_weight``: the ratio is only as well known as its scarcer side. The prior alone
        when there are no wins or no losses.
    raw_win_rate
        ``wins / n``, or ``None`` without trades.
    raw_win_loss_ratio
        Average win / average loss, or ``None`` without both wins and losses.
    sufficient
        ``n >= min_trades``: enough history to size from the estimates alone.
    """

    n: int
    wins: int
    losses: int
    win_rate: float
    win_loss_ratio: float
    raw_win_rate: float | None
    raw_win_loss_ratio: float | None
    sufficient: bool


def shrunk_stats(pnls: Iterable[Decimal], *, min_trades: int = 30,
                 prior_win_rate: float = 0.5, prior_win_loss_ratio: float = 1.0,
                 prior_weight: float = 20) -> TradeStats:
    """Estimate win rate and win/loss ratio from realized PnLs with shrinkage.

    Parameters
    ----------
    pnls
        Realized profit or loss of each closed trade.
    min_trades
        Trades needed for ``sufficient``.
    prior_win_rate
        Prior win rate, in [0, 1].
    prior_win_loss_ratio
        Prior average-win / average-loss ratio, > 0.
    prior_weight
        How many trades the prior is worth, >= 0.

    Returns
    -------
    TradeStats
        The estimates.
    """
    if isinstance(min_trades, bool) or not isinstance(min_trades, int) or min_trades < 0:
        raise InvalidInputError("min_trades", min_trades, "an int >= 0")
    p_rate = check_float(prior_win_rate, "prior_win_rate")
    if not 0.0 <= p_rate <= 1.0:
        raise InvalidInputError("prior_win_rate", prior_win_rate, "a fraction in [0, 1]")
    p_ratio = check_float(prior_win_loss_ratio, "prior_win_loss_ratio")
    if p_ratio <= 0:
        raise InvalidInputError("prior_win_loss_ratio", prior_win_loss_ratio, "> 0")
    w = check_float(prior_weight, "prior_weight")
    if w < 0:
        raise InvalidInputError("prior_weight", prior_weight, ">= 0")
    values = list(pnls)
    won = [v for v in values if v > 0]
    lost = [-v for v in values if v < 0]
    n, wins, losses = len(values), len(won), len(lost)
    raw_rate = wins / n if n else None
    raw_ratio = None
    if wins and losses:
        raw_ratio = float((sum(won, Decimal(0)) / wins) / (sum(lost, Decimal(0)) / losses))
    rate = (wins + p_rate * w) / (n + w) if n > 0 else p_rate
    k = min(wins, losses)
    ratio = p_ratio if raw_ratio is None else (k * raw_ratio + w * p_ratio) / (k + w)
    return TradeStats(n, wins, losses, rate, ratio, raw_rate, raw_ratio, n >= min_trades)


class StatsOps(FillOps, StoreBase):
    """Trade statistics from recorded fills."""

    def trade_stats(self, strategy: str | None = None, symbol: str | None = None, *,
                    min_trades: int = 30, prior_win_rate: float = 0.5,
                    prior_win_loss_ratio: float = 1.0,
                    prior_weight: float = 20) -> TradeStats:
        """Win rate and win/loss ratio of closed trades, for Kelly sizing.

        A closed trade is a recorded fill with a realized PnL. See :func:`shrunk_stats` for
        the estimates and the parameters.

        Parameters
        ----------
        strategy, symbol
            Restrict to one strategy and/or one symbol; all fills when ``None``.
        min_trades, prior_win_rate, prior_win_loss_ratio, prior_weight
            See :func:`shrunk_stats`.

        Returns
        -------
        TradeStats
            The estimates.
        """
        pnls = self.realized_pnls(strategy=strategy, symbol=symbol)
        return shrunk_stats(pnls, min_trades=min_trades, prior_win_rate=prior_win_rate,
                            prior_win_loss_ratio=prior_win_loss_ratio,
                            prior_weight=prior_weight)
