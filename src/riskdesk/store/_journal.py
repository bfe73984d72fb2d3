"""The decision journal: every decision's inputs, trail and seed 003's attribution fields."""

from __future__ import annotations

from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa

from riskdesk.domain import (
    AccountState,
    Action,
    Adjustment,
    Decision,
    MarketSnapshot,
    ReasonCode,
    Signal,
)
from riskdesk.errors import InvalidInputError
from riskdesk.store import _tables as t
from riskdesk.store._base import (
    StoreBase,
    check_float,
    check_limit,
    check_money,
    check_optional_text,
    check_text,
    check_time,
)
from riskdesk.store._codec import to_json, write_jsonl

_J = t.decisions
#: The strategy the service journals a plan's decisions under (``POST /api/orders/plan``).
PLAN_STRATEGY = "plan"
#: Actions that let an order through (:attr:`riskdesk.domain.Decision.approved`, with a size).
_ORDER_ACTIONS = (Action.ENTER.value, Action.CAUTION.value, Action.ENTER_AND_CLOSE_WORST.value)


class JournalOps(StoreBase):
    """Write and read the decision journal."""

    def journal_decision(self, decision: Decision, *, signal: Signal,
                         account: AccountState | None, market: MarketSnapshot | None,
                         config_name: str, request_id: str | None = None) -> int:
        """Append one decision to the journal.

        The row holds the decision's numbers, binding cap, reasons and trail, the inputs it was
        made from (signal, account, market) and seed 003's attribution fields:
        ``account_equity_at_entry`` (the account's equity when the decision was made) and
        ``position_size_usd`` (the decision's notional). The row is committed (durable on disk)
        when this returns.

        Parameters
        ----------
        decision
            The desk's decision. Its ``decided_at`` is the journal time; when it is ``None``
            the store's clock is used.
        signal
            The signal the decision answered.
        account, market
            The account and market state used, or ``None`` when missing (a REJECT for missing
            state is journaled too).
        config_name
            Name of the configuration (preset or file) the desk ran with.
        request_id
            The caller's request or idempotency id, optional.

        Returns
        -------
        int
            The journal row id.

        Raises
        ------
        InvalidInputError
            For a non-finite or negative number anywhere in the decision, its trail or its
            inputs, or inputs of the wrong type; nothing is written.
        """
        row = decision_row(decision, signal=signal, account=account, market=market,
                           config_name=config_name, request_id=request_id)
        now = self._now()
        row["recorded_at"] = now
        if row["decided_at"] is None:
            row["decided_at"] = now
        with self._write() as conn:
            # Parameters at execution time keep the compiled statement cached.
            new_id = conn.execute(sa.insert(_J).returning(_J.c.id), row).scalar_one()
        return int(new_id)

    def journal(self, limit: int = 50, since: datetime | None = None,
                symbol: str | None = None, before: int | None = None) -> list[dict[str, Any]]:
        """The latest journal rows, newest first.

        Parameters
        ----------
        limit
            Most rows returned.
        since
            Only decisions made at or after this time.
        symbol
            Only decisions about this symbol.
        before
            Only rows with an id below this one: the next page of a listing whose last row
            had this id (ids grow with every row journaled).

        Returns
        -------
        list of dict
            One dict per decision: the columns (money as ``Decimal``, times as aware UTC
            datetimes), plus ``context`` holding seed 003's attribution fields.
        """
        check_limit(limit)
        stmt = sa.select(_J).order_by(_J.c.id.desc()).limit(limit)
        if since is not None:
            stmt = stmt.where(_J.c.decided_at >= check_time(since, "since"))
        if symbol is not None:
            stmt = stmt.where(_J.c.symbol == check_text(symbol, "symbol", 64))
        if before is not None:
            if isinstance(before, bool) or not isinstance(before, int) or before < 1:
                raise InvalidInputError("before", before, "a journal id >= 1")
            stmt = stmt.where(_J.c.id < before)
        with self._read() as conn:
            return [_row_out(r._mapping) for r in conn.execute(stmt)]

    def last_plan_at(self) -> datetime | None:
        """When the latest plan that sent an order was decided: the last rebalance.

        A plan (``POST /api/orders/plan``) journals each of its lines under the strategy
        ``"plan"``, all with the plan's decision time. The latest such row whose decision let an
        order through (ENTER, CAUTION or ENTER_AND_CLOSE_WORST with a quantity above zero,
        as :attr:`riskdesk.domain.Decision.approved`) dates the last rebalance; a plan whose
        every line was refused moved nothing and does not count. The index on
        (``strategy``, ``decided_at``) answers it without reading the rest of the journal.

        Returns
        -------
        datetime or None
            The decision time (aware UTC), or ``None`` when no plan ever sent an order.
        """
        stmt = (sa.select(_J.c.decided_at)
                .where(_J.c.strategy == PLAN_STRATEGY, _J.c.action.in_(_ORDER_ACTIONS),
                       # Money is decimal text on SQLite: compare its number, not its text.
                       sa.cast(_J.c.quantity, sa.Float()) > 0)
                .order_by(_J.c.decided_at.desc()).limit(1))
        with self._read() as conn:
            found: datetime | None = conn.execute(stmt).scalar_one_or_none()
        return found

    def journal_entry(self, journal_id: int) -> dict[str, Any]:
        """One journal row by id (raises :class:`InvalidInputError` when unknown)."""
        with self._read() as conn:
            r = conn.execute(sa.select(_J).where(_J.c.id == journal_id)).first()
        if r is None:
            raise InvalidInputError("journal_id", journal_id, "the id of a journal row")
        return _row_out(r._mapping)

    def export_journal_jsonl(self, fp: IO[str], *, since: datetime | None = None,
                             until: datetime | None = None, batch: int = 1000) -> int:
        """Write the journal as JSON lines, oldest first.

        Parameters
        ----------
        fp
            A text file open for writing.
        since, until
            Optional bounds on the decision time (``since`` inclusive, ``until`` exclusive).
        batch
            Rows read per query.

        Returns
        -------
        int
            Lines written. Money is written as strings, so no digit is lost.
        """
        check_limit(batch, "batch")
        cond = []
        if since is not None:
            cond.append(_J.c.decided_at >= check_time(since, "since"))
        if until is not None:
            cond.append(_J.c.decided_at < check_time(until, "until"))
        last_id = 0
        written = 0
        while True:
            stmt = (sa.select(_J).where(_J.c.id > last_id, *cond)
                    .order_by(_J.c.id).limit(batch))
            with self._read() as conn:
                rows = [_row_out(r._mapping) for r in conn.execute(stmt)]
            for row in rows:
                write_jsonl(fp, row)
            written += len(rows)
            if len(rows) < batch:
                return written
            last_id = rows[-1]["id"]


