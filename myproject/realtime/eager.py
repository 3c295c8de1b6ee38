"""`start_eagerly`: run a coroutine at once, on the caller's turn, and make a task only if it waits.

A fan-out hands one message to thousands of consumers. Started as a task each, every delivery would
cost a task, a trip through the event loop's queue and a switch, though nearly every delivery never
waits: Uvicorn's send writes to the socket's buffer and returns, unless the client reads so slowly
that the buffer is full. Python 3.12 has this built in (`asyncio.eager_task_factory`); on 3.11, this
is the same idea for one coroutine: run its first step now, and only if it stops to wait hand the rest
to a task, which the event loop resumes as it would any task.

Until its first wait the coroutine runs on the caller's task, as a plain `await` would; after it, on a
task of its own. So it must not start anything tied to its task before it first waits
(`asyncio.timeout()`, `asyncio.current_task()`): the consumers' handlers that the fan-out starts
this way do not.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from typing import Any


def start_eagerly(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run `coroutine` until it first waits. None if it finished (or raised: see below) without
    waiting; else the task that runs the rest. The caller keeps a reference to the task, as to any.

    An exception raised before the first wait propagates to the caller, as from a plain `await`."""
    try:
        waiting_on = coroutine.send(None)
    except StopIteration:
        return None
    return asyncio.get_running_loop().create_task(_resume(coroutine, waiting_on))


@types.coroutine
def _resume(coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> Generator[Any, Any, None]:
    """The rest of a started coroutine, as a task's: first the future it waits on is handed to the
    event loop, then each value or exception the loop sends back goes on to the coroutine."""
    while True:
        try:
            value = yield waiting_on
        except BaseException as error:  # a cancellation, thrown in while it waits
            try:
                waiting_on = coroutine.throw(error)
            except StopIteration:
                return
        else:
            try:
                waiting_on = coroutine.send(value)
            except StopIteration:
                return
