"""Thin adapters between the service and the library parts it composes.

Each function here either calls one library function with the service's inputs, or reshapes
a library result into the JSON the faces answer with. No sizing or risk rule lives here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from riskdesk.allocation import (
    TierSpec,
    inverse_volatility,
    rebalance_due,
    risk_parity,
    tier_budgets,
    tier_exposures,
    tier_for_symbol,
    tiers_from_config,
)
from riskdesk.brokers import Broker, OrderBook
from riskdesk.config import RiskConfig
from riskdesk.domain import (
    AccountState,
    Decision,
    ReasonCode,
    Rounding,
    TradingState,
    quantize_to_step,
)
from riskdesk.errors import (
    ComputationError,
    InvalidInputError,
    StateError,
    StoreUnavailableError,
)
from riskdesk.limits import (
    DrawdownStatus,
    MarginStatus,
    ScalingStrategy,
    capital_state,
)
from riskdesk.planning import Plan, PlanLine
from riskdesk.reconcile import Book, ReconcilePolicy, run_reconciliation
from riskdesk.service._json import jsonable
from riskdesk.service._views import capital_state_view, pct
from riskdesk.sizing import (
    LeverageAdvice,
    account_profile,
    half_kelly,
    kelly_adjustments,
    kelly_binary,
)
from riskdesk.store import ReservationLimits, Store, resolve_url

#: Where the service keeps its own book of positions for reconciliation.
BOOK_KEY = "riskdesk:book"
_MARGIN_QUANTUM = Decimal("1e-8")


# ---------------------------------------------------------------------- store and broker
def open_store(url: str, *, config: RiskConfig, clock: Callable[[], datetime]) -> Store:
    """Open and migrate the store at ``url``."""
    return Store.open(resolve_url(url), config=config, clock=clock, migrate=True)


def close_store(store: Store) -> None:
    """Release the store's connections."""
    store.close()


def ping(store: Store) -> None:
    """Raise :class:`StoreUnavailableError` unless the database answers.

    An outage says why in the driver's words (see :class:`StoreUnavailableError`); any other
    database error while checking is named by its type only.
    """
    try:
        store.schema_version()
    except StoreUnavailableError:
        raise
    except SQLAlchemyError as exc:
        raise StoreUnavailableError(f"health check failed: {type(exc).__name__}") from exc


def order_book(broker: Broker, symbol: str, depth: int) -> OrderBook | None:
    """The broker's book for ``symbol``, or ``None`` when it has no levels on either side."""
    book = broker.order_book(symbol, depth)
    return book if book.bids or book.asks else None


def reservation_limits(config: RiskConfig, account: AccountState,
                       symbol: str) -> ReservationLimits:
    """The caps a reservation must fit under, from the account the decision was made on.

    Buying power times its safety factor, total exposure, free margin and, when capital tiers are
    on, the symbol's tier. The store caps a tier's *notional* (held and new), while the desk's
    tier cap is the tier's remaining margin budget (allocation's :func:`tier_budgets`) times the
    order's leverage; the tier's notional cap is therefore its notional exposure plus that
    remaining budget at the tier's maximum leverage, so that a reservation never refuses an
    order the desk sized within its tier, and concurrent reservations still share one budget.
    """
    assert account.buying_power is not None
    rm, ps = config.risk_management, config.position_sizing
    exposure = sum((p.notional for p in account.positions), Decimal(0))
    tier = tier_cap = None
    tier_exposure = Decimal(0)
    ct = config.capital_tiers
    if ct.enabled:
        specs, deployed, used = _tier_usage(config, account)
        spec = tier_for_symbol(symbol, specs, default=ct.default_tier)
        tier = spec.name
        room = tier_budgets(account.equity, used, specs,
                            available=account.available)[tier].remaining
        tier_exposure = deployed[tier]
        tier_cap = tier_exposure + room * Decimal(repr(spec.max_leverage))
    return ReservationLimits(
        buying_power=account.buying_power * Decimal(repr(rm.buying_power_safety)),
        max_exposure=account.equity * Decimal(repr(ps.max_total_exposure)),
        tier=tier, tier_cap=tier_cap, exposure=exposure, tier_exposure=tier_exposure,
        available_margin=account.available, as_of=account.as_of)