def decision_row(decision: Decision, *, signal: Signal, account: AccountState | None,
                 market: MarketSnapshot | None, config_name: str,
                 request_id: str | None) -> dict[str, Any]:
    """The validated ``decisions`` row (without ``recorded_at``) of one decision.

    Raises :class:`InvalidInputError` naming the field for anything non-finite, negative or
    of the wrong type, before anything is written.
    """
    return {**decision_fields(decision),
            **input_fields(signal=signal, account=account, market=market,
                           config_name=config_name, request_id=request_id)}


def input_fields(*, signal: Signal, account: AccountState | None,
                 market: MarketSnapshot | None, config_name: str,
                 request_id: str | None) -> dict[str, Any]:
    """The columns of a journal row that come from the decision's inputs (validated)."""
    return {**input_columns(signal=signal, account=account, market=market,
                            config_name=config_name, request_id=request_id),
            "inputs": {"signal": to_json(signal, "signal"),
                       "account": to_json(account, "account"),
                       "market": to_json(market, "market")}}


def input_columns(*, signal: Signal, account: AccountState | None,
                  market: MarketSnapshot | None, config_name: str,
                  request_id: str | None) -> dict[str, Any]:
    """:func:`input_fields` without the ``inputs`` document (checked, not yet encoded)."""
    if not isinstance(signal, Signal):
        raise InvalidInputError("signal", signal, "a riskdesk.domain.Signal")
    if account is not None and not isinstance(account, AccountState):
        raise InvalidInputError("account", account, "an AccountState or None")
    if market is not None and not isinstance(market, MarketSnapshot):
        raise InvalidInputError("market", market, "a MarketSnapshot or None")
    return {
        "request_id": check_optional_text(request_id, "request_id"),
        "config_name": check_text(config_name, "config_name"),
        "strategy": check_optional_text(signal.strategy, "signal.strategy"),
        "account_equity_at_entry": None if account is None else account.equity,
    }


