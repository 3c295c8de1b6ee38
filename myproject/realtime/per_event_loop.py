"""One object per event loop: Redis clients, locks and tasks belong to the loop that made them."""

import asyncio
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerEventLoop(Generic[T]):
    """Hands out one object per running event loop, made by `factory` on first use.

    Redis clients, locks and tasks belong to the loop that made them. A server process has one loop
    for its whole life, so this is one object per process; each test gets a fresh loop and so a
    fresh object; and a Gunicorn request that bridges to async code (async_to_sync) gets a
    short-lived loop whose object is forgotten with it (weak keys).
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self.factory = factory
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        if loop not in self._by_loop:
            self._by_loop[loop] = self.factory()
        return self._by_loop[loop]
