"""ExitPlan: the bracket (entry, stop, targets) and the rules that manage it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from riskdesk.config import Exits
from riskdesk.domain import Decision, Intent, MarketRules, Position, Side, to_decimal
from riskdesk.errors import InvalidInputError
from riskdesk.exits._partials import TargetLevel, build_ladder
from riskdesk.exits._prices import beyond, excursion
from riskdesk.exits._stops import initial_stop, take_profit


@dataclass(frozen=True, slots=True)
class _Params:
    """The ``exits`` numbers as Decimals, converted once per plan."""

    trailing_pct: Decimal
    trailing_k: Decimal
    activation_r: Decimal
    be_after_r: Decimal
    be_fee: Decimal
    pyramid_after_r: Decimal
    time_stop: timedelta | None

    @classmethod
    def of(cls, c: Exits) -> _Params:
        return cls(
            to_decimal(c.trailing_pct, "exits.trailing_pct"),
            to_decimal(c.trailing_atr_multiple, "exits.trailing_atr_multiple"),
            to_decimal(c.trailing_activation_r, "exits.trailing_activation_r"),
            to_decimal(c.break_even_after_r, "exits.break_even_after_r"),
            to_decimal(c.break_even_fee_offset_pct, "exits.break_even_fee_offset_pct"),
            to_decimal(c.pyramid_after_r, "exits.pyramid_after_r"),
            None if c.time_stop_hours is None else timedelta(hours=c.time_stop_hours),
        )


@dataclass(frozen=True, slots=True)
class ExitPlan:
    """A bracket for one position and the rules that manage it afterwards.

    Build it with :func:`build_plan`, :func:`plan_for_position` or :func:`plan_for_decision`
    (or the same methods of :class:`~riskdesk.exits.ExitEngine`). The plan keeps the ``exits``
    settings it was built with, so a position is managed by the rules it was opened under.

    Parameters
    ----------
    symbol, side
        The position.
    entry
        Entry price (the fill, not rounded: it is a fact, not an order).
    quantity
        Planned quantity.
    stop
        Protective stop on the tick grid, or ``None`` when the plan has none.
    targets
        Take-profit levels, nearest first.
    rules
        The market's trading rules.
    config
        The ``exits`` settings.
    atr
        ATR at planning time, optional.
    opened_at
        When the position was opened, optional (the time stop needs it).

    Attributes
    ----------
    params
        The numeric settings as Decimals, derived from ``config`` once.
    """

    symbol: str
    side: Side
    entry: Decimal
    quantity: Decimal
    stop: Decimal | None
    targets: tuple[TargetLevel, ...]
    rules: MarketRules
    config: Exits
    atr: Decimal | None = None
    opened_at: datetime | None = None
    params: _Params = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.stop is not None and not beyond(self.side, self.entry, self.stop):
            raise InvalidInputError("plan.stop", self.stop,
                                    f"on the loss side of the entry {self.entry}")
        _check_needs(self.config, self.risk_per_unit, self.atr, self.opened_at)
        object.__setattr__(self, "params", _Params.of(self.config))

    @property
    def contract_size(self) -> Decimal:
        """Units per contract."""
        return self.rules.contract_size

    @property
    def risk_per_unit(self) -> Decimal | None:
        """The R unit ``|entry - stop|`` in price, ``None`` without a stop."""
        return None if self.stop is None else excursion(self.side, self.entry, self.stop)

    @property
    def risk_budget(self) -> Decimal | None:
        """Initial open risk ``quantity x R x contract size``; adds never exceed it."""
        r = self.risk_per_unit
        return None if r is None else self.quantity * r * self.contract_size

    @property
    def take_profit(self) -> Decimal | None:
        """The final target's price, if the ladder ends in one."""
        last = self.targets[-1] if self.targets else None
        return last.price if last is not None and last.final else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready bracket; Decimals as strings."""
        return {
            "symbol": self.symbol, "side": self.side.value, "entry": str(self.entry),
            "quantity": str(self.quantity),
            "stop": None if self.stop is None else str(self.stop),
            "risk_budget": None if self.risk_budget is None else str(self.risk_budget),
            "targets": [{"price": str(t.price), "quantity": str(t.quantity), "final": t.final,
                         "r_multiple": None if t.r_multiple is None else str(t.r_multiple)}
                        for t in self.targets],
        }


def build_plan(config: Exits, *, symbol: str, side: Side | str, entry: Decimal | float | str,
               quantity: Decimal | float | str, rules: MarketRules,
               stop_price: Decimal | float | str | None = None,
               atr: Decimal | float | str | None = None,
               opened_at: datetime | None = None) -> ExitPlan:
    """Build the exit plan of a fresh position.

    Parameters
    ----------
    config
        The ``exits`` settings.
    symbol, side, entry, quantity
        The position (``side`` accepts LONG/SHORT/BUY/SELL).
    rules
        The market's rules; its symbol must be ``symbol``.
    stop_price
        An explicit stop; wins over the configured stop.
    atr
        ATR in price units; required for ATR stops and ATR or chandelier trailing.
    opened_at
        When the position was opened (timezone-aware); required for a time stop.

    Returns
    -------
    ExitPlan
        Stop and targets on the tick grid.

    Raises
    ------
    InvalidInputError
        Naming the field: bad numbers, a symbol mismatch, a stop on the wrong side, or a rule
        that needs what was not given (R-based rules need a stop, ATR rules an ATR, the time
        stop an opening time).
    """
    if not isinstance(config, Exits):
        raise InvalidInputError("config", config, "an Exits section")
    if not isinstance(rules, MarketRules):
        raise InvalidInputError("rules", rules, "MarketRules")
    if symbol != rules.symbol:
        raise InvalidInputError("symbol", symbol, f"the rules' symbol {rules.symbol!r}")
    s = Side.parse(side)
    e = to_decimal(entry, "entry", allow_zero=False)
    q = to_decimal(quantity, "quantity", allow_zero=False)
    a = None if atr is None else to_decimal(atr, "atr")
    if opened_at is not None and (not isinstance(opened_at, datetime)
                                  or opened_at.tzinfo is None):
        raise InvalidInputError("opened_at", opened_at, "a timezone-aware datetime")
    sp = None if stop_price is None else to_decimal(stop_price, "stop_price", allow_zero=False)
    stop = initial_stop(config, s, e, rules, stop_price=sp, atr=a)
    r = None if stop is None else excursion(s, e, stop)
    _check_needs(config, r, a, opened_at)
    tp = take_profit(config, s, e, r, rules)
    ladder = build_ladder(config, s, e, q, r, tp, rules)
    return ExitPlan(symbol, s, e, q, stop, ladder, rules, config, a, opened_at)


def _check_needs(config: Exits, r: Decimal | None, atr: Decimal | None,
                 opened_at: datetime | None) -> None:
    if r is None:
        needs = []
        if config.partials:
            needs.append("exits.partials")
        if config.break_even_enabled:
            needs.append("exits.break_even_enabled")
        if config.trailing_enabled and config.trailing_activation_r > 0:
            needs.append("exits.trailing_activation_r")
        if config.pyramiding_enabled:
            needs.append("exits.pyramiding_enabled")
        if needs:
            raise InvalidInputError("stop_price", None,
                                    f"a stop: {', '.join(needs)} measure in multiples of the "
                                    "stop distance (turn exits.stop_enabled on or pass one)")
    if config.trailing_enabled and config.trailing_mode != "percent" and atr is None:
        raise InvalidInputError("atr", None,
                                f"an ATR: exits.trailing_mode is {config.trailing_mode!r}")
    if config.time_stop_hours is not None and opened_at is None:
        raise InvalidInputError("opened_at", None, "an opening time: exits.time_stop_hours "
                                "is set")


def plan_for_position(config: Exits, position: Position, rules: MarketRules, *,
                      atr: Decimal | float | str | None = None,
                      opened_at: datetime | None = None) -> ExitPlan:
    """Exit plan for an open position (its own ``stop_price`` wins over the configured stop).

    ``opened_at`` defaults to ``position.opened_at``. The position's contract size must match
    the market's.
    """
    if not isinstance(position, Position):
        raise InvalidInputError("position", position, "a Position")
    if position.contract_size != rules.contract_size:
        raise InvalidInputError("position.contract_size", position.contract_size,
                                f"the market's contract size {rules.contract_size}")
    return build_plan(config, symbol=position.symbol, side=position.side,
                      entry=position.entry_price, quantity=position.quantity, rules=rules,
                      stop_price=position.stop_price, atr=atr,
                      opened_at=position.opened_at if opened_at is None else opened_at)


def plan_for_decision(config: Exits, decision: Decision, rules: MarketRules, *,
                      stop_price: Decimal | float | str | None = None,
                      atr: Decimal | float | str | None = None,
                      opened_at: datetime | None = None) -> ExitPlan:
    """Bracket for an approved opening decision, at the decision's price and quantity.

    The stop is the one the desk sized the order with (``decision.stop_price``: the signal's
    stop or the ATR stop ``stop_risk`` derived), so the bracket risks what the desk approved;
    an explicit ``stop_price`` still wins, and only a decision without a stop falls back to
    the configured one (``exits.stop_mode``). ``opened_at`` defaults to
    ``decision.decided_at``. Rebuild the plan from the filled position
    (:func:`plan_for_position`) when the fill price differs.
    """
    if not isinstance(decision, Decision):
        raise InvalidInputError("decision", decision, "a Decision")
    if not decision.approved or decision.intent is not Intent.OPEN:
        raise InvalidInputError("decision.action", decision.action.value,
                                "an approved opening decision with a quantity > 0")
    return build_plan(config, symbol=decision.symbol, side=decision.side,
                      entry=decision.price, quantity=decision.quantity, rules=rules,
                      stop_price=decision.stop_price if stop_price is None else stop_price,
                      atr=atr,
                      opened_at=decision.decided_at if opened_at is None else opened_at)
