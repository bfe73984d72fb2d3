"""An account's exposure as plain floats, computed once per account state."""

from __future__ import annotations

from dataclasses import dataclass

from riskdesk.domain import AccountState
from riskdesk.domain._memo import slot_setters


@dataclass(frozen=True, slots=True)
class Exposure:
    """The figures of an account that the caps and gates read.

    Parameters
    ----------
    equity, available, buying_power, margin_used
        As on the account, as floats.
    margin_used_pct
        ``margin_used / equity``, the exact quotient rounded once to a float.
    free_margin_pct
        ``1 - margin_used_pct``, clipped to [0, 1].
    net
        Sum of signed position notionals (long positive, short negative).
    gross
        Sum of absolute position notionals.
    by_symbol
        Signed notional per symbol.
    margin_by_symbol
        Initial margin per symbol (notional / leverage).
    count
        Number of symbols with an open position.
    by_strategy
        Open positions per strategy name.
    drawdown
        Drawdown from the high-water mark as a positive fraction.
    """

    equity: float
    available: float
    buying_power: float
    margin_used: float
    margin_used_pct: float
    free_margin_pct: float
    net: float
    gross: float
    by_symbol: dict[str, float]
    margin_by_symbol: dict[str, float]
    count: int
    by_strategy: dict[str, int]
    drawdown: float

    def __init__(self, equity: float, available: float, buying_power: float,
                 margin_used: float, margin_used_pct: float, free_margin_pct: float,
                 net: float, gross: float, by_symbol: dict[str, float],
                 margin_by_symbol: dict[str, float], count: int, by_strategy: dict[str, int],
                 drawdown: float) -> None:
        # Slots written directly (the frozen dataclass __init__ goes through
        # object.__setattr__ per field); built for every new account state.
        _equity(self, equity)
        _available(self, available)
        _buying_power(self, buying_power)
        _margin_used(self, margin_used)
        _margin_used_pct(self, margin_used_pct)
        _free_margin_pct(self, free_margin_pct)
        _net(self, net)
        _gross(self, gross)
        _by_symbol(self, by_symbol)
        _margin_by_symbol(self, margin_by_symbol)
        _count(self, count)
        _by_strategy(self, by_strategy)
        _drawdown(self, drawdown)

    @property
    def net_delta_pct(self) -> float:
        """Net exposure as a fraction of equity (seed 003's ``net_delta_pct``)."""
        return self.net / self.equity


(_equity, _available, _buying_power, _margin_used, _margin_used_pct, _free_margin_pct, _net,
 _gross, _by_symbol, _margin_by_symbol, _count, _by_strategy, _drawdown) = slot_setters(Exposure)


def exposure(account: AccountState) -> Exposure:
    """Sum an account's positions into an :class:`Exposure`.

    Position notionals are taken at their mark price. The figures come from
    :attr:`AccountState.figures <riskdesk.domain.AccountState.figures>`, which the account
    computes once; the mappings are shared with it and are read-only.

    Parameters
    ----------
    account
        The account.

    Returns
    -------
    Exposure
        The figures.
    """
    f = account.figures
    # The exact quotient, rounded once: margin_used / equity in floats can land one ulp
    # below a zone bound that the exact figure reaches (666203.835 / 888271.78 is 0.75).
    used_pct = account.margin_used_pct
    return Exposure(f.equity, f.available, f.buying_power, f.margin_used, used_pct,
                    min(1.0, max(0.0, 1.0 - used_pct)), f.net, f.gross, f.by_symbol,
                    f.margin_by_symbol, len(f.by_symbol), f.by_strategy, max(0.0, f.drawdown))
