"""A cross-process queue for SQLite writers: an advisory lock on a file beside the database.

SQLite lets one process write at a time. A writer that finds the database locked waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10 ... up to 100 ms between tries: under steady
contention between processes that turns a 1 ms commit into tens of milliseconds of waiting.
Writers of riskdesk processes therefore first take an exclusive ``flock`` on
``<database>-writer.lock`` and only then ``BEGIN IMMEDIATE``. A writer that finds the lock
taken blocks in the kernel (without the GIL, without polling) and is woken the moment the
previous writer commits.

The lock only orders riskdesk's own writers. Correctness never depends on it: ``BEGIN
IMMEDIATE`` still takes SQLite's write lock, so a process that does not use this lock (the
``sqlite3`` shell, an older version) is merely waited for in the busy handler as before. When
the lock cannot be had within the busy timeout (a stuck process) the writer goes on to
``BEGIN IMMEDIATE`` without it and SQLite's own timeout decides. Where ``fcntl`` is missing
(Windows) or the lock file cannot be created, the lock does nothing.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from pathlib import Path

try:  # POSIX only; elsewhere writers rely on SQLite's busy handler alone.
    import fcntl
except ImportError:  # pragma: no cover - not reached on Linux
    fcntl = None  # type: ignore[assignment]

#: Suffix of the lock file created beside the database file.
LOCK_SUFFIX = "-writer.lock"


class FileWriteLock:
    """Exclusive advisory lock on ``<database>-writer.lock``, shared by every riskdesk process.

    Hold it with :meth:`hold` around a write transaction. Threads of one process must not hold
    it at the same time (the store queues them on a thread lock first).

    Parameters
    ----------
    database
        Path of the SQLite database file.
    timeout_s
        How long to try before going on without the lock (the store's busy timeout).
    """

    def __init__(self, database: str | Path, *, timeout_s: float) -> None:
        self.path = Path(f"{Path(database).expanduser()}{LOCK_SUFFIX}")
        self.timeout_s = timeout_s
        self._fd: int | None = None
        self._pid = 0
        self._guard = threading.Lock()
        self._waits: queue.SimpleQueue[Future[None] | None] | None = None

    def _descriptor(self) -> int | None:
        # flock belongs to the open file description: a forked child must open its own.
        with self._guard:
            if self._fd is not None and self._pid == os.getpid():
                return self._fd
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                self._fd = None
            self._pid = os.getpid()
            self._waits = None
            return self._fd

    @contextmanager
    def hold(self) -> Iterator[bool]:
        """Hold the lock for the block; yields whether it is held (see the module notes)."""
        fd = self._descriptor() if fcntl is not None else None
        held = fd is not None and self._acquire(fd)
        try:
            yield held
        finally:
            if held:
                assert fd is not None
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _acquire(self, fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        except OSError:
            return False
        with self._guard:
            if self._waits is None:
                self._waits = queue.SimpleQueue()
                # A daemon thread: one blocked on a stuck process must not hold up exit.
                threading.Thread(target=self._wait_loop, args=(self._waits, fd),
                                 name="riskdesk-writelock", daemon=True).start()
            waits = self._waits
        wait: Future[None] = Future()
        waits.put(wait)
        try:
            wait.result(timeout=self.timeout_s)
            return True
        except FutureTimeout:
            # Given up: whenever the helper gets the lock, it hands it straight back.
            wait.add_done_callback(lambda done: self._late(done, fd))
            return False
        except OSError:
            return False

    @staticmethod
    def _wait_loop(waits: queue.SimpleQueue[Future[None] | None], fd: int) -> None:
        while (wait := waits.get()) is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:
                wait.set_exception(exc)
            else:
                wait.set_result(None)

    def _late(self, done: Future[None], fd: int) -> None:
        with self._guard:
            if done.exception() is None and self._fd == fd:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock file's descriptor (the file stays for other processes)."""
        with self._guard:
            if self._waits is not None:
                self._waits.put(None)
                self._waits = None
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
