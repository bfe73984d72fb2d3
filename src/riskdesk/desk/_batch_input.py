"""Columnar input of the vectorized pipeline: one row per order, NumPy arrays per field."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
import numpy.typing as npt

from riskdesk.domain import MarketRules, MarketSnapshot, Regime, Side, Signal
from riskdesk.errors import InvalidInputError, UnknownSymbolError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]

#: Regimes in code order: ``regime[i] == k`` means ``REGIMES[k]``, -1 means none.
REGIMES: tuple[Regime, ...] = tuple(Regime)
_REGIME_INDEX = {r: i for i, r in enumerate(REGIMES)}
_NAN = math.nan


def _units(value: Decimal, step: Decimal, rounding: str) -> int:
    return int((value / step).to_integral_value(rounding=rounding))


@dataclass(frozen=True, slots=True, eq=False)
class BatchInput:
    """Orders as columns. Missing values are NaN (or -1 for codes).

    Build it with :meth:`from_objects` (signals and market snapshots) or :meth:`from_arrays`.
    Rows the vectorized kernel does not cover (order book levels, stop prices, strategies,
    mismatched symbols) are flagged in ``scalar_only`` and decided by the scalar pipeline,
    which needs the objects; :meth:`row_objects` rebuilds them when only arrays were given.

    Parameters
    ----------
    symbols
        Instrument per row.
    side
        +1 long, -1 short.
    price, bid, ask
        Reference price and quote (NaN: no quote).
    atr_pct, volatility, vix
        ATR over price, return volatility, VIX (NaN: unknown).
    score, strength, win_rate, win_loss_ratio
        Signal fields (NaN: not given).
    regime
        Index into :data:`REGIMES`, -1 for none.
    reduce_only
        The signal's reduce-only flag.
    as_of
        Market observation time, POSIX seconds (NaN: none).
    step, tick, contract_size, max_leverage, min_notional
        Market rules as floats.
    max_qty
        The market's largest order (NaN: none).
    steps_per_unit
        ``1 / step`` when that is a whole number (0 otherwise), so that a quantity in steps
        converts to the float nearest the exact quantity.
    min_units, max_units
        ``ceil(min_qty / step)`` and ``floor(max_qty / step)`` computed exactly (-1: no max).
    scalar_only
        Rows the scalar pipeline decides.
    signals, markets
        The objects, when built from them.
    """

    symbols: tuple[str, ...]
    side: I8
    price: F64
    bid: F64
    ask: F64
    atr_pct: F64
    volatility: F64
    vix: F64
    score: F64
    strength: F64
    win_rate: F64
    win_loss_ratio: F64
    regime: I8
    reduce_only: B
    as_of: F64
    step: F64
    tick: F64
    contract_size: F64
    max_leverage: F64
    min_notional: F64
    max_qty: F64
    steps_per_unit: F64
    min_units: I64
    max_units: I64
    scalar_only: B
    signals: tuple[Signal, ...] | None = None
    markets: tuple[MarketSnapshot, ...] | None = None
    _cache: dict[str, npt.NDArray[np.str_]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.symbols)

    @property
    def symbol_array(self) -> npt.NDArray[np.str_]:
        """The symbols as a NumPy string array (built once)."""
        arr = self._cache.get("symbols")
        if arr is None:
            arr = self._cache["symbols"] = np.asarray(self.symbols, dtype=np.str_)
        return arr

    @classmethod
    def from_objects(cls, signals: Sequence[Signal],
                     markets: Sequence[MarketSnapshot] | Mapping[str, MarketSnapshot]
                     ) -> BatchInput:
        """Columns from signals and their market snapshots.

        Parameters
        ----------
        signals
            The orders.
        markets
            One snapshot per signal in the same order, or a mapping by symbol.

        Returns
        -------
        BatchInput
            The columns, keeping the objects for the rows decided by the scalar pipeline.

        Raises
        ------
        InvalidInputError
            When an element is not a Signal / MarketSnapshot or the lengths differ.
        UnknownSymbolError
            When a mapping has no snapshot for a signal's symbol.
        """
        sigs = tuple(signals)
        if isinstance(markets, Mapping):
            mk = []
            for s in sigs:
                m = markets.get(s.symbol) if isinstance(s, Signal) else None
                if m is None and isinstance(s, Signal):
                    raise UnknownSymbolError(f"no market snapshot for {s.symbol!r}")
                mk.append(m)
            mkts = tuple(mk)
        else:
            mkts = tuple(markets)
        n = len(sigs)
        if len(mkts) != n:
            raise InvalidInputError("markets", len(mkts), f"{n} snapshots, one per signal")
        cols: dict[str, list[float]] = {k: [] for k in (
            "price", "bid", "ask", "atr_pct", "volatility", "vix", "score", "strength",
            "win_rate", "win_loss_ratio", "as_of", "step", "tick", "contract_size",
            "max_leverage", "min_notional", "max_qty", "steps_per_unit")}
        side: list[int] = []
        regime: list[int] = []
        reduce_only: list[bool] = []
        min_units: list[int] = []
        max_units: list[int] = []
        scalar_only: list[bool] = []
        unit_cache: dict[tuple[Decimal, Decimal, Decimal | None], tuple[int, int, float]] = {}
        for i, (s, m) in enumerate(zip(sigs, mkts, strict=True)):
            if not isinstance(s, Signal):
                raise InvalidInputError(f"signals[{i}]", s, "a Signal")
            if not isinstance(m, MarketSnapshot):
                raise InvalidInputError(f"markets[{i}]", m, "a MarketSnapshot")
            r = m.rules
            side.append(s.side.sign)
            regime.append(-1 if s.regime is None else _REGIME_INDEX[s.regime])
            reduce_only.append(s.reduce_only)
            cols["price"].append(float(m.price))
            cols["bid"].append(_NAN if m.bid is None else float(m.bid))
            cols["ask"].append(_NAN if m.ask is None else float(m.ask))
            atr = m.atr_pct
            cols["atr_pct"].append(_NAN if atr is None else atr)
            cols["volatility"].append(_NAN if m.volatility is None else m.volatility)
            cols["vix"].append(_NAN if m.vix is None else m.vix)
            for name in ("score", "strength", "win_rate", "win_loss_ratio"):
                v = getattr(s, name)
                cols[name].append(_NAN if v is None else v)
            cols["as_of"].append(_NAN if m.as_of is None else m.as_of.timestamp())
            cols["step"].append(float(r.step))
            cols["tick"].append(float(r.tick))
            cols["contract_size"].append(float(r.contract_size))
            cols["max_leverage"].append(float(r.max_leverage))
            cols["min_notional"].append(float(r.min_notional))
            cols["max_qty"].append(_NAN if r.max_qty is None else float(r.max_qty))
            key = (r.step, r.min_qty, r.max_qty)
            units = unit_cache.get(key)
            if units is None:
                inv = 1 / r.step
                units = (_units(r.min_qty, r.step, ROUND_CEILING),
                         -1 if r.max_qty is None else _units(r.max_qty, r.step, ROUND_FLOOR),
                         float(inv) if inv == inv.to_integral_value() else 0.0)
                unit_cache[key] = units
            min_units.append(units[0])
            max_units.append(units[1])
            cols["steps_per_unit"].append(units[2])
            scalar_only.append(bool(m.bids or m.asks) or s.stop_price is not None
                               or s.strategy is not None or s.symbol != r.symbol)
        f = {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
        return cls(tuple(s.symbol for s in sigs), np.asarray(side, dtype=np.int8), f["price"],
                   f["bid"], f["ask"], f["atr_pct"], f["volatility"], f["vix"], f["score"],
                   f["strength"], f["win_rate"], f["win_loss_ratio"],
                   np.asarray(regime, dtype=np.int8), np.asarray(reduce_only, dtype=np.bool_),
                   f["as_of"], f["step"], f["tick"], f["contract_size"], f["max_leverage"],
                   f["min_notional"], f["max_qty"], f["steps_per_unit"],
                   np.asarray(min_units, dtype=np.int64), np.asarray(max_units, dtype=np.int64),
                   np.asarray(scalar_only, dtype=np.bool_),
                   sigs, mkts)

    def row_objects(self, i: int) -> tuple[Signal, MarketSnapshot]:
        """The signal and market snapshot of row ``i`` (rebuilt from the columns if needed)."""
        if self.signals is not None and self.markets is not None:
            return self.signals[i], self.markets[i]
        def opt(a: F64) -> float | None:
            v = float(a[i])
            return None if math.isnan(v) else v

        def dec(a: F64) -> Decimal:
            return Decimal(repr(float(a[i])))

        step = dec(self.step)
        max_units = int(self.max_units[i])
        rules = MarketRules(self.symbols[i], step=step, tick=dec(self.tick),
                            min_qty=step * int(self.min_units[i]),
                            max_qty=None if max_units < 0 else step * max_units,
                            min_notional=dec(self.min_notional),
                            contract_size=dec(self.contract_size),
                            max_leverage=dec(self.max_leverage))
        at = opt(self.as_of)
        atr = opt(self.atr_pct)
        price = float(self.price[i])
        bid, ask = opt(self.bid), opt(self.ask)
        market = MarketSnapshot(
            rules, price=Decimal(repr(price)),
            as_of=None if at is None else datetime.fromtimestamp(at, UTC),
            bid=None if bid is None else Decimal(repr(bid)),
            ask=None if ask is None else Decimal(repr(ask)),
            atr=None if atr is None else Decimal(repr(atr * price)),
            volatility=opt(self.volatility), vix=opt(self.vix))
        reg = int(self.regime[i])
        signal = Signal(self.symbols[i], Side.LONG if self.side[i] > 0 else Side.SHORT,
                        score=opt(self.score), strength=opt(self.strength),
                        win_rate=opt(self.win_rate), win_loss_ratio=opt(self.win_loss_ratio),
                        regime=None if reg < 0 else REGIMES[reg],
                        reduce_only=bool(self.reduce_only[i]))
        return signal, market
