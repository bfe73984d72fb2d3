"""Identifiers for request ids, reservations and idempotency claims, without a system call.

``uuid.uuid4()`` reads the operating system's random source on every call. That call releases
the GIL, and on a busy server the thread then waits for it behind the other threads (the
group-commit writer); per request it cost more than deciding. These ids are a keyed BLAKE2b
hash of a per-process counter: the key is read once from ``os.urandom`` per process (again
after a fork), so the ids are unpredictable without the key, never repeat within a process
(the counter), and two processes' ids collide only if they share a millisecond and 80
random-looking bits.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from hashlib import blake2b

_state: tuple[bytes, itertools.count[int]] | None = None
_guard = threading.Lock()


def _fresh() -> tuple[bytes, itertools.count[int]]:
    global _state
    with _guard:
        if _state is None:
            _state = (os.urandom(32), itertools.count())
        return _state


def _forget() -> None:  # in a forked child: its own key, its own counter
    global _state
    _state = None


os.register_at_fork(after_in_child=_forget)


def new_id() -> str:
    """A new id: 32 lowercase hex digits, like ``uuid.uuid4().hex``, ordered by time.

    The first 12 digits are the Unix time in milliseconds, the other 20 a keyed hash of the
    process's counter (80 bits). Ids made later sort later (across processes, to the
    millisecond), so the indexes they key grow at their right edge, as sequence numbers do,
    instead of touching a random page on every insert.
    """
    key, counter = _state or _fresh()
    # next() on itertools.count is atomic under the GIL: no two threads get the same number.
    tail = blake2b(next(counter).to_bytes(16, "little"), key=key, digest_size=10).hexdigest()
    return f"{time.time_ns() // 1_000_000:012x}{tail}"
