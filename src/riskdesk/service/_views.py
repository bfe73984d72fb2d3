"""Pure views: account state and decisions shaped as the API answers them.

Money stays an exact decimal string; ``*_pct`` fields are percents (16.0 = 16 %), as in
seed 001's examples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from riskdesk.domain import AccountState, Decision
from riskdesk.limits import CapitalState
from riskdesk.store import HeldBudget


def pct(fraction: float) -> float:
    """A fraction as a percent, rounded to 1e-6 so that JSON stays short."""
    return round(fraction * 100.0, 6)


def capital_state_view(account: AccountState, state: CapitalState) -> dict[str, Any]:
    """Seed 001's capital state (``GET /api/capital/state``) plus equity and drawdown.

    Parameters
    ----------
    account
        The account as the broker reports it.
    state
        The capital figures and status of :func:`riskdesk.limits.capital_state`
        (``margin_used_pct`` is on the wallet balance, as in the seed).

    Returns
    -------
    dict
        Money as decimal strings, percents as numbers.
    """
    assert account.high_water_mark is not None
    return {
        "total_wallet_balance": str(state.total_wallet_balance),
        "equity": str(account.equity),
        "available_balance": str(state.available_balance),
        "margin_used": str(state.margin_used),
        "margin_used_pct": round(state.margin_used_pct, 6),
        "unrealized_pnl": str(state.unrealized_pnl),
        "buying_power": str(state.buying_power),
        "capital_status": state.capital_status.value,
        "high_water_mark": str(account.high_water_mark),
        "drawdown_pct": pct(account.drawdown),
        "open_positions": len(account.positions),
        "as_of": None if account.as_of is None else account.as_of.isoformat(),
    }


def reserved_view(budget: HeldBudget) -> dict[str, Any]:
    """Budget held by pending orders (active reservations), as :func:`capital_state_view` adds it.

    Parameters
    ----------
    budget
        The account's holds that count against its budget
        (:meth:`riskdesk.store.Store.held_budget`).

    Returns
    -------
    dict
        ``count``, ``notional``, ``margin`` and ``by_symbol`` rows (symbol, count, notional),
        largest first; money as decimal strings.
    """
    return {"count": budget.count, "notional": str(budget.notional),
            "margin": str(budget.margin),
            "by_symbol": [{"symbol": s.symbol, "count": s.count, "notional": str(s.notional)}
                          for s in budget.by_symbol]}


def exposure_view(account: AccountState, tier_of: Callable[[str], str],
                  tier_targets: Mapping[str, float]) -> dict[str, list[dict[str, Any]]]:
    """Exposure by symbol and by capital tier, largest first.

    Parameters
    ----------
    account
        The account.
    tier_of
        Which capital tier a symbol belongs to.
    tier_targets
        Each tier's target share of capital as a fraction (shown beside the actual share).

    Returns
    -------
    dict
        ``by_symbol`` rows (symbol, side, quantity, notional, pct_of_equity) and ``by_tier``
        rows (tier, notional, pct_of_equity, target_pct); every tier appears.
    """
    equity = account.equity
    by_symbol = []
    tiers: dict[str, Decimal] = {name: Decimal(0) for name in tier_targets}
    for p in sorted(account.positions, key=lambda p: p.notional, reverse=True):
        by_symbol.append({
            "symbol": p.symbol, "side": p.side.value, "quantity": str(p.quantity),
            "notional": str(p.notional), "pct_of_equity": pct(float(p.notional / equity)),
            "unrealized_pnl": str(p.unrealized_pnl)})
        tier = tier_of(p.symbol)
        tiers[tier] = tiers.get(tier, Decimal(0)) + p.notional
    by_tier = [{"tier": name, "notional": str(value),
                "pct_of_equity": pct(float(value / equity)),
                "target_pct": pct(tier_targets.get(name, 0.0))}
               for name, value in tiers.items()]
    return {"by_symbol": by_symbol, "by_tier": by_tier}


def reason_text(decision: Decision) -> str:
    """One sentence for seed 001's ``reason``: the denial notes, else the binding cap's."""
    wanted = set(decision.reasons)
    notes = [a.note or a.code.value for a in decision.trail if a.code in wanted]
    if not notes and decision.reasons:
        notes = [r.value for r in decision.reasons]
    if not notes and decision.binding_cap is not None:
        notes = [a.note or a.code.value for a in decision.trail
                 if a.code is decision.binding_cap][-1:] or [decision.binding_cap.value]
    if not notes:
        return f"{decision.action.value}: sized by policy, no cap bound"
    return "; ".join(dict.fromkeys(notes))


def recommendation_view(decision: Decision, *, decision_id: int,
                        reservation: Mapping[str, Any] | None) -> dict[str, Any]:
    """Seed 001's recommendation built from a journaled :class:`Decision`.

    Parameters
    ----------
    decision
        The desk's decision.
    decision_id
        Its journal id.
    reservation
        The reservation made for it (``id``, ``expires_at``), or ``None``.

    Returns
    -------
    dict
        ``recommendation``, ``optimal_leverage``, ``quantity``, ``position_size_usd``,
        ``risk_pct``, ``execution_method``, ``reason``, ``adjustments``, ``stop_price`` and
        the rest of
        :class:`riskdesk.api.RecommendationOut`.
    """
    d = decision.to_dict()
    return {
        "recommendation": d["action"],
        "symbol": d["symbol"],
        "side": d["side"],
        "intent": d["intent"],
        "optimal_leverage": d["leverage"],
        "quantity": d["quantity"],
        "price": d["price"],
        "position_size_usd": d["notional"],
        "margin_required": d["margin_required"],
        "risk_pct": pct(decision.risk_pct),
        "execution_method": d["execution_method"],
        "binding_cap": d["binding_cap"],
        "reason": reason_text(decision),
        "reasons": d["reasons"],
        "close_symbols": d["close_symbols"],
        "adjustments": d["trail"],
        "decided_at": d["decided_at"],
        "stop_price": d["stop_price"],
        "decision_id": decision_id,
        "reservation_id": None if reservation is None else str(reservation["id"]),
        "reservation_expires_at": None if reservation is None
        else str(reservation["expires_at"]),
    }

