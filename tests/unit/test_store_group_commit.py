"""GroupCommit: concurrent submissions share batches; nobody is answered before the commit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from riskdesk.store._group import GroupCommit


class Ledger:
    """A fake transaction runner: records batches, can fail items or whole batches."""

    def __init__(self) -> None:
        self.committed: list[int] = []
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail_batch_with: BaseException | None = None

    def run(self, take: Callable[[], list[int]]) -> Sequence[int | BaseException]:
        self.entered.set()
        self.gate.wait(10)
        items = take()
        if self.fail_batch_with is not None:
            raise self.fail_batch_with
        out: list[int | BaseException] = []
        for item in items:
            if item < 0:
                out.append(ValueError(f"bad item {item}"))
            else:
                out.append(item * 10)
        # "Commit": only items that did not fail are durable.
        self.committed.extend(i for i in items if i >= 0)
        self.batches.append(items)
        return out


def test_each_caller_gets_its_own_result_after_the_commit() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)

    def call(i: int) -> int:
        result = group.submit(i)
        assert i in ledger.committed  # answered only once its batch committed
        return result

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(200)))
    assert results == [i * 10 for i in range(200)]
    assert sorted(ledger.committed) == list(range(200))
    assert group.items == 200
    assert group.batches == len(ledger.batches)


def test_items_waiting_for_the_lock_join_one_batch() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    ledger.gate.clear()  # the first transaction waits, as if another process held the lock
    first = threading.Thread(target=group.submit, args=(0,))
    first.start()
    assert ledger.entered.wait(5)
    futures = [group.submit_nowait(i) for i in range(1, 9)]
    ledger.gate.set()
    first.join(5)
    assert [f.result(5) for f in futures] == [i * 10 for i in range(1, 9)]
    # The first batch took everything queued by the time it held the lock.
    assert ledger.batches[0] == list(range(9))
    assert group.batches == 1


def test_a_failed_item_fails_alone() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    ledger.gate.clear()
    futures = [group.submit_nowait(i) for i in (1, -2, 3)]
    ledger.gate.set()
    assert futures[0].result(5) == 10
    assert futures[2].result(5) == 30
    with pytest.raises(ValueError, match="bad item -2"):
        futures[1].result(5)
    assert sorted(ledger.committed) == [1, 3]


def test_a_failed_transaction_fails_every_item_and_acknowledges_none() -> None:
    ledger = Ledger()
    ledger.fail_batch_with = OSError("disk I/O error")
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    ledger.gate.clear()
    futures = [group.submit_nowait(i) for i in range(5)]
    ledger.gate.set()
    for f in futures:
        with pytest.raises(OSError, match="disk I/O error"):
            f.result(5)
    assert ledger.committed == []
    # The group keeps working once the cause is gone.
    ledger.fail_batch_with = None
    assert group.submit(7) == 70


def test_a_runner_that_fails_before_taking_fails_the_waiting_items() -> None:
    def broken(take: Callable[[], list[int]]) -> Sequence[int]:
        raise ConnectionError("database unreachable")

    group: GroupCommit[int, int] = GroupCommit(broken)
    with pytest.raises(ConnectionError):
        group.submit(1)
    with pytest.raises(ConnectionError):
        group.submit_nowait(2).result(5)


def test_blocking_and_non_blocking_callers_share_the_queue() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run, max_batch=3)
    futures: list[Future[int]] = []
    with ThreadPoolExecutor(8) as pool:
        blocking = [pool.submit(group.submit, i) for i in range(0, 40, 2)]
        futures = [group.submit_nowait(i) for i in range(1, 40, 2)]
        assert [b.result(10) for b in blocking] == [i * 10 for i in range(0, 40, 2)]
    assert [f.result(10) for f in futures] == [i * 10 for i in range(1, 40, 2)]
    assert all(len(b) <= 3 for b in ledger.batches)
    assert sorted(ledger.committed) == list(range(40))


def test_close_commits_what_is_queued_then_refuses() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    ledger.gate.clear()
    futures = [group.submit_nowait(i) for i in range(4)]
    closer = threading.Thread(target=group.close)
    closer.start()
    ledger.gate.set()
    closer.join(5)
    assert [f.result(1) for f in futures] == [0, 10, 20, 30]
    with pytest.raises(RuntimeError, match="closed"):
        group.submit(5)
    with pytest.raises(RuntimeError, match="closed"):
        group.submit_nowait(5)


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(Ledger().run, max_batch=0)


def test_a_future_cancelled_before_its_batch_is_left_out_and_the_writer_goes_on() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    ledger.gate.clear()
    first = group.submit_nowait(1)
    assert ledger.entered.wait(5)  # the writer waits for the "lock" before taking its batch
    given_up = group.submit_nowait(2)
    assert given_up.cancel()
    later = group.submit_nowait(3)
    ledger.gate.set()
    assert first.result(5) == 10
    assert later.result(5) == 30
    assert not first.cancel()  # done
    assert group.submit_nowait(4).result(5) == 40  # the writer thread is still serving
    assert sorted(ledger.committed) == [1, 3, 4]
    assert ledger.batches[0] == [1, 3]


def test_a_taken_future_can_no_longer_be_cancelled() -> None:
    gate, taken = threading.Event(), threading.Event()

    def run(take: Callable[[], list[int]]) -> Sequence[int]:
        items = take()
        taken.set()
        gate.wait(5)
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(run)
    future = group.submit_nowait(1)
    assert taken.wait(5)
    assert not future.cancel()
    gate.set()
    assert future.result(5) == 10


def test_coroutines_get_their_results_in_one_wake_up_per_batch() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    wake_ups: list[int] = []

    async def main() -> list[int | str]:
        loop = asyncio.get_running_loop()
        original = loop.call_soon_threadsafe

        def counted(callback: Any, *args: Any, **kwargs: Any) -> Any:
            wake_ups.append(1)
            return original(callback, *args, **kwargs)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
        ledger.gate.clear()
        first = group.submit_async(0)
        await asyncio.to_thread(ledger.entered.wait, 5)
        wake_ups.clear()  # to_thread's own wake-up
        futures = [group.submit_async(i) for i in (1, -2, 3, 4, 5)]
        ledger.gate.set()
        out: list[int | str] = [await first]
        for f in futures:
            try:
                out.append(await f)
            except ValueError as exc:
                out.append(str(exc))
        out.append(f"{len(wake_ups)} wake-up(s)")
        return out

    # One wake-up of the loop for the whole batch, not one per item.
    assert asyncio.run(main()) == [0, 10, "bad item -2", 30, 40, 50, "1 wake-up(s)"]
    assert ledger.batches == [[0, 1, -2, 3, 4, 5]]


def test_a_cancelled_coroutine_is_written_all_the_same_and_its_result_dropped() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)

    async def main() -> int:
        ledger.gate.clear()
        first = group.submit_async(1)
        await asyncio.to_thread(ledger.entered.wait, 5)
        waiting = asyncio.ensure_future(group.submit_async(2))
        await asyncio.sleep(0)
        waiting.cancel()
        ledger.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await first
        return await group.submit_async(3)

    assert asyncio.run(main()) == 30
    assert sorted(ledger.committed) == [1, 2, 3]


def test_results_for_a_closed_loop_are_dropped() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.run)
    ledger.gate.clear()

    async def submit() -> None:
        group.submit_async(1)

    asyncio.run(submit())  # the loop is closed before the batch commits
    ledger.gate.set()
    assert group.submit_nowait(2).result(5) == 20
    assert sorted(ledger.committed) == [1, 2]
