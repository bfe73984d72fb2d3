"""Planning: seed 000's two-phase batch, reducers first, then openers within the budget."""

from __future__ import annotations

from riskdesk.planning._plan import Plan, PlanLine, plan_targets

__all__ = ["Plan", "PlanLine", "plan_targets"]
