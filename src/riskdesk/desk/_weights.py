"""Allocation weights as a sizing adjustment: the ``RISK_PARITY`` step of the pipeline.

A bot that allocates with :func:`riskdesk.allocation.risk_parity` (or
:func:`~riskdesk.allocation.inverse_volatility`, or any long-only weights) over the symbols it
trades passes the weights to :meth:`riskdesk.Desk.recommend`. An opener's size is multiplied
by ``min(w_symbol x N / sum(w), risk_parity_max_multiplier)``, N the number of weighted
symbols: an equal-weight book gives x1 everywhere, a symbol the allocation underweights is
sized down, and one it leaves out (or weights 0) is sized to zero, so the order is rejected
with ``RISK_PARITY``. Reducers never read the weights: :meth:`riskdesk.Desk.recommend` checks
them only when an opener needs them, so malformed weights never hold up a close.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from riskdesk.errors import InvalidInputError

#: A relative weight this close to 1 is 1: equal weights that do not sum to exactly 1 in
#: binary floating point must still leave the size alone.
_SNAP = 1e-12


class AllocationWeights:
    """Checked weights with the multiplier each symbol gets; built once per weights mapping.

    Attributes
    ----------
    weights
        The weights as given, as floats.
    multipliers
        ``min(w x N / sum(w), max_multiplier)`` by symbol (``>= 0``).
    n
        Number of weighted symbols.
    """

    __slots__ = ("_notes", "max_multiplier", "multipliers", "n", "weights")

    def __init__(self, weights: dict[str, float], multipliers: dict[str, float],
                 max_multiplier: float) -> None:
        self.weights = weights
        self.multipliers = multipliers
        self.max_multiplier = max_multiplier
        self.n = len(weights)
        self._notes: dict[str, tuple[float, str]] = {}

    @classmethod
    def check(cls, weights: object, max_multiplier: float) -> AllocationWeights:
        """Check ``weights`` and work out each symbol's multiplier.

        Parameters
        ----------
        weights
            Target portfolio weights by symbol: finite, ``>= 0``, with a positive sum.
        max_multiplier
            ``position_sizing.risk_parity_max_multiplier``.

        Returns
        -------
        AllocationWeights
            The checked weights.

        Raises
        ------
        InvalidInputError
            On anything but a non-empty mapping of symbols to finite non-negative numbers
            with a positive sum.
        """
        if not isinstance(weights, Mapping) or not weights:
            raise InvalidInputError("weights", weights,
                                    "a non-empty mapping of symbol to target weight")
        out: dict[str, float] = {}
        total = 0.0
        for sym, w in weights.items():
            if not isinstance(sym, str) or not sym.strip():
                raise InvalidInputError("weights", sym, "symbol keys (non-empty strings)")
            if isinstance(w, bool) or not isinstance(w, numbers.Real):
                raise InvalidInputError(f"weights.{sym}", w, "a finite number >= 0")
            f = float(w)
            if not math.isfinite(f) or f < 0.0:
                raise InvalidInputError(f"weights.{sym}", w,
                                        "a finite number >= 0 (allocation weights are "
                                        "long-only)")
            out[sym] = f
            total += f
        if not total > 0.0 or not math.isfinite(total):
            raise InvalidInputError("weights", weights, "weights with a positive, finite sum")
        n = len(out)
        mult: dict[str, float] = {}
        for sym, f in out.items():
            rel = f * n / total
            if abs(rel - 1.0) <= _SNAP:
                rel = 1.0
            mult[sym] = rel if rel < max_multiplier else max_multiplier
        return cls(out, mult, max_multiplier)

    def __call__(self) -> AllocationWeights:
        """Itself: checked weights serve wherever the pipeline asks for its weights."""
        return self

    def multiplier(self, symbol: str) -> tuple[float, str]:
        """The multiplier of ``symbol`` (0 when it has no weight) and its trail note."""
        hit = self._notes.get(symbol)
        if hit is not None:
            return hit
        m = self.multipliers.get(symbol)
        if m is None:
            out = 0.0, f"{symbol} is not in the allocation ({self.n} weighted symbols): x0"
        else:
            w = self.weights[symbol]
            cap = " (max)" if m == self.max_multiplier and m != 1.0 else ""
            out = m, f"{symbol} allocation weight {w:.4g} of {self.n} symbols: x{m:.4g}{cap}"
        if len(self._notes) < 4096:  # bounded: one entry per symbol decided
            self._notes[symbol] = out
        return out


class WeightsCache:
    """The last weights mapping a desk checked, so that a bot passing the same one is fast.

    A mapping is reused only while it is the same object *and* still equal to the copy taken
    when it was checked (a caller may change a dict in place between calls).
    """

    __slots__ = ("checked", "copy", "source")

    def __init__(self) -> None:
        self.source: object = None
        self.copy: dict[str, object] = {}
        self.checked: AllocationWeights | None = None

    def get(self, weights: Mapping[str, float], max_multiplier: float) -> AllocationWeights:
        """The checked form of ``weights`` (see :meth:`AllocationWeights.check`)."""
        hit = self.checked
        if hit is not None and weights is self.source and self.copy == weights:
            return hit
        checked = AllocationWeights.check(weights, max_multiplier)
        self.source = weights
        self.copy = dict(weights)
        self.checked = checked
        return checked
