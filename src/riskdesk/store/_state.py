"""Desk state (trading state, breaker) that survives a restart, its history, and a small kv."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from riskdesk.errors import ConflictError, InvalidInputError
from riskdesk.store import _tables as t
from riskdesk.store._base import (
    StoreBase,
    check_limit,
    check_optional_text,
    check_storable,
    check_text,
    check_time,
)
from riskdesk.store._codec import to_json_object

_D = t.desk_state
_EV = t.trading_state_events
_KV = t.kv
_ROW_ID = 1


class StateOps(StoreBase):
    """Persist the desk's state dict and a generic key-value document store."""

    def save_desk_state(self, state: dict[str, Any], *, at: datetime,
                        operator: str | None = None, note: str | None = None,
                        expected_version: int | None = None) -> int:
        """Store the desk's state and append the change to ``trading_state_events``.

        Parameters
        ----------
        state
            The desk's state as a JSON-ready dict (``DeskState.to_dict()``); a top-level
            ``trading_state`` key, when present, is also written to its own history column.
        at
            When the change happened.
        operator
            Who made the change (an operator name, ``"breaker"``, ``"desk"``), optional.
        note
            Why, optional.
        expected_version
            When given, the save succeeds only if the stored version is this one (``0`` for
            "nothing stored yet"): an optimistic lock against concurrent writers.

        Returns
        -------
        int
            The new version (1 for the first save).

        Raises
        ------
        ConflictError
            If ``expected_version`` does not match.
        InvalidInputError
            For a state that is not a JSON-ready dict, a naive time or a bad version.
        """
        doc = to_json_object(state, "state")
        check_time(at, "at")
        operator = check_optional_text(operator, "operator")
        if note is not None:
            if not isinstance(note, str):
                raise InvalidInputError("note", note, "a string or None")
            check_storable(note, "note")
        if expected_version is not None and (isinstance(expected_version, bool) or not
                                             isinstance(expected_version, int)
                                             or expected_version < 0):
            raise InvalidInputError("expected_version", expected_version, "an int >= 0")
        trading_state = check_optional_text(doc.get("trading_state"), "state.trading_state",
                                            16)
        with self._write() as conn:
            self._lock(conn, "desk_state")
            current = conn.execute(sa.select(_D.c.version).where(_D.c.id == _ROW_ID)).scalar()
            version = 0 if current is None else int(current)
            if expected_version is not None and expected_version != version:
                raise ConflictError(f"desk state is at version {version}, "
                                    f"not {expected_version}: reload and retry")
            new_version = version + 1
            values = {"version": new_version, "updated_at": at, "state": doc}
            if current is None:
                conn.execute(sa.insert(_D).values(id=_ROW_ID, **values))
            else:
                conn.execute(sa.update(_D).where(_D.c.id == _ROW_ID).values(**values))
            conn.execute(sa.insert(_EV).values(
                at=at, version=new_version, operator=operator, note=note, state=doc,
                trading_state=trading_state))
        return new_version

    def load_desk_state(self) -> dict[str, Any] | None:
        """The last saved state dict, exactly as saved, or ``None`` when none was saved."""
        record = self.desk_state_record()
        return None if record is None else dict(record["state"])

    def desk_state_record(self) -> dict[str, Any] | None:
        """The last saved state with its ``version`` and ``updated_at``, or ``None``."""
        with self._read() as conn:
            row = conn.execute(sa.select(_D).where(_D.c.id == _ROW_ID)).first()
        if row is None:
            return None
        return {"version": row.version, "updated_at": row.updated_at, "state": row.state}

    def trading_state_events(self, limit: int = 100) -> list[dict[str, Any]]:
        """State changes, newest first.

        Each has ``at``, ``version``, ``trading_state``, ``operator``, ``note`` and the full
        ``state``.
        """
        check_limit(limit)
        stmt = sa.select(_EV).order_by(_EV.c.id.desc()).limit(limit)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    # ------------------------------------------------------------------ key-value
    def put_kv(self, key: str, value: dict[str, Any]) -> None:
        """Store a JSON document under ``key``, replacing any previous one.

        Decimals and datetimes inside ``value`` are stored as strings.
        """
        key = check_text(key, "key")
        doc = to_json_object(value, "value")
        now = self._now()
        with self._write() as conn:
            self._lock(conn, f"kv:{key}")
            updated = conn.execute(sa.update(_KV).where(_KV.c.key == key)
                                   .values(value=doc, updated_at=now)).rowcount
            if updated == 0:
                conn.execute(sa.insert(_KV).values(key=key, value=doc, updated_at=now))

    def get_kv(self, key: str) -> dict[str, Any] | None:
        """The document stored under ``key``, or ``None``."""
        key = check_text(key, "key")
        with self._read() as conn:
            value = conn.execute(sa.select(_KV.c.value).where(_KV.c.key == key)).scalar()
        return None if value is None else dict(value)

    def delete_kv(self, key: str) -> bool:
        """Delete ``key``; True when something was deleted."""
        key = check_text(key, "key")
        with self._write() as conn:
            return bool(conn.execute(sa.delete(_KV).where(_KV.c.key == key)).rowcount)
