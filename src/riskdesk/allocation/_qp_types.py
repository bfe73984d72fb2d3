"""Shared types of the box-constrained QP solver: partitions, solutions and the problem data.

The state codes ``FREE``, ``HI``, ``LO`` and ``ZERO`` label each weight as free, on its upper
bound, on its lower bound or held at zero (under an active gross cap).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from riskdesk.allocation._validate import FloatArray

FREE = 0
HI = 1
LO = 2
ZERO = 3


@dataclass
class Partition:
    """Which constraints hold with equality: the guess the active-set phase works from."""

    state: NDArray[np.int8]
    sign: FloatArray
    gross_active: bool

    def key(self) -> bytes:
        """Hashable signature of the partition."""
        sign = np.where(self.state == FREE, self.sign, 0.0).astype(np.int8)
        return self.state.tobytes() + sign.tobytes() + bytes([self.gross_active])


@dataclass
class QPSolution:
    """Outcome of :meth:`BoxQP.solve`."""

    w: FloatArray
    nu: float
    theta: float
    converged: bool
    iterations: int
    residual: float
    partition: Partition | None
    note: str = ""


@dataclass
class _Problem:
    q: FloatArray
    lo: FloatArray
    hi: FloatArray
    budget: float | None
    gross: float | None
    long_only: bool
    diag_mean: float
    s_hi: FloatArray = field(init=False)
    s_lo: FloatArray = field(init=False)
    hi_band: FloatArray = field(init=False)
    lo_band: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        # Derivative of |w_i| at each bound, seen from inside the box.
        self.s_hi = np.where(self.hi > 0, 1.0, -1.0)
        self.s_lo = np.where(self.lo >= 0, 1.0, -1.0)
        # Rounding bands around finite bounds (zero width at infinite ones).
        self.hi_band = np.where(np.isfinite(self.hi), 1e-12 * np.maximum(1.0, np.abs(self.hi)),
                                0.0)
        self.lo_band = np.where(np.isfinite(self.lo), 1e-12 * np.maximum(1.0, np.abs(self.lo)),
                                0.0)
