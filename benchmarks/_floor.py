"""The journaling floor the HTTP benchmark measures next to hello-world and the service.

``POST /journaled`` is hello-world plus the least a durable journal costs: the body is parsed
as ``/hello`` parses it, one row of the size of a riskdesk journal entry (2.5 kB) is handed to
a writer thread, and the answer waits until the row is committed. The writer commits whatever
is queued in one transaction (group commit), behind an ``flock`` shared by the workers, on a
SQLite database with the service's settings (``journal_mode=WAL``, ``synchronous=FULL``: a
commit is on disk), and wakes the event loop once per transaction. It decides nothing, checks
nothing, keeps no budget and uses the ``sqlite3`` module directly, without SQLAlchemy: no
service that journals each answer durably on this stack can be faster, so its rate bounds
what the service can reach on the machine it runs on.

The database path comes from ``RISKDESK_FLOOR_DB`` (the benchmark creates it with
:func:`create`); each worker starts its writer thread when the app starts.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

DB = os.environ.get("RISKDESK_FLOOR_DB", "floor.db")
ROW = "x" * 2500
SCHEMA = "CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY, symbol TEXT, at REAL, " \
         "body TEXT)"

Waiter = tuple[str, asyncio.AbstractEventLoop, "asyncio.Future[None]"]
_queue: queue.SimpleQueue[Waiter] = queue.SimpleQueue()


def create(path: str) -> None:
    """Create the floor's database (once, before the workers start)."""
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(SCHEMA)


def _settle(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


def _writer() -> None:
    con = sqlite3.connect(DB, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout=30000")
    con.execute("PRAGMA synchronous=FULL")
    lock = os.open(f"{DB}-writer.lock", os.O_CREAT | os.O_RDWR)
    while True:
        batch = [_queue.get()]
        while True:
            try:
                batch.append(_queue.get_nowait())
            except queue.Empty:
                break
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.executemany("INSERT INTO journal (symbol, at, body) VALUES (?, ?, ?)",
                            [(symbol, time.time(), ROW) for symbol, _, _ in batch])
            con.execute("COMMIT")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for _, loop, future in batch:
            by_loop.setdefault(loop, []).append(future)
        for loop, futures in by_loop.items():
            loop.call_soon_threadsafe(_settle, futures)


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    threading.Thread(target=_writer, name="floor-writer", daemon=True).start()
    yield


app = FastAPI(lifespan=_lifespan)


@app.post("/journaled")
async def journaled(body: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()
    _queue.put((str(body.get("symbol")), loop, future))
    await future
    return {"ok": True, "symbol": body.get("symbol")}
