"""The demo's bound: how many probes that hold a stack's capacity may run at once on one stack.

A probe is a lever for anyone who can reach it. What it holds depends on the interface:

* WSGI: every waiting or computing probe (sleep, fanout, cpu, blocking) holds one of Gunicorn's
  sync workers for up to 10 s; six of them held every worker of `make run`'s Gunicorn, and
  /healthz waited behind them.
* ASGI: a waiting probe holds a coroutine (async) or a thread (def), which cost the event loop
  nothing; but the blocking probe freezes its process's event loop, and the cpu probe holds it (or
  the GIL), so every request and socket of that process waits with it.

So such a probe takes a slot first, and finds none once half of the stack's workers are in a
probe: the other half always serves the site. No slot, no wait: 503 with Retry-After at once (a
sync worker that waited for a slot would be held all the same).

The count spans a stack's worker processes the way the CSV exports' does (reports/export_slots.py
says why a per-process semaphore cannot): one lock file per slot, held with
`flock(LOCK_EX | LOCK_NB)`, which the kernel drops when the holder closes it or dies.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from django.conf import settings

from metrics.instruments import DEMO_RACE_SLOTS_IN_USE
from myproject.which_stack.served_by import worker_pool

PROBES_RUNNING = DEMO_RACE_SLOTS_IN_USE.labels(bound="probes")

SLOTS_DIRECTORY = Path(tempfile.gettempdir()) / "myproject-demo-probe-slots"

# Which probes hold a stack's capacity, per interface (the views take a slot through
# demo.probes.takes_probe_slot; the race's driver queues their lanes by it, demo/race_driver.py): under
# WSGI every probe that waits or computes holds a sync worker; under ASGI a wait holds a coroutine or
# a thread, and only computing or blocking holds the event loop.
TAKES_A_SLOT = {
    "wsgi": frozenset({"sleep", "fanout", "cpu", "blocking"}),
    "asgi": frozenset({"cpu", "blocking"}),
}


def stack_workers(interface: str) -> int:
    """How many requests of the kind a probe holds this stack serves at once: Gunicorn's workers x
    threads (it says so, myproject/gunicorn_worker.py), or an ASGI server's processes (event
    loops), WEB_CONCURRENCY or one per core as the start scripts choose."""
    pool = worker_pool()
    if interface == "wsgi" and pool is not None:
        return pool.slots
    return int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)


def probe_slots(interface: str) -> int | None:
    """This stack's slots: DJANGO_DEMO_PROBE_SLOTS, or half its workers (at least one); None for
    no bound."""
    if settings.DEMO_PROBE_SLOTS is not None:
        return settings.DEMO_PROBE_SLOTS or None
    return max(1, stack_workers(interface) // 2)


def _slot_path(interface: str, number: int) -> Path:
    # A stack is one process group (a Gunicorn or Uvicorn master and its workers).
    return SLOTS_DIRECTORY / f"{interface}-{os.getpgrp()}-{number}.lock"


class ProbeSlot:
    """One running probe's place in its stack's budget, held until `release()`, and counted in
    /metrics' `demo_race_slots_in_use{bound="probes"}` meanwhile."""

    def __init__(self, lock_fd: int | None):
        self._lock_fd = lock_fd
        if lock_fd is not None:
            PROBES_RUNNING.inc()

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the file drops its flock
            self._lock_fd = None
            PROBES_RUNNING.dec()

    def __enter__(self) -> ProbeSlot:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def probe_slot_acquire(interface: str) -> ProbeSlot | None:
    """A free slot of this stack (an empty one when there is no bound), or None when all are held."""
    slots = probe_slots(interface)
    if slots is None:
        return ProbeSlot(None)
    SLOTS_DIRECTORY.mkdir(mode=0o700, exist_ok=True)
    for number in range(slots):
        lock_fd = os.open(_slot_path(interface, number), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            continue
        return ProbeSlot(lock_fd)
    return None


def probe_slots_in_use(interface: str) -> int:
    """How many of this stack's slots are held right now, for the metrics.

    flock cannot be asked who holds a lock, only tried: each free slot is taken and let go at once,
    so a probe that asks in that instant may find it held and get a 503 it would not otherwise.
    """
    slots = probe_slots(interface)
    if slots is None or not SLOTS_DIRECTORY.is_dir():
        return 0
    in_use = 0
    for number in range(slots):
        try:
            lock_fd = os.open(_slot_path(interface, number), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # never taken
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            in_use += 1
        finally:
            os.close(lock_fd)  # drops the shared lock, if it was taken
    return in_use
