"""How many CSV exports may run at once on one stack, and the slot each running export holds.

A running export is expensive in a way that depends on the interface:

* WSGI: it holds one of Gunicorn's sync workers until the client has read the last byte; a few
  slow readers would hold every worker, and the pages would wait behind them.
* ASGI: it costs the event loop little, but it holds one database connection from the pool for
  as long as it runs; one export too many would wait out the pool's timeout and fail *after* its
  200 header had gone out.

So an export takes a slot before the view answers, and a request that finds none gets a 503 with
Retry-After instead of a half-sent file.

Why not a `threading.BoundedSemaphore` (WSGI) or an `asyncio.Semaphore` (ASGI)? Both count inside
one process, and Gunicorn's sync worker is a process with one thread: a per-process bound would be
1 and would still let every worker export at once. The count has to span all the worker processes
of a stack. Each slot is a lock file held with `flock(LOCK_EX | LOCK_NB)`:

* taking one never waits, so a request past the bound is answered at once; releasing one is a
  close(), cheap enough for the event loop, where an async export ends;
* two holders exclude each other whatever thread or process they run in;
* the kernel drops the lock when the file is closed or its process dies, so a worker killed in the
  middle of an export (Gunicorn's timeout, SIGKILL) cannot leak its slot.

A stack is one process group: a Gunicorn master and its workers share one, as do a Uvicorn
supervisor and its workers, and each server the start scripts launch from make run, the containers
or the tests starts a group of its own. The lock files are empty and stay behind in SLOTS_DIRECTORY;
deleting one while it is held would let a second holder in, so nothing deletes them.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from django.conf import settings

from metrics.instruments import EXPORT_SLOTS_IN_USE

SLOTS_DIRECTORY = Path(tempfile.gettempdir()) / "myproject-export-slots"


class ExportSlot:
    """One running export's place in the stack's budget, held until `release()`. If a response is
    dropped without being iterated to the end or closed (a request cancelled before its first
    chunk under ASGI), the slot goes when this object is garbage-collected."""

    def __init__(self, lock_fd: int, interface: str):
        self._lock_fd: int | None = lock_fd
        self._in_use = EXPORT_SLOTS_IN_USE.labels(interface)
        self._in_use.inc()

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the file drops its flock
            self._lock_fd = None
            self._in_use.dec()

    __del__ = release


def export_slot_acquire(interface: str) -> ExportSlot | None:
    """A free slot of this stack, or None when REPORTS_EXPORT_CONCURRENCY exports are running."""
    SLOTS_DIRECTORY.mkdir(mode=0o700, exist_ok=True)
    for number in range(settings.REPORTS_EXPORT_CONCURRENCY):
        path = SLOTS_DIRECTORY / f"{interface}-{os.getpgrp()}-{number}.lock"
        lock_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            continue
        return ExportSlot(lock_fd, interface)
    return None


# The slot is released when the export ends, whichever way: the last chunk sent, the client gone
# (WSGI: the server closes the generator; ASGI: the task is cancelled inside the loop).


def released_after(chunks: Iterator[bytes], slot: ExportSlot) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        slot.release()


async def areleased_after(chunks: AsyncIterator[bytes], slot: ExportSlot) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        slot.release()
