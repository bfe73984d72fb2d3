"""The columnar result of the vectorized pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskdesk.domain import Action, Decision, ReasonCode

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I16 = npt.NDArray[np.int16]

#: Actions in code order (``action[i] == k`` means ``ACTIONS[k]``).
ACTIONS: tuple[Action, ...] = tuple(Action)
#: Reason codes in code order (``binding[i] == k`` means ``CODES[k]``, -1 means none).
CODES: tuple[ReasonCode, ...] = tuple(ReasonCode)


@dataclass(frozen=True, slots=True, eq=False)
class BatchDecisions:
    """Columns of decisions, one row per order of the batch.

    Parameters
    ----------
    action
        Index into :data:`ACTIONS`.
    units
        Quantity in market steps (quantity = units x step).
    quantity, notional, margin_required
        Floats of the decision's figures (the exact Decimals: :meth:`decision`).
    leverage
        Whole leverage.
    binding
        Index into :data:`CODES` of the binding cap, -1 for none.
    reasons
        Index into ``reason_table`` of the row's reason codes.
    reason_table
        The distinct reason tuples.
    scalar_rows
        Rows decided by the scalar pipeline.
    """

    action: I16
    units: I64
    quantity: F64
    notional: F64
    margin_required: F64
    leverage: I64
    binding: I16
    reasons: I16
    reason_table: tuple[tuple[ReasonCode, ...], ...]
    scalar_rows: I64
    _rebuild: Callable[[int], Decision]

    def __len__(self) -> int:
        return int(self.action.shape[0])

    def action_of(self, i: int) -> Action:
        """The action of row ``i``."""
        return ACTIONS[int(self.action[i])]

    def reasons_of(self, i: int) -> tuple[ReasonCode, ...]:
        """The reason codes of row ``i``."""
        return self.reason_table[int(self.reasons[i])]

    def binding_of(self, i: int) -> ReasonCode | None:
        """The binding cap of row ``i``."""
        k = int(self.binding[i])
        return None if k < 0 else CODES[k]

    def decision(self, i: int) -> Decision:
        """Row ``i`` as a full :class:`~riskdesk.Decision` with its trail (re-derived exactly)."""
        return self._rebuild(i)
