"""Group commit: the writes of concurrent callers share one transaction and one fsync.

Items wait in one queue; whoever holds the *lead* commits them. A lead opens a transaction,
takes every item queued by then (only once the transaction holds the database's write lock, so
whatever arrived while it waited for another process joins the batch), runs them, and hands
each caller its own result. Batches grow with load by themselves and nobody waits for a
timer. A caller is only ever answered after the transaction holding its item committed, or
with the exception that stopped it.

Three ways in, one queue:

* :meth:`GroupCommit.submit` blocks. The first blocked caller to find nobody leading leads
  until its own item is done, then hands the lead on (to another blocked caller, else to the
  writer thread if items are left).
* :meth:`GroupCommit.submit_nowait` returns a :class:`concurrent.futures.Future` at once. A
  writer thread, started on first use, leads while items wait and nobody else leads.
* :meth:`GroupCommit.submit_async` is the same for a coroutine: it returns an
  :class:`asyncio.Future` of the caller's loop. The results of one batch reach each loop in one
  wake-up (one ``call_soon_threadsafe``), not one per item: every wake-up is a system call and
  a hand-over of the GIL between the writer and the loop.

A caller that gives up does not stop the others: a :class:`~concurrent.futures.Future`
cancelled before its batch took it is left out of the batch (nothing of it is written); once
taken it can no longer be cancelled. An :class:`asyncio.Future` cancelled at any time (its
task was cancelled) is written all the same and its result dropped, as is the result for a
loop that was closed meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Runs a batch in one transaction. It calls its argument once, when the transaction is open,
#: to take the batch's items, and returns one result or exception per item, in order. Raising
#: instead fails every item of the batch with that exception (nothing was committed).
BatchRunner = Callable[[Callable[[], list[T]]], Sequence["R | BaseException"]]


@dataclass(frozen=True, slots=True)
class _LoopWaiter:
    """An :class:`asyncio.Future` waiting on its loop for an item's outcome."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


_Waiter = Future[Any] | _LoopWaiter


class GroupCommit(Generic[T, R]):
    """Batches concurrent submissions into transactions (see the module notes).

    Parameters
    ----------
    run
        Opens a transaction, takes the batch's items by calling its argument, writes them and
        returns, per item and in order, its result or the exception that failed only that
        item. If it raises, the whole batch fails.
    max_batch
        Most items per transaction.
    name
        Name of the writer thread.
    """

    def __init__(self, run: BatchRunner[T, R], *, max_batch: int = 256,
                 name: str = "riskdesk-group-commit") -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self._run = run
        self._max_batch = max_batch
        self._name = name
        self._cond = threading.Condition()
        self._queue: deque[tuple[T, _Waiter]] = deque()
        self._leading = False
        self._writer: threading.Thread | None = None
        self._closed = False
        self.batches = 0
        self.items = 0

    def submit(self, item: T) -> R:
        """Queue ``item`` and return its result once its transaction committed.

        Raises
        ------
        BaseException
            The exception that failed the item or its whole batch.
        """
        future: Future[R] = Future()
        with self._cond:
            self._check_open()
            self._queue.append((item, future))
            while self._leading and not future.done():
                self._cond.wait()
            lead = not future.done()
            if lead:
                self._leading = True
        if lead:
            try:
                while not future.done():
                    self._commit()
            finally:
                self._release()
        return future.result()

    def submit_nowait(self, item: T) -> Future[R]:
        """Queue ``item``; the returned future completes once its transaction committed."""
        future: Future[R] = Future()
        self._enqueue(item, future)
        return future

    def submit_async(self, item: T) -> asyncio.Future[R]:
        """Queue ``item`` from a coroutine; await the returned future for its outcome.

        The future belongs to the running loop and completes on it once the item's transaction
        committed. Must be called on the loop's thread.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._enqueue(item, _LoopWaiter(loop, future))
        return future

    def _enqueue(self, item: T, waiter: _Waiter) -> None:
        with self._cond:
            self._check_open()
            self._queue.append((item, waiter))
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name=self._name,
                                                daemon=True)
                self._writer.start()
            self._cond.notify_all()

    def close(self, timeout: float | None = 10.0) -> None:
        """Commit what is queued, then stop the writer thread; later submissions raise."""
        with self._cond:
            self._closed = True
            writer = self._writer
            self._cond.notify_all()
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout)

    # ------------------------------------------------------------------ internals
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the store is closed")

    def _release(self) -> None:
        with self._cond:
            self._leading = False
            self._cond.notify_all()

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while self._leading or not self._queue:
                    if self._closed and not self._queue:
                        return
                    self._cond.wait()
                self._leading = True
            try:
                while True:
                    with self._cond:
                        if not self._queue:
                            break
                    self._commit()
            finally:
                self._release()

    def _take(self, taken: list[tuple[T, _Waiter]]) -> list[T]:
        with self._cond:
            while self._queue and len(taken) < self._max_batch:
                item, waiter = self._queue.popleft()
                # A blocking caller's future cannot be cancelled; one of submit_nowait can,
                # until it is taken here. A cancelled one is left out (nothing is written).
                if isinstance(waiter, Future) and not waiter.set_running_or_notify_cancel():
                    continue
                taken.append((item, waiter))
        return [item for item, _ in taken]

    def _commit(self) -> None:
        taken: list[tuple[T, _Waiter]] = []
        calls: list[None] = []

        def take() -> list[T]:
            calls.append(None)
            return self._take(taken)

        try:
            outcomes = self._run(take)
            if not calls:
                raise RuntimeError("the batch runner took no items")
            if len(outcomes) != len(taken):
                raise RuntimeError(f"batch of {len(taken)} got {len(outcomes)} outcomes")
        except BaseException as exc:
            if not taken:  # failed before taking its batch: fail what waits now
                self._take(taken)
            _settle([(waiter, exc) for _, waiter in taken])
            self._wake_followers()
            if not isinstance(exc, Exception):
                raise
            return
        if taken:
            self.batches += 1
            self.items += len(taken)
        _settle([(waiter, outcome) for (_, waiter), outcome in zip(taken, outcomes,
                                                                    strict=True)])
        self._wake_followers()

    def _wake_followers(self) -> None:
        with self._cond:
            self._cond.notify_all()


def _settle(outcomes: list[tuple[_Waiter, Any]]) -> None:
    """Give each waiter its outcome (a result or an exception): one wake-up per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for waiter, outcome in outcomes:
        if isinstance(waiter, _LoopWaiter):
            by_loop.setdefault(waiter.loop, []).append((waiter.future, outcome))
        elif isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)
    for loop, pairs in by_loop.items():
        with suppress(RuntimeError):  # the loop was closed: nobody waits for these any more
            loop.call_soon_threadsafe(_settle_on_loop, pairs)


def _settle_on_loop(pairs: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, outcome in pairs:
        if future.done():  # cancelled: its task gave up waiting
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
