"""The file lock SQLite writers of riskdesk processes queue on."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from riskdesk.store._writelock import LOCK_SUFFIX, FileWriteLock


def test_a_second_holder_waits_until_the_first_releases(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    # Two lock objects open the file twice: as two processes would, they exclude each other.
    first, second = FileWriteLock(db, timeout_s=10), FileWriteLock(db, timeout_s=10)
    order: list[str] = []
    with first.hold() as held:
        assert held
        assert (tmp_path / f"x.db{LOCK_SUFFIX}").exists()

        def contender() -> None:
            with second.hold() as got:
                order.append(f"second {got}")

        t = threading.Thread(target=contender)
        t.start()
        time.sleep(0.2)
        order.append("first releases")
    t.join(5)
    assert order == ["first releases", "second True"]
    first.close()
    second.close()


def test_a_stuck_holder_is_given_up_on_after_the_timeout(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    stuck, waiting = FileWriteLock(db, timeout_s=30), FileWriteLock(db, timeout_s=0.2)
    with stuck.hold():
        started = time.monotonic()
        with waiting.hold() as got:
            assert not got  # went on without it: SQLite's own busy timeout decides
        assert 0.15 <= time.monotonic() - started < 5
    # The abandoned wait hands the lock straight back once it gets it.
    deadline = time.monotonic() + 5
    third = FileWriteLock(db, timeout_s=0.1)
    while True:
        with third.hold() as got:
            if got:
                break
        assert time.monotonic() < deadline, "the abandoned wait kept the lock"
    for lock in (stuck, waiting, third):
        lock.close()


def test_an_unusable_lock_file_degrades_to_no_lock(tmp_path: Path) -> None:
    lock = FileWriteLock(tmp_path / "missing-dir" / "x.db", timeout_s=1)
    with lock.hold() as held:
        assert not held
    lock.close()