def as_dict(value: Any) -> dict[str, Any]:
    """A library result as a JSON object."""
    out = jsonable(value)
    if not isinstance(out, dict):
        raise TypeError(f"expected an object, got {type(out).__name__}")
    return out


def capital_view(config: RiskConfig, account: AccountState) -> dict[str, Any]:
    """Seed 001's capital state of the account."""
    return capital_state_view(account, capital_state(account, config.capital_status))


def capital_point(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """One stored capital snapshot as an equity-curve point."""
    at = snapshot["at"]
    return {"at": at.isoformat() if isinstance(at, datetime) else str(at),
            "equity": str(snapshot["equity"]),
            "total_wallet_balance": str(snapshot["total_wallet_balance"]),
            "margin_used_pct": pct(float(snapshot["margin_used_pct"])),
            "drawdown_pct": pct(float(snapshot["drawdown"])),
            "capital_status": str(snapshot["capital_status"])}


def _tier_usage(config: RiskConfig, account: AccountState
                ) -> tuple[tuple[TierSpec, ...], dict[str, Decimal], dict[str, Decimal]]:
    """The configured tiers, and each tier's notional and committed capital (margin)."""
    ct = config.capital_tiers
    specs = tiers_from_config(ct)
    notional: dict[str, Decimal] = {}
    margin: dict[str, Decimal] = {}
    for p in account.positions:
        notional[p.symbol] = notional.get(p.symbol, Decimal(0)) + p.notional
        # margin rounded up to 1e-8, as the desk rounds a decision's margin
        margin[p.symbol] = margin.get(p.symbol, Decimal(0)) + quantize_to_step(
            p.margin, _MARGIN_QUANTUM, Rounding.UP)
    default = ct.default_tier
    return (specs, tier_exposures(notional, specs, default=default),
            tier_exposures(margin, specs, default=default))


def tier_of(config: RiskConfig, symbol: str) -> str:
    """The capital tier that lists ``symbol`` exactly, else the configured default tier."""
    ct = config.capital_tiers
    return tier_for_symbol(symbol, tiers_from_config(ct), default=ct.default_tier).name


def scaling_view(strategy: ScalingStrategy, equity: Decimal) -> dict[str, Any]:
    """Seed 001's account-size profile with ``risk_per_trade`` as a decimal string.

    ``risk_per_trade`` is ``equity x risk_pct`` worked out exactly (the library's figure is a
    float); ``None`` below every tier. The ``*_risk_pct`` fields stay fractions, as
    ``account_tiers`` spells them.
    """
    out = strategy.to_dict()
    risk = strategy.risk_pct
    out["risk_per_trade"] = None if risk is None or strategy.risk_per_trade is None \
        else str(equity * Decimal(repr(risk)))
    return out


def multi_tier_view(config: RiskConfig, account: AccountState, *, now: datetime | None = None,
                    last_rebalance: datetime | None = None) -> dict[str, Any]:
    """Each capital tier's budget, usage and room, and seed 001's rebalancing schedule.

    Membership, budgets and the schedule are allocation's (:func:`tier_exposures`,
    :func:`tier_budgets`, :func:`rebalance_due`), read from ``capital_tiers`` by
    :func:`tiers_from_config`: the same figures the desk's tier cap uses. ``used`` is the
    capital a tier commits (margin: notional / leverage), ``deployed`` its notional;
    ``remaining`` is what a new position may still commit. The schedule is computed at ``now``
    (the account's ``as_of`` when not given); without a recorded ``last_rebalance`` the tiers
    are due now.

    Raises
    ------
    StateError
        When neither ``now`` nor the account's ``as_of`` dates the schedule.
    """
    ct = config.capital_tiers
    equity = account.equity  # > 0: AccountState checks it
    at = now if now is not None else account.as_of
    if at is None:
        raise StateError("the account state has no as_of time to date the rebalancing by")
    specs, deployed, used = _tier_usage(config, account)
    default = ct.default_tier
    budgets = tier_budgets(equity, used, specs, available=account.available)
    shares = {t.name: used[t.name] / equity for t in specs if not t.is_reserve}
    check = rebalance_due(shares, last_rebalance, at, specs, threshold=ct.rebalance_deviation)

    def rel(value: float | None) -> float | None:
        return None if value is None or not math.isfinite(value) else pct(value)

    tiers = []
    for t in specs:
        b = budgets[t.name]
        tiers.append({
            "tier": t.name, "target_pct": pct(float(t.target_pct)), "budget": str(b.target),
            "used": str(b.used), "used_pct": pct(float(b.used / equity)),
            "deployed": str(deployed[t.name]),
            "deployed_pct": pct(float(deployed[t.name] / equity)),
            "remaining": str(b.remaining),
            "leverage_range": [t.min_leverage, t.max_leverage],
            "symbols": sorted(t.symbols), "reserve": t.is_reserve,
            "deviation_pct": rel(check.deviations.get(t.name))})
    return {"enabled": ct.enabled, "equity": str(equity), "available": str(account.available),
            "default_tier": default,
            "rebalance_deviation_pct": pct(ct.rebalance_deviation),
            "rebalance": {
                "due": check.due, "cadence": check.cadence,
                "threshold_pct": pct(ct.rebalance_deviation),
                "last_rebalance": None if last_rebalance is None else last_rebalance.isoformat(),
                "next_due": check.next_due.isoformat(),
                "deviations_pct": {k: rel(v) for k, v in check.deviations.items()}},
            "tiers": tiers}


# ---------------------------------------------------------------------- calculators
def kelly_view(config: RiskConfig, *, win_rate: float, win_loss_ratio: float,
               regime: str | None, heat: float | None, capital: Decimal) -> dict[str, Any]:
    """Seed 001's Kelly endpoint.

    The full Kelly fraction, half-Kelly, and the configured fraction after the account-size, regime
    and heat adjustments, in percent and dollars.

    Raises
    ------
    InvalidInputError
        When ``win_rate`` or ``win_loss_ratio`` is out of range.
    ComputationError
        Failing closed, should a fraction not be finite (bounded inputs and configuration
        keep it within ``[0, 1]`` times the configured multipliers).
    """
    k = config.kelly
    full = kelly_binary(win_rate, win_loss_ratio, risk_aversion=k.risk_aversion,
                        clip=(0.0, 1.0))
    clipped = min(max(full, k.clip_min), k.clip_max) if full > 0 else 0.0
    profile = account_profile(float(capital), config.account_tiers) if capital > 0 else None
    tier = None if profile is None else profile[0]
    steps = kelly_adjustments(account_tier=tier, regime=regime, portfolio_heat=heat, cfg=k)
    value = clipped * k.fraction
    adjustments = [{"code": "KELLY", "before": full, "after": value,
                    "note": f"Kelly {full:.4f} clipped to [{k.clip_min}, {k.clip_max}] "
                            f"x fraction {k.fraction}"}]
    for code, mult, note in steps:
        adjustments.append({"code": code.value, "before": value, "after": value * mult,
                            "note": note})
        value *= mult
    _finite_figures("kelly", {"fraction": {"kelly": full, "adjusted": value}})
    return {"kelly_pct": pct(full), "half_kelly_pct": pct(half_kelly(full)),
            "kelly_fraction": k.fraction, "adjusted_pct": pct(value),
            "capital": str(capital),
            "position_size_usd": str((capital * Decimal(repr(value))).quantize(Decimal("0.01"))),
            "account_tier": tier, "adjustments": adjustments}


#: The request's names of allocation's arguments where they differ (``budgets`` does not).
_RISK_PARITY_FIELDS = {"vols": "volatilities", "cov": "covariance"}


def _finite_figures(method: str, figures: Mapping[str, Mapping[str, float] | None]) -> None:
    """Raise :class:`ComputationError` unless every figure of a calculator's answer is finite.

    The response schemas promise numbers, and a JSON answer carries a non-finite float as
    ``null``: a calculator that produced one refuses the request instead of answering it.
    """
    for name, values in figures.items():
        for key, value in (values or {}).items():
            if not math.isfinite(value):
                raise ComputationError(f"{method}: {name} of {key!r} is not finite ({value!r})")


def risk_parity_view(*, volatilities: Mapping[str, float] | None, symbols: list[str] | None,
                     covariance: list[list[float]] | None, budgets: list[float] | None,
                     capital: Decimal) -> dict[str, Any]:
    """Inverse-volatility weights (seed 001) or equal-risk-contribution weights.

    Raises
    ------
    InvalidInputError
        Naming the request's field (``volatilities``, ``symbols``, ``covariance`` or
        ``budgets``): a missing or mismatched input, a covariance that is not a positive
        semi-definite matrix with a positive variance for every asset, bad budgets.
    ComputationError
        When the equal-risk solve does not converge (a singular covariance, extreme
        budgets), or, failing closed, when any weight or contribution is not finite.
    """
    try:
        return _risk_parity_view(volatilities=volatilities, symbols=symbols,
                                 covariance=covariance, budgets=budgets, capital=capital)
    except InvalidInputError as exc:
        field = _RISK_PARITY_FIELDS.get(exc.field)
        if field is None:
            raise
        raise InvalidInputError(field, exc.value, exc.expected) from None


def _risk_parity_view(*, volatilities: Mapping[str, float] | None, symbols: list[str] | None,
                      covariance: list[list[float]] | None, budgets: list[float] | None,
                      capital: Decimal) -> dict[str, Any]:
    if volatilities is not None:
        if symbols is not None or covariance is not None or budgets is not None:
            raise InvalidInputError("volatilities", "...",
                                    "either volatilities, or symbols with a covariance")
        if not volatilities:
            raise InvalidInputError("volatilities", {}, "at least one symbol")
        names = list(volatilities)
        result = inverse_volatility([volatilities[n] for n in names])
    else:
        if covariance is None:
            raise InvalidInputError("covariance", None,
                                    "volatilities, or symbols with a covariance matrix")
        if symbols is None:
            raise InvalidInputError("symbols", None, "the symbols of the covariance's rows, "
                                    "in order (or volatilities instead of a covariance)")
        if len(set(symbols)) != len(symbols):
            raise InvalidInputError("symbols", symbols, "distinct symbols")
        if len(covariance) != len(symbols) or any(len(r) != len(symbols) for r in covariance):
            raise InvalidInputError("covariance", f"{len(covariance)} rows",
                                    f"a {len(symbols)} x {len(symbols)} matrix")
        names = list(symbols)
        result = risk_parity(np.asarray(covariance, dtype=float), budgets)
    weights = [float(w) for w in result.weights]
    rc = None if result.risk_contributions is None else \
        {n: float(c) for n, c in zip(names, result.risk_contributions, strict=True)}
    _finite_figures(result.method, {"weight": dict(zip(names, weights, strict=True)),
                                    "risk contribution": rc})
    return {
        "method": result.method,
        "weights": dict(zip(names, weights, strict=True)),
        "allocation_pct": {n: pct(w) for n, w in zip(names, weights, strict=True)},
        "allocation_usd": {n: str((capital * Decimal(repr(w))).quantize(Decimal("0.01")))
                           for n, w in zip(names, weights, strict=True)},
        "converged": bool(result.converged),
        "iterations": int(result.iterations),
        "risk_contributions": rc,
        "volatility": None if result.volatility is None or not math.isfinite(result.volatility)
        else result.volatility,
        "capital": str(capital),
    }


# ---------------------------------------------------------------------- journal
def journal_entry(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored journal row as the API shows it (inputs left out; the trail kept)."""
    out = {k: jsonable(v) for k, v in row.items() if k not in ("inputs",)}
    out["id"] = int(row["id"])
    return out


# ---------------------------------------------------------------------- desk views
def leverage_view(symbol: str, advice: LeverageAdvice) -> dict[str, Any]:
    """The adaptive leverage with its factors."""
    return {"symbol": symbol, "optimal_leverage": advice.leverage, "raw": advice.raw,
            "factors": dict(advice.factors), "note": advice.note}


def margin_view(status: MarginStatus) -> dict[str, Any]:
    """The margin monitor, percents as percents."""
    out = as_dict(status)
    out["margin_used_pct"] = pct(status.margin_used_pct)
    out["free_margin_pct"] = pct(status.free_margin_pct)
    out["action"] = {"GREEN": "normal operation", "YELLOW": "new entries paused",
                     "ORANGE": "reduce positions", "RED": "close the worst positions"
                     }[status.zone.value]
    return out


def drawdown_view(status: DrawdownStatus, trading: tuple[TradingState, tuple[ReasonCode, ...]],
                  now: datetime) -> dict[str, Any]:
    """Drawdown state, multipliers, loss limits, breaker and the effective trading state."""
    b = status.breaker
    active = b.is_active(now)
    return {"state": status.level.value, "drawdown_pct": pct(status.drawdown),
            "size_multiplier": status.size_multiplier,
            "leverage_reduction": status.leverage_reduction,
            "force_min_leverage": status.force_min_leverage,
            "daily_pnl_pct": pct(status.daily_pnl_pct),
            "weekly_pnl_pct": pct(status.weekly_pnl_pct),
            "entries_allowed": status.entries_allowed,
            "reasons": [r.value for r in status.reasons],
            "breaker_tripped": active,
            "breaker_until": None if not active or b.until is None else b.until.isoformat(),
            "breaker": as_dict(b),
            "trading_state": trading[0].value,
            "trading_state_reasons": [r.value for r in trading[1]]}


def plan_decision_view(decision: Decision) -> dict[str, Any]:
    """The desk's decision of a plan line: money as decimal strings, ``risk_pct`` a percent."""
    out = decision.to_dict()
    out["risk_pct"] = pct(decision.risk_pct)
    return out


def plan_line_view(line: PlanLine) -> dict[str, Any]:
    """One plan line (:class:`riskdesk.api.PlanLineOut`): money as decimal strings."""
    return {"phase": line.phase, "symbol": line.symbol, "target_weight": line.target_weight,
            "intended_val": str(line.intended_val),
            "current_qty": str(line.current_qty), "log": line.log_line(),
            "decision": plan_decision_view(line.decision)}


def plan_view(plan: Plan) -> dict[str, Any]:
    """A plan's lines in execution order and its summary, money as decimal strings.

    The service adds the journaled decisions (:class:`riskdesk.api.PlanOut`).
    """
    return {"lines": [plan_line_view(line) for line in plan.lines],
            "summary": {"available_before": str(plan.available_before),
                        "freed_margin": str(plan.freed_margin),
                        "available_after": str(plan.available_after)}}


def plan_decisions(plan: Any) -> list[Decision]:
    """The decisions of a plan, in execution order."""
    return [line.decision for line in plan.lines]


def load_book(store: Store) -> Book:
    """The service's own book of positions (empty before the first adopting reconcile)."""
    raw = store.get_kv(BOOK_KEY)
    return Book() if raw is None else Book.from_dict(raw)


def reconcile_view(store: Store, broker: Broker, policy: str, now: datetime,
                   account_id: str) -> dict[str, Any]:
    """Reconcile the stored book with the broker and store the report.

    With ``adopt_remote`` the resulting book is stored too.
    """
    rules = ReconcilePolicy.adopt_all() if policy == "adopt_remote" else ReconcilePolicy()
    report = run_reconciliation(broker, load_book(store), rules, now, store=store,
                                account_id=account_id)
    if policy == "adopt_remote":
        store.put_kv(BOOK_KEY, report.book.to_dict())
    return as_dict(report)
