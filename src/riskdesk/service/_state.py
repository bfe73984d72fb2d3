"""The service's desk and the stored desk state it runs on, shared by every worker.

Deciding must not read the desk state from the database on every call, yet an operator's halt
saved by one worker must bind every other worker at once. Each desk state save bumps a
version number in the store. A worker decides on the state it holds in memory and hands the
version it decided on to :meth:`~riskdesk.store.Store.record_decisions`, which compares it
with the stored version inside the transaction that journals the decision: if another worker
saved a new state in between, nothing is written and the worker reloads the state and decides
again. So no decision is journaled or answered on a state older than the one stored when it
commits. Views (``GET`` endpoints) read the stored state each time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from riskdesk.config import RiskConfig
from riskdesk.desk import Desk, DeskState
from riskdesk.errors import ConflictError
from riskdesk.service._json import jsonable

T = TypeVar("T")


class DeskMovedError(ConflictError):
    """Another worker saved a new desk state while this one decided: reload and decide again."""


class SaveNeededError(Exception):
    """Deciding needs a write a caller on an event loop must not make.

    The decision changed the desk state (the change is dropped: the held state is reloaded on
    next use), or the day's first capital snapshot must be recorded. Make the decision again
    where blocking I/O is allowed.
    """


class DeskSession:
    """A desk built from the stored desk state, and that state's version.

    Parameters
    ----------
    config
        The risk configuration.
    store
        The store holding the desk state.
    """

    def __init__(self, config: RiskConfig, store: Any) -> None:
        self._config = config
        self._store = store
        self._lock = threading.RLock()
        self._version = -1  # nothing loaded yet
        self.desk = Desk(config)

    @property
    def version(self) -> int:
        """The stored version the desk holds (``-1`` before the first load)."""
        return self._version

    def invalidate(self) -> None:
        """Forget the held state: the next use reloads it."""
        with self._lock:
            self._version = -1

    def _load(self) -> int:
        record = self._store.desk_state_record()
        version = 0 if record is None else int(record["version"])
        if version != self._version:
            state = None if record is None else DeskState.from_dict(record["state"])
            self.desk = Desk(self._config, state=state)
            self._version = version
        return version

    @contextmanager
    def fresh(self, *, persist: bool = False, at: datetime | None = None,
              operator: str | None = None, note: str | None = None) -> Iterator[Desk]:
        """The desk on the stored state, read now; with ``persist``, a change is saved.

        The save succeeds only if nobody saved since the state was read (optimistic lock):
        otherwise :class:`~riskdesk.errors.ConflictError` is raised and nothing is written,
        so a worker never overwrites an operator's halt with a state it read before it.
        """
        with self._lock:
            version = self._load()
            before = self.desk.state
            yield self.desk
            if persist and self.desk.state != before:
                if at is None:
                    raise ValueError("persisting the desk state needs the time of the change")
                self._save(version, at, operator, note)

    @property
    def loaded(self) -> bool:
        """Whether a state is held (:meth:`decide` then reads nothing)."""
        return self._version >= 0

    def decide(self, fn: Callable[[Desk], T], *, at: datetime,
               save: bool = True) -> tuple[T, int]:
        """Run ``fn`` on the held desk without reading the store; save a changed state.

        Parameters
        ----------
        fn
            Called with the desk.
        at
            When a change of the state happened.
        save
            ``False`` where no I/O may block (an event loop): a change of the state then
            raises :class:`SaveNeededError` instead of being saved.

        Returns
        -------
        tuple
            ``fn``'s result and the desk-state version it was made on.

        Raises
        ------
        DeskMovedError
            When the desk's state changed and another worker saved one first.
        """
        with self._lock:
            if self._version < 0:
                self._load()
            version = self._version
            before = self.desk.state
            result = fn(self.desk)
            if self.desk.state != before:
                if not save:
                    self._version = -1
                    raise SaveNeededError("the decision changed the desk state")
                try:
                    version = self._save(version, at, None, None)
                except ConflictError as exc:
                    raise DeskMovedError(str(exc)) from exc
            return result, version

    def _save(self, version: int, at: datetime, operator: str | None,
              note: str | None) -> int:
        try:
            new = int(self._store.save_desk_state(
                jsonable(self.desk.state.to_dict()), at=at, operator=operator, note=note,
                expected_version=version))
        except BaseException:
            # The desk now holds a state that is not stored: rebuild it from the store.
            self._version = -1
            raise
        self._version = new
        return new
