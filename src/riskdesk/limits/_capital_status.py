"""Seed 001's capital state and capital status (HEALTHY / WARNING / CRITICAL / EMERGENCY)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from riskdesk.config import CapitalStatus
from riskdesk.domain import AccountState
from riskdesk.limits._ladder import ladder_zone


class CapitalStatusLevel(StrEnum):
    """How much of the account's capital is tied up in margin."""

    HEALTHY = "HEALTHY"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    EMERGENCY = "EMERGENCY"


# The levels above HEALTHY, highest first, as the ladder reads them.
_LEVELS = (CapitalStatusLevel.EMERGENCY, CapitalStatusLevel.CRITICAL, CapitalStatusLevel.WARNING)


def capital_status(margin_used_pct: float, cfg: CapitalStatus) -> CapitalStatusLevel:
    """The capital status of a margin use.

    Parameters
    ----------
    margin_used_pct
        Margin used as a fraction (0.16 = 16%), finite and >= 0.
    cfg
        The ``capital_status`` section: WARNING from ``warning``, CRITICAL from ``critical``,
        EMERGENCY from ``emergency`` (each bound included), HEALTHY below.

    Returns
    -------
    CapitalStatusLevel
        The status.

    Raises
    ------
    InvalidInputError
        If ``margin_used_pct`` is negative or not finite.
    """
    return ladder_zone(margin_used_pct, (cfg.emergency, cfg.critical, cfg.warning), _LEVELS,
                       CapitalStatusLevel.HEALTHY, field="margin_used_pct")


@dataclass(frozen=True, slots=True)
class CapitalState:
    """Seed 001's ``/api/capital/state`` figures.

    Parameters
    ----------
    total_wallet_balance
        Equity minus unrealized PnL.
    available_balance
        Balance free for new margin.
    margin_used
        Margin tied up.
    margin_used_pct
        Margin used in percent of the wallet balance (16.0 = 16%), as the seed reports it.
    unrealized_pnl
        Unrealized profit or loss.
    buying_power
        What the broker lets the account buy.
    capital_status
        Status from the margin used as a fraction of the wallet balance.
    """

    total_wallet_balance: Decimal
    available_balance: Decimal
    margin_used: Decimal
    margin_used_pct: float
    unrealized_pnl: Decimal
    buying_power: Decimal
    capital_status: CapitalStatusLevel

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with money as floats, as the seed's API shows it."""
        return {"total_wallet_balance": float(self.total_wallet_balance),
                "available_balance": float(self.available_balance),
                "margin_used": float(self.margin_used),
                "margin_used_pct": self.margin_used_pct,
                "unrealized_pnl": float(self.unrealized_pnl),
                "buying_power": float(self.buying_power),
                "capital_status": self.capital_status.value}


def capital_state(account: AccountState, cfg: CapitalStatus) -> CapitalState:
    """Seed 001's capital state of an account.

    ``margin_used_pct`` is taken on the wallet balance (equity minus unrealized PnL), which is
    what reproduces the seed's example (800 of a 5,000 wallet = 16.0). The margin zones use
    margin over equity instead (see :func:`riskdesk.limits.margin_status`), which is the
    stricter of the two when positions are losing.

    Parameters
    ----------
    account
        The account.
    cfg
        The ``capital_status`` section.

    Returns
    -------
    CapitalState
        The figures.

    Examples
    --------
    >>> from riskdesk.config import CapitalStatus
    >>> from riskdesk.domain import AccountState
    >>> s = capital_state(AccountState(equity=4950, available=4200, margin_used=800,
    ...                                unrealized_pnl=-50, buying_power=25000), CapitalStatus())
    >>> (float(s.total_wallet_balance), s.margin_used_pct, s.capital_status.value)
    (5000.0, 16.0, 'HEALTHY')
    """
    wallet = account.equity - account.unrealized_pnl
    # A wallet at or below zero (unrealized gains larger than equity) cannot be a base.
    base = wallet if wallet > 0 else account.equity
    used = float(account.margin_used / base)
    # The status reads the fraction itself: x 100 / 100 can land one ulp below a bound.
    status = capital_status(used, cfg)
    pct = used * 100.0
    assert account.buying_power is not None
    return CapitalState(wallet, account.available, account.margin_used, pct,
                        account.unrealized_pnl, account.buying_power, status)
