"""Exit plans: the bracket (protective stop and targets) to place with an entry order.

The service fetches what :func:`riskdesk.exits.build_plan` needs and the caller left out
(the market's rules, the broker's last price as the entry, now as the opening time), builds
the plan with the configuration's ``exits`` section and shapes it as the faces answer it.
It decides nothing and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from riskdesk.config import RiskConfig
from riskdesk.domain import Side
from riskdesk.errors import InvalidInputError, StateError
from riskdesk.exits import ExitPlan, build_plan

EntrySource = Literal["request", "broker"]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def exit_plan_view(plan: ExitPlan, *, entry_source: EntrySource,
                   config_name: str) -> dict[str, Any]:
    """An exit plan as the API and the CLI answer it.

    Parameters
    ----------
    plan
        The plan built by :func:`riskdesk.exits.build_plan`.
    entry_source
        ``"request"`` when the caller gave the entry, ``"broker"`` when it is the broker's
        last price.
    config_name
        The configuration the plan's ``exits`` settings come from.

    Returns
    -------
    dict
        :meth:`ExitPlan.to_dict` (symbol, side, entry, quantity, stop, risk_budget, targets)
        plus ``entry_source``, ``risk_per_unit``, ``take_profit``, each target's ``fraction``,
        ``atr``, ``opened_at``, ``time_stop_at``, the market's ``tick``, ``step`` and
        ``contract_size``, ``config_name`` and the ``exits`` settings used. Prices,
        quantities and money are decimal strings.

    Raises
    ------
    InvalidInputError
        On ``opened_at`` when the time stop would fall outside the calendar.
    """
    view = plan.to_dict()
    for row, level in zip(view["targets"], plan.targets, strict=True):
        row["fraction"] = _text(level.fraction)
    time_stop_at = None
    hours = plan.config.time_stop_hours
    if hours is not None and plan.opened_at is not None:
        try:
            time_stop_at = (plan.opened_at + timedelta(hours=hours)).isoformat()
        except OverflowError:
            raise InvalidInputError("opened_at", plan.opened_at,
                                    f"a time at least {hours} hours before the calendar's "
                                    "end (exits.time_stop_hours)") from None
    view.update({
        "entry_source": entry_source,
        "risk_per_unit": _text(plan.risk_per_unit),
        "take_profit": _text(plan.take_profit),
        "atr": _text(plan.atr),
        "opened_at": None if plan.opened_at is None else plan.opened_at.isoformat(),
        "time_stop_at": time_stop_at,
        "tick": str(plan.rules.tick),
        "step": str(plan.rules.step),
        "contract_size": str(plan.rules.contract_size),
        "config_name": config_name,
        "exits": plan.config.model_dump(mode="json"),
    })
    return view


class Exiting:
    """The exit-plan half of :class:`~riskdesk.service.Service` (see the module notes)."""

    config: RiskConfig
    config_name: str
    broker: Any
    clock: Callable[[], datetime]

    def exit_plan(self, *, symbol: str, side: Side | str, quantity: Decimal,
                  entry: Decimal | None = None, stop_price: Decimal | None = None,
                  atr: Decimal | None = None,
                  opened_at: datetime | None = None) -> dict[str, Any]:
        """The bracket for a position about to be opened (or just opened).

        Parameters
        ----------
        symbol
            The instrument; the broker's market rules put the stop and targets on its tick.
        side
            LONG or SHORT (BUY and SELL accepted).
        quantity
            The position's quantity, > 0 (the ENTER decision's quantity or the fill's).
        entry
            The entry price; the broker's last price when ``None``.
        stop_price
            An explicit stop; it wins over the configured stop. For the bracket of a desk
            decision, send the decision's ``stop_price`` (the stop its size assumes): without
            it the configured stop applies, which may risk more than the desk approved.
        atr
            ATR in price units; needed by ATR stops and ATR or chandelier trailing.
        opened_at
            When the position opens (timezone-aware); the service's clock when ``None``.
            The time stop counts from it.

        Returns
        -------
        dict
            See :func:`exit_plan_view`.

        Raises
        ------
        UnknownSymbolError
            When the broker does not list ``symbol``.
        StateError
            When no entry was given and the broker has no price for ``symbol``.
        InvalidInputError
            Naming the field, when the plan cannot be built (see
            :func:`riskdesk.exits.build_plan`).
        """
        rules = self.broker.market_rules(symbol)
        source: EntrySource = "request"
        if entry is None:
            entry = self.broker.last_price(symbol)
            source = "broker"
            if entry is None:
                raise StateError(f"no price for {symbol}: send entry or let the broker "
                                 "quote it")
        plan = build_plan(self.config.exits, symbol=symbol, side=side, entry=entry,
                          quantity=quantity, rules=rules, stop_price=stop_price, atr=atr,
                          opened_at=self.clock() if opened_at is None else opened_at)
        return exit_plan_view(plan, entry_source=source, config_name=self.config_name)
