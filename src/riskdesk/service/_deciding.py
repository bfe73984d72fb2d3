"""From a desk decision to the store's write: its budget hold, its refusal, its answer.

Pure functions: the service hands their results to
:meth:`~riskdesk.store.Store.record_decisions`, which calls :func:`refused_for_budget` and the
answer builders inside its transaction.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from riskdesk.config import RiskConfig
from riskdesk.domain import (
    AccountState,
    Action,
    Adjustment,
    Decision,
    Intent,
    MarketSnapshot,
    ReasonCode,
    Signal,
)
from riskdesk.service._adapters import reservation_limits
from riskdesk.service._views import recommendation_view
from riskdesk.store import (
    DecisionRecord,
    HoldRequest,
    OpenersSeen,
    RecordedDecision,
    ReservationOutcome,
)


def refused_for_budget(decision: Decision, outcome: ReservationOutcome) -> Decision:
    """The REJECT an approved opener becomes when concurrent holds took its budget.

    The trail gains a ``reservation`` step naming the limit and its numbers; quantity,
    notional and margin become zero, and it carries no stop (no order is sent).
    """
    code = outcome.refused_by or ReasonCode.EXPOSURE_LIMIT
    step = Adjustment("reservation", code, float(decision.notional), 0.0,
                      outcome.note or "budget held by concurrent reservations")
    return replace(decision, action=Action.REJECT, quantity=Decimal(0) * decision.quantity,
                   notional=Decimal(0), margin_required=Decimal(0), binding_cap=None,
                   reasons=(*decision.reasons, code), risk_pct=0.0, stop_price=None,
                   trail=(*decision.trail, step))


def decision_record(decision: Decision, *, signal: Signal, account: AccountState,
                    market: MarketSnapshot | None, config: RiskConfig, config_name: str,
                    ttl_seconds: float, account_id: str,
                    request_id: str | None = None,
                    seen: OpenersSeen | None = None) -> DecisionRecord:
    """The journal record of ``decision``; an approved opener also holds its budget.

    Reducers and denials hold nothing: a risk-reducing order is never refused for budget.
    ``seen`` is what the decision counted of the account's openers (checked at commit).
    """
    hold = None
    if decision.approved and decision.intent is Intent.OPEN:
        hold = HoldRequest(account_id, decision.notional, decision.margin_required,
                           ttl_seconds, reservation_limits(config, account, decision.symbol),
                           seen=seen)
    return DecisionRecord(decision, signal, account, market, config_name, request_id,
                          hold=hold, on_refused=refused_for_budget if hold else None)


def decision_view(recorded: RecordedDecision) -> dict[str, Any]:
    """Seed 001's recommendation of one journaled decision."""
    res = recorded.reservation
    return recommendation_view(
        recorded.decision, decision_id=recorded.decision_id,
        reservation=None if res is None else {"id": res.reservation_id,
                                              "expires_at": res.expires_at.isoformat()})


def single_answer(recorded: tuple[RecordedDecision, ...]) -> dict[str, Any]:
    """The answer of a one-decision write (``POST /api/capital/recommendation/position``)."""
    return decision_view(recorded[0])
