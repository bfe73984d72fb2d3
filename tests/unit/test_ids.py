"""Identifiers: unique, 32 hex digits, and a forked child does not repeat its parent's."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest

from riskdesk._ids import new_id


def test_ids_are_hex_and_unique_across_threads() -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [new_id() for _ in range(20_000)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 80_000
    assert len(set(seen)) == len(seen)
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in seen[:1000])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_draws_from_its_own_key() -> None:
    new_id()  # the parent has its key and counter
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        os.write(write, " ".join(new_id() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split()
    os.waitpid(pid, 0)
    parent = [new_id() for _ in range(100)]
    assert len(child) == 100
    assert not set(child) & set(parent)


def test_ids_sort_by_the_time_they_were_made() -> None:
    first = new_id()
    time.sleep(0.002)
    later = [new_id() for _ in range(50)]
    assert all(first < x for x in later)
    assert int(first[:12], 16) <= time.time_ns() // 1_000_000
