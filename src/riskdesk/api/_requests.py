"""Request bodies of the HTTP API: strict, bounded, separate from the store's tables.

Money, prices and quantities are decimals (a JSON number or a decimal string); ratios and
scores are JSON numbers; flags are JSON ``true`` or ``false`` only (not ``"yes"``, ``1`` or
``"true"``). NaN, infinities, booleans where a number belongs, unknown keys, magnitudes beyond
1e15 and nonzero magnitudes below 1e-12 (which no market quotes, and which turn into 0 as
floats) are refused with 422 and the field path.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from riskdesk.domain import MAX_MAGNITUDE, Regime, TradingState, is_decimal_text

Symbol = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._:/-]+$",
                              description="Instrument as the broker names it.")]
#: The smallest nonzero magnitude a money, price or quantity field accepts.
MIN_MAGNITUDE = Decimal("1E-12")
#: How much of a refused value a message repeats.
_SHOWN_CHARS = 40


def _shown(value: object) -> str:
    """``value`` as the request sent it, shortened when long."""
    text = value.strip() if isinstance(value, str) else str(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def not_tiny(expected: str) -> WrapValidator:
    """Refuse a decimal whose magnitude is nonzero but below :data:`MIN_MAGNITUDE`.

    A zero is read as an unsigned ``0`` whatever its sign and exponent (``"-0"``,
    ``"0E+999999"``): it would otherwise come back as ``-0.00`` in the money computed from it.
    """

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Decimal:
        if isinstance(value, str) and not is_decimal_text(value):
            # Python's Decimal grammar would read "4_30" as 430 and non-ASCII digits.
            raise PydanticCustomError(
                "decimal_parsing", "Input should be a decimal number (digits 0-9, one '.', an "
                "optional sign and exponent), got {shown}", {"shown": _shown(value)})
        number: Decimal = handler(value)
        if number == 0:
            return Decimal(0)
        if abs(number) < MIN_MAGNITUDE:
            raise PydanticCustomError(
                "decimal_too_small", "Input should be {expected}, got {shown}",
                {"expected": expected, "shown": _shown(value)})
        return number

    return WrapValidator(check)


Price = Annotated[Decimal, Field(gt=0, le=MAX_MAGNITUDE, description="A price, > 0."),
                  not_tiny(f"at least {MIN_MAGNITUDE}")]
Amount = Annotated[Decimal, Field(ge=0, le=MAX_MAGNITUDE, description="An amount, >= 0."),
                   not_tiny(f"0 or at least {MIN_MAGNITUDE}")]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, strict=True)]
SideWord = Literal["LONG", "SHORT", "BUY", "SELL"]
#: A flag: JSON ``true`` or ``false``, nothing pydantic's lax mode would read as one.
Flag = Annotated[bool, Field(strict=True)]


def no_nul(value: str) -> str:
    """``value`` unless it holds a NUL character, which no text column can store."""
    if "\x00" in value:
        raise PydanticCustomError("string_nul", "String should not contain NUL (U+0000)")
    return value


#: Free text stored as given (a note, a strategy name): anything but NUL.
Text = AfterValidator(no_nul)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class BookLevelIn(_Body):
    """One order-book level."""

    price: Price
    size: Amount


class MarketIn(_Body):
    """Market data the caller already has; whatever is missing comes from the broker."""

    price: Price | None = Field(None, description="Last or mark price.")
    bid: Price | None = None
    ask: Price | None = None
    atr: Amount | None = Field(None, description="Average true range in price units.")
    volatility: Annotated[float, Field(ge=0.0, le=10.0, strict=True)] | None = Field(
        None, description="Return volatility per period as a fraction (0.02 = 2%).")
    vix: Annotated[float, Field(ge=0.0, le=200.0, strict=True)] | None = None
    bids: list[BookLevelIn] = Field(default_factory=list, max_length=500)
    asks: list[BookLevelIn] = Field(default_factory=list, max_length=500)


class RecommendationIn(_Body):
    """``POST /api/capital/recommendation/position``.

    Seed 001's request plus the order side and optional market data.
    """

    symbol: Symbol
    side: SideWord = "LONG"
    signal_score: Annotated[float, Field(ge=-1000.0, le=1000.0, strict=True)] | None = Field(
        None, description="Signal score in the caller's scale (seed 001: 0-100).")
    expected_return_pct: Annotated[float, Field(ge=-1000.0, le=1000.0, strict=True)] | None \
        = None
    market_regime: Regime | None = None
    win_rate: Fraction | None = None
    win_loss_ratio: Annotated[float, Field(gt=0.0, le=1000.0, strict=True)] | None = None
    strength: Fraction | None = Field(None, description="Target weight as a fraction.")
    stop_price: Price | None = None
    strategy: Annotated[str, Field(min_length=1, max_length=64), Text] | None = None
    reduce_only: Flag = False
    market: MarketIn | None = None
    weights: dict[Symbol, Fraction] | None = Field(
        None, max_length=10_000,
        description="Target portfolio weights, e.g. from /api/capital/allocation/risk-parity. "
                    "The symbol's weight times the number of symbols scales an opener's size "
                    "(RISK_PARITY, capped by position_sizing.risk_parity_max_multiplier); an "
                    "opener whose symbol is missing or weighted 0 is rejected.")


class KellyIn(_Body):
    """``POST /api/capital/position-size/kelly``."""

    win_rate: Fraction
    win_loss_ratio: Annotated[float, Field(gt=0.0, le=1000.0, strict=True)]
    market_regime: Regime | None = None
    portfolio_heat: Annotated[float, Field(ge=0.0, le=100.0, strict=True)] | None = Field(
        None, description="Portfolio heat on seed 001's 0-100 scale.")
    capital: Amount | None = Field(
        None, description="Capital to size against; the account's equity when omitted.")


class RiskParityIn(_Body):
    """``POST /api/capital/allocation/risk-parity``.

    Give ``volatilities`` for seed 001's inverse-volatility weights, or ``symbols`` with a
    ``covariance`` matrix (and optional risk ``budgets``) for equal risk contribution.
    """

    volatilities: dict[Symbol, Annotated[float, Field(gt=0.0, le=100.0, strict=True)]] | None \
        = Field(None, max_length=500)
    symbols: list[Symbol] | None = Field(None, min_length=1, max_length=200)
    covariance: list[Annotated[list[Annotated[float, Field(ge=-100.0, le=100.0, strict=True)]],
                               Field(max_length=200)]] | None = Field(None, max_length=200)
    budgets: list[Annotated[float, Field(gt=0.0, le=1.0, strict=True)]] | None = Field(
        None, max_length=200)
    capital: Amount | None = Field(
        None, description="Capital to allocate; the account's equity when omitted.")


class PlanTargetIn(_Body):
    """One target of a batch: a signed weight of equity (negative is short)."""

    symbol: Symbol
    target_weight: Annotated[float, Field(ge=-10.0, le=10.0, strict=True)] = Field(
        description="Target position as a signed fraction of equity (0 closes it).")
    price: Price | None = Field(None, description="Price to plan at; the broker's otherwise.")


class PlanIn(_Body):
    """``POST /api/orders/plan``: targets in, reducers first then openers out."""

    targets: list[PlanTargetIn] = Field(min_length=1, max_length=200)


class ReconcileIn(_Body):
    """``POST /api/reconcile``; the body may be left out (none: the ``report`` policy)."""

    policy: Literal["report", "adopt_remote"] = Field(
        "report", description="``report`` only compares; ``adopt_remote`` also records the "
                              "broker's view as the local one.")


class TradingStateIn(_Body):
    """``POST /api/admin/trading-state``: halt, reduce-only or resume."""

    state: TradingState | Literal["halt", "reduce-only", "resume"]
    note: Annotated[str, Field(min_length=1, max_length=500), Text]
    reset_breaker: Flag = Field(
        False, description="Also reset a tripped drawdown circuit breaker (with ACTIVE).")

    @field_validator("state", mode="wrap")
    @classmethod
    def _one_state(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        # One error on ``state`` itself, not one per member of the union.
        try:
            return handler(value)
        except ValueError:
            raise PydanticCustomError(
                "enum", "Input should be 'halt', 'reduce-only', 'resume', 'HALTED', "
                        "'REDUCING' or 'ACTIVE'") from None

    @property
    def trading_state(self) -> TradingState:
        """The requested state, the verbs mapped to their states."""
        words = {"halt": TradingState.HALTED, "reduce-only": TradingState.REDUCING,
                 "resume": TradingState.ACTIVE}
        if isinstance(self.state, TradingState):
            return self.state
        return words[self.state]
