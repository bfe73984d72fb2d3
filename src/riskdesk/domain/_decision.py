"""The answer the desk returns: a Decision and the trail that explains it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from riskdesk.domain._account import Side
from riskdesk.domain._memo import slot_setters

_ZERO = Decimal(0)
_ONE = Decimal(1)


class Action(StrEnum):
    """What the desk tells the bot to do."""

    ENTER = "ENTER"
    REJECT = "REJECT"
    CAUTION = "CAUTION"
    HOLD = "HOLD"
    ENTER_AND_CLOSE_WORST = "ENTER_AND_CLOSE_WORST"


class ExecutionMethod(StrEnum):
    """How the order should be worked."""

    LIMIT = "LIMIT"
    MARKET = "MARKET"
    TWAP = "TWAP"
    ICEBERG = "ICEBERG"


class TradingState(StrEnum):
    """Whether the desk lets orders through.

    ``ACTIVE`` allows everything, ``REDUCING`` only orders that reduce risk, ``HALTED`` only
    orders that reduce risk as well (stops and closes always pass) and no new exposure.
    """

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class Intent(StrEnum):
    """Whether an order opens (adds risk) or reduces an existing position."""

    OPEN = "OPEN"
    REDUCE = "REDUCE"


class ReasonCode(StrEnum):
    """Why a number changed or an order was denied. ``docs/reason-codes.md`` lists each."""

    # sizing steps
    BASE_SIZE = "BASE_SIZE"
    CAPITAL_UTILIZATION = "CAPITAL_UTILIZATION"
    CONVICTION = "CONVICTION"
    KELLY = "KELLY"
    STOP_RISK = "STOP_RISK"
    VOLATILITY_TARGET = "VOLATILITY_TARGET"
    ACCOUNT_PROFILE = "ACCOUNT_PROFILE"
    ACCOUNT_PHASE = "ACCOUNT_PHASE"
    # multiplicative adjustments
    REGIME = "REGIME"
    PORTFOLIO_HEAT = "PORTFOLIO_HEAT"
    ACCOUNT_SIZE = "ACCOUNT_SIZE"
    DRAWDOWN = "DRAWDOWN"
    DD_HAIRCUT = "DD_HAIRCUT"
    VIX = "VIX"
    MARGIN_ZONE = "MARGIN_ZONE"
    TIER_BUDGET = "TIER_BUDGET"
    RISK_PARITY = "RISK_PARITY"
    LIQUIDITY_IMPACT = "LIQUIDITY_IMPACT"
    STABILIZER = "STABILIZER"
    LEVERAGE = "LEVERAGE"
    # caps
    CAP_ORDER_NOTIONAL = "CAP_ORDER_NOTIONAL"
    CAP_MAX_TRADE_SIZE = "CAP_MAX_TRADE_SIZE"
    CAP_SYMBOL = "CAP_SYMBOL"
    CAP_TOTAL_EXPOSURE = "CAP_TOTAL_EXPOSURE"
    CAP_GROSS_EXPOSURE = "CAP_GROSS_EXPOSURE"
    CAP_BUYING_POWER = "CAP_BUYING_POWER"
    CAP_MAX_POSITION_DOLLAR = "CAP_MAX_POSITION_DOLLAR"
    CAP_TIER_BUDGET = "CAP_TIER_BUDGET"
    CAP_MARKET_MAX_QTY = "CAP_MARKET_MAX_QTY"
    CAP_POSITION_SIZE = "CAP_POSITION_SIZE"
    QUANTIZE = "QUANTIZE"
    # denials and cautions
    TRADING_HALTED = "TRADING_HALTED"
    TRADING_REDUCING = "TRADING_REDUCING"
    BREAKER_TRIPPED = "BREAKER_TRIPPED"
    STATE_MISSING = "STATE_MISSING"
    STATE_STALE = "STATE_STALE"
    MARKET_STALE = "MARKET_STALE"
    SYMBOL_MISMATCH = "SYMBOL_MISMATCH"
    MARGIN_YELLOW = "MARGIN_YELLOW"
    MARGIN_ORANGE = "MARGIN_ORANGE"
    MARGIN_RED = "MARGIN_RED"
    DRAWDOWN_HEAVY = "DRAWDOWN_HEAVY"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    WEEKLY_LOSS_LIMIT = "WEEKLY_LOSS_LIMIT"
    SIGNAL_BELOW_THRESHOLD = "SIGNAL_BELOW_THRESHOLD"
    SCORE_INVALID = "SCORE_INVALID"
    PRICE_OUT_OF_BAND = "PRICE_OUT_OF_BAND"
    BELOW_MIN_NOTIONAL = "BELOW_MIN_NOTIONAL"
    DUST_CLOSE = "DUST_CLOSE"
    SYMBOL_CAP_REACHED = "SYMBOL_CAP_REACHED"
    EXPOSURE_LIMIT = "EXPOSURE_LIMIT"
    MAX_POSITIONS = "MAX_POSITIONS"
    STRATEGY_POSITION_LIMIT = "STRATEGY_POSITION_LIMIT"
    CONCENTRATION = "CONCENTRATION"
    INSUFFICIENT_BUYING_POWER = "INSUFFICIENT_BUYING_POWER"
    BELOW_MIN_POSITION = "BELOW_MIN_POSITION"
    SPREAD_TOO_WIDE = "SPREAD_TOO_WIDE"
    DATA_TOO_OLD = "DATA_TOO_OLD"
    CVAR_LIMIT = "CVAR_LIMIT"
    RESTRICTED_SYMBOL = "RESTRICTED_SYMBOL"
    TRADES_PER_DAY = "TRADES_PER_DAY"
    NO_EDGE = "NO_EDGE"
    ZERO_AFTER_QUANTIZE = "ZERO_AFTER_QUANTIZE"
    NO_POSITION_TO_REDUCE = "NO_POSITION_TO_REDUCE"
    OPPORTUNITY_HOLD = "OPPORTUNITY_HOLD"
    OPPORTUNITY_SKIP = "OPPORTUNITY_SKIP"
    OPPORTUNITY_REPLACE = "OPPORTUNITY_REPLACE"
    LARGE_ORDER = "LARGE_ORDER"


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One step of a decision's trail.

    Parameters
    ----------
    step
        Pipeline step name (``"base_size"``, ``"drawdown"``, ``"cap"``, ``"gate"``...).
    code
        Reason code.
    before, after
        The value the step received and the one it passed on (a notional in quote currency
        for sizing steps and caps, a multiplier's input and output for adjustments).
    note
        Human-readable explanation with the numbers used.
    """

    step: str
    code: ReasonCode
    before: float
    after: float
    note: str = ""

    def __init__(self, step: str, code: ReasonCode, before: float, after: float,
                 note: str = "") -> None:
        # Slots written directly (see riskdesk.domain._memo.slot_setters): twice as fast as the
        # frozen dataclass __init__, and every decision builds several of these.
        _a_step(self, step)
        _a_code(self, code)
        _a_before(self, before)
        _a_after(self, after)
        _a_note(self, note)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"step": self.step, "code": self.code.value, "before": self.before,
                "after": self.after, "note": self.note}


