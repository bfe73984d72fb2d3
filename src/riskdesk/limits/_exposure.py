"""An account's exposure as plain floats, computed once per account state."""

from __future__ import annotations

from dataclasses import dataclass

from riskdesk.domain import AccountState


@dataclass(frozen=True, slots=True)
class Exposure:
    """The figures of an account that the caps and gates read.

    Parameters
    ----------
    equity, available, buying_power, margin_used
        As on the account, as floats.
    margin_used_pct
        ``margin_used / equity``.
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

    @property
    def net_delta_pct(self) -> float:
        """Net exposure as a fraction of equity (seed 003's ``net_delta_pct``)."""
        return self.net / self.equity


def exposure(account: AccountState) -> Exposure:
    """Sum an account's positions into an :class:`Exposure`.

    Position notionals are taken at their mark price.

    Parameters
    ----------
    account
        The account.

    Returns
    -------
    Exposure
        The figures.
    """
    net = gross = 0.0
    by_symbol: dict[str, float] = {}
    margin_by_symbol: dict[str, float] = {}
    by_strategy: dict[str, int] = {}
    for p in account.positions:
        n = float(p.notional)
        signed = n if p.side.sign > 0 else -n
        net += signed
        gross += n
        by_symbol[p.symbol] = by_symbol.get(p.symbol, 0.0) + signed
        margin_by_symbol[p.symbol] = margin_by_symbol.get(p.symbol, 0.0) + n / float(p.leverage)
        if p.strategy is not None:
            key = p.strategy.upper()
            by_strategy[key] = by_strategy.get(key, 0) + 1
    equity = float(account.equity)
    used = float(account.margin_used)
    used_pct = used / equity
    assert account.buying_power is not None
    return Exposure(equity, float(account.available), float(account.buying_power), used,
                    used_pct, min(1.0, max(0.0, 1.0 - used_pct)), net, gross, by_symbol,
                    margin_by_symbol, len(by_symbol), by_strategy, max(0.0, account.drawdown))
