"""Exits: brackets, stops, targets, trailing, break-even, ladders, pyramiding, time stops.

Pure and deterministic: prices, bars and time come in as arguments. Build an
:class:`ExitPlan` for a position or an approved ENTER decision, start a
:class:`PositionState`, then feed each bar (:meth:`ExitEngine.on_bar`) or price
(:meth:`ExitEngine.on_tick`) and send the returned actions in order. ``docs/exits.md``
describes every rule, the order of actions, the intrabar rule and the rounding directions.
"""

from __future__ import annotations

from riskdesk.exits._actions import Add, Close, ExitAction, ExitReason, MoveStop, Reduce
from riskdesk.exits._bar import Bar
from riskdesk.exits._engine import ExitEngine, ExitUpdate
from riskdesk.exits._partials import TargetLevel
from riskdesk.exits._plan import ExitPlan, build_plan, plan_for_decision, plan_for_position
from riskdesk.exits._prices import favourable_rounding
from riskdesk.exits._state import Lot, PositionState

__all__ = [
    "Add",
    "Bar",
    "Close",
    "ExitAction",
    "ExitEngine",
    "ExitPlan",
    "ExitReason",
    "ExitUpdate",
    "Lot",
    "MoveStop",
    "PositionState",
    "Reduce",
    "TargetLevel",
    "build_plan",
    "favourable_rounding",
    "plan_for_decision",
    "plan_for_position",
]