@dataclass(frozen=True, slots=True)
class Decision:
    """The desk's answer for one order.

    Parameters
    ----------
    action
        ENTER, REJECT, CAUTION, HOLD or ENTER_AND_CLOSE_WORST.
    symbol, side, intent
        What the decision is about.
    quantity
        Executable quantity after quantization (zero unless the action lets an order through).
    price
        Reference price the decision used.
    notional
        quantity x price x contract size.
    leverage
        Leverage to use.
    margin_required
        notional / leverage.
    execution_method
        How to work the order.
    binding_cap
        The cap that set the size, or ``None`` when no cap bound.
    trail
        Every adjustment, cap and gate in pipeline order.
    reasons
        Reason codes for REJECT, CAUTION and HOLD.
    risk_pct
        Notional as a fraction of equity.
    close_symbols
        For ENTER_AND_CLOSE_WORST, the positions to close first.
    decided_at
        The time the decision was made (as passed in).
    stop_price
        The protective stop the size assumes: the stop ``stop_risk`` sizing measured the risk
        from (the signal's ``stop_price``, or the ATR stop the desk derived, as computed, not
        yet on the tick grid), or for the other methods the signal's own ``stop_price``;
        ``None`` when there is none. The desk sets it on the openers it lets through (ENTER,
        CAUTION, ENTER_AND_CLOSE_WORST); its denials and its reducers carry ``None``.
        :func:`riskdesk.exits.plan_for_decision` brackets the order with it.
    """

    action: Action
    symbol: str
    side: Side
    intent: Intent
    quantity: Decimal = _ZERO
    price: Decimal = _ZERO
    notional: Decimal = _ZERO
    leverage: Decimal = _ONE
    margin_required: Decimal = _ZERO
    execution_method: ExecutionMethod = ExecutionMethod.LIMIT
    binding_cap: ReasonCode | None = None
    trail: tuple[Adjustment, ...] = field(default_factory=tuple)
    reasons: tuple[ReasonCode, ...] = field(default_factory=tuple)
    risk_pct: float = 0.0
    close_symbols: tuple[str, ...] = field(default_factory=tuple)
    decided_at: datetime | None = None
    stop_price: Decimal | None = None

    def __init__(self, action: Action, symbol: str, side: Side, intent: Intent,
                 quantity: Decimal = _ZERO, price: Decimal = _ZERO, notional: Decimal = _ZERO,
                 leverage: Decimal = _ONE, margin_required: Decimal = _ZERO,
                 execution_method: ExecutionMethod = ExecutionMethod.LIMIT,
                 binding_cap: ReasonCode | None = None, trail: tuple[Adjustment, ...] = (),
                 reasons: tuple[ReasonCode, ...] = (), risk_pct: float = 0.0,
                 close_symbols: tuple[str, ...] = (), decided_at: datetime | None = None,
                 stop_price: Decimal | None = None) -> None:
        # As for Adjustment: the slots are written directly, the class stays frozen. The
        # signature mirrors the fields (tests/unit/test_domain_fast.py checks it).
        _d_action(self, action)
        _d_symbol(self, symbol)
        _d_side(self, side)
        _d_intent(self, intent)
        _d_quantity(self, quantity)
        _d_price(self, price)
        _d_notional(self, notional)
        _d_leverage(self, leverage)
        _d_margin_required(self, margin_required)
        _d_execution_method(self, execution_method)
        _d_binding_cap(self, binding_cap)
        _d_trail(self, trail)
        _d_reasons(self, reasons)
        _d_risk_pct(self, risk_pct)
        _d_close_symbols(self, close_symbols)
        _d_decided_at(self, decided_at)
        _d_stop_price(self, stop_price)

    @property
    def approved(self) -> bool:
        """True when an order may be sent (ENTER, CAUTION with a size, ENTER_AND_CLOSE_WORST)."""
        return self.quantity > 0 and self.action in (
            Action.ENTER, Action.CAUTION, Action.ENTER_AND_CLOSE_WORST)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; Decimals become strings so no digit is lost."""
        return {
            "action": self.action.value,
            "symbol": self.symbol,
            "side": self.side.value,
            "intent": self.intent.value,
            "quantity": str(self.quantity),
            "price": str(self.price),
            "notional": str(self.notional),
            "leverage": str(self.leverage),
            "margin_required": str(self.margin_required),
            "execution_method": self.execution_method.value,
            "binding_cap": None if self.binding_cap is None else self.binding_cap.value,
            "risk_pct": self.risk_pct,
            "reasons": [r.value for r in self.reasons],
            "close_symbols": list(self.close_symbols),
            "decided_at": None if self.decided_at is None else self.decided_at.isoformat(),
            "stop_price": None if self.stop_price is None else str(self.stop_price),
            "trail": [a.to_dict() for a in self.trail],
        }


_a_step, _a_code, _a_before, _a_after, _a_note = slot_setters(Adjustment)
(_d_action, _d_symbol, _d_side, _d_intent, _d_quantity, _d_price, _d_notional, _d_leverage,
 _d_margin_required, _d_execution_method, _d_binding_cap, _d_trail, _d_reasons, _d_risk_pct,
 _d_close_symbols, _d_decided_at, _d_stop_price) = slot_setters(Decision)
