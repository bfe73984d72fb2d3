"""The exits section of the risk configuration: stops, targets, trailing, partials, pyramiding."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from riskdesk.config._sections import (
    Count,
    Fraction,
    NonNegative,
    Positive,
    PositiveFraction,
    Section,
)


class PartialTakeProfit(Section):
    """One rung of a partial take-profit ladder."""

    r_multiple: Positive
    fraction: PositiveFraction


class Exits(Section):
    """Protective stops, targets, trailing, break-even, partials, pyramiding, time stop.

    Distances in ``R`` are multiples of the initial stop distance ``|entry - stop|``; rules
    measured in ``R`` need a stop (from this section or a stop price handed in). Fractions are
    of the entry price. ``docs/exits.md`` describes each rule and the order of actions.

    Attributes
    ----------
    stop_enabled, stop_mode, stop_pct, stop_atr_multiple
        Protective stop at ``entry x (1 -/+ stop_pct)`` (``percent``) or
        ``entry -/+ stop_atr_multiple x ATR`` (``atr``); a stop price handed in wins.
    take_profit_enabled, take_profit_mode, take_profit_pct, take_profit_r
        Final target at ``entry x (1 +/- take_profit_pct)`` (``percent``, seed 002's rule) or
        ``entry +/- take_profit_r x R`` (``r``); it closes what remains.
    trailing_enabled, trailing_mode, trailing_pct, trailing_atr_multiple, trailing_activation_r
        Trailing stop from the best price (``percent``), the latest price (``atr``) or the
        best price less ``k x ATR`` (``chandelier``), once the best price is
        ``trailing_activation_r`` R in profit; it only tightens.
    break_even_enabled, break_even_after_r, break_even_fee_offset_pct
        Move the stop to the average entry plus a fee offset once ``+break_even_after_r`` R.
    partials
        Take-profit ladder rungs ``(r_multiple, fraction)``, fractions of the quantity held.
    pyramiding_enabled, pyramid_after_r, pyramid_max_adds
        Add ``pyramid_after_r`` R beyond the latest fill, at most ``pyramid_max_adds`` times,
        each add sized to keep the open risk within the initial risk budget.
    time_stop_hours
        Close after this holding time.
    intrabar
        Which level a bar touching both the stop and a target reaches first.
    """

    stop_enabled: bool = True
    stop_mode: Literal["percent", "atr"] = "percent"
    stop_pct: PositiveFraction | None = 0.02
    stop_atr_multiple: Positive | None = None
    take_profit_enabled: bool = True
    take_profit_mode: Literal["percent", "r"] = "r"
    take_profit_pct: PositiveFraction | None = None
    take_profit_r: Positive | None = 2.0
    trailing_enabled: bool = False
    trailing_mode: Literal["percent", "atr", "chandelier"] = "percent"
    trailing_pct: PositiveFraction = 0.02
    trailing_atr_multiple: Positive = 3.0
    trailing_activation_r: NonNegative = 1.0
    break_even_enabled: bool = False
    break_even_after_r: Positive = 1.0
    break_even_fee_offset_pct: Fraction = 0.001
    partials: tuple[PartialTakeProfit, ...] = ()
    pyramiding_enabled: bool = False
    pyramid_after_r: Positive = 1.0
    pyramid_max_adds: Count = 0
    time_stop_hours: Positive | None = None
    intrabar: Literal["stop_first", "target_first"] = "stop_first"

    @model_validator(mode="after")
    def _consistent(self) -> Exits:
        if sum(p.fraction for p in self.partials) > 1.0 + 1e-12:
            raise ValueError("partial take-profit fractions must sum to at most 1")
        rs = [p.r_multiple for p in self.partials]
        if rs != sorted(set(rs)):
            raise ValueError("partial take-profit r_multiple values must be strictly increasing")
        if self.stop_enabled and self.stop_mode == "percent" and self.stop_pct is None:
            raise ValueError("stop_mode 'percent' needs stop_pct")
        if self.stop_enabled and self.stop_mode == "atr" and self.stop_atr_multiple is None:
            raise ValueError("stop_mode 'atr' needs stop_atr_multiple")
        if self.take_profit_enabled and self.take_profit_mode == "percent" \
                and self.take_profit_pct is None:
            raise ValueError("take_profit_mode 'percent' needs take_profit_pct")
        if self.take_profit_enabled and self.take_profit_mode == "r" \
                and self.take_profit_r is None:
            raise ValueError("take_profit_mode 'r' needs take_profit_r")
        if self.pyramiding_enabled and self.pyramid_max_adds < 1:
            raise ValueError("pyramiding_enabled needs pyramid_max_adds >= 1")
        return self