def decision_fields(decision: Decision) -> dict[str, Any]:
    """The columns of a journal row that come from the decision itself (validated)."""
    if not isinstance(decision, Decision):
        raise InvalidInputError("decision", decision, "a riskdesk.domain.Decision")
    d = decision
    decided_at = None if d.decided_at is None else check_time(d.decided_at,
                                                               "decision.decided_at")
    notional = check_money(d.notional, "decision.notional")
    return {
        "decided_at": decided_at,
        "symbol": check_text(d.symbol, "decision.symbol", 64),
        "side": d.side.value,
        "intent": d.intent.value,
        "action": d.action.value,
        "quantity": check_money(d.quantity, "decision.quantity"),
        "price": check_money(d.price, "decision.price"),
        "notional": notional,
        "leverage": check_money(d.leverage, "decision.leverage", allow_zero=False),
        "margin_required": check_money(d.margin_required, "decision.margin_required"),
        "execution_method": d.execution_method.value,
        "binding_cap": None if d.binding_cap is None else d.binding_cap.value,
        "risk_pct": check_float(d.risk_pct, "decision.risk_pct"),
        "position_size_usd": notional,
        "reasons": to_json(list(d.reasons), "decision.reasons"),
        "close_symbols": to_json(list(d.close_symbols), "decision.close_symbols"),
        "trail": trail_json(d.trail),
    }


def trail_json(trail: tuple[Adjustment, ...]) -> list[dict[str, Any]]:
    """A decision's trail as the journal stores it (``Adjustment.to_dict`` of each step).

    Steps of the usual form (string step and note, a reason code, finite float values) are
    copied directly; anything else takes :func:`to_json`'s checked path, which names the
    offending step.
    """
    out = []
    for a in trail:
        if type(a) is not Adjustment:
            return _checked_trail(trail)
        before, after = a.before, a.after
        if type(a.code) is not ReasonCode or type(before) is not float \
                or type(after) is not float or before - before != 0.0 or after - after != 0.0 \
                or type(a.step) is not str or type(a.note) is not str:
            return _checked_trail(trail)
        out.append({"step": a.step, "code": a.code.value, "before": before, "after": after,
                    "note": a.note})
    return out


def _checked_trail(trail: tuple[Adjustment, ...]) -> list[dict[str, Any]]:
    """:func:`trail_json` by the checked path: names the first step that cannot be stored."""
    return to_json([_step_dict(x, i) for i, x in enumerate(trail)],  # type: ignore[return-value]
                   "decision.trail")


def _step_dict(step: object, i: int) -> dict[str, Any]:
    """One trail step as a dict, or :class:`InvalidInputError` naming what it lacks."""
    field = f"decision.trail[{i}]"
    if not isinstance(step, Adjustment):
        raise InvalidInputError(field, step, "an Adjustment")
    if not isinstance(step.code, ReasonCode):
        raise InvalidInputError(f"{field}.code", step.code, "a ReasonCode")
    for name in ("step", "note"):
        if not isinstance(getattr(step, name), str):
            raise InvalidInputError(f"{field}.{name}", getattr(step, name), "a string")
    return step.to_dict()


def _row_out(m: Any) -> dict[str, Any]:
    row = dict(m)
    signal = (row["inputs"] or {}).get("signal") or {}
    row["context"] = {
        "account_equity_at_entry": row["account_equity_at_entry"],
        "position_size_usd": row["position_size_usd"],
        "strategy": row["strategy"],
        "score": signal.get("score"),
    }
    return row
