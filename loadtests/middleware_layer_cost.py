"""What one middleware costs an ASGI request on its own: the hops it makes to a thread and the CPU of
one pass through it, around an async view that does nothing (docs/asgi-tax.md, "Axes").

    python -m loadtests.middleware_layer_cost axes.middleware.AxesMiddleware [--passes 20000]

In process, no server and no network: a layer that stays on the event loop costs a microsecond or
two, far below the noise of `make bench-tax`; one that hops costs tens.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

ROUNDS = 9


@dataclass(frozen=True)
class LayerCost:
    middleware: str
    hops_per_request: float
    cpu_us_per_request: float


async def cpu_us_per_call(call: Callable[[], Awaitable[object]], passes: int) -> float:
    started = time.process_time()
    for _ in range(passes):
        await call()
    return (time.process_time() - started) / passes * 1e6


def measure(middleware: str, passes: int, rounds: int = ROUNDS) -> LayerCost:
    """Median over `rounds` of the CPU per request through `middleware` minus the view's own."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
    import django

    django.setup()
    from asgiref.sync import SyncToAsync
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory
    from django.utils.module_loading import import_string

    response = HttpResponse()

    async def view(request: HttpRequest) -> HttpResponse:
        return response

    layer = import_string(middleware)(view)  # async view inside: Django puts the layer in async mode
    request = RequestFactory().get("/")
    hops = 0
    sync_to_async_call = SyncToAsync.__call__

    async def counted(self: SyncToAsync[Any, Any], *args: Any, **kwargs: Any) -> Any:
        nonlocal hops
        hops += 1
        return await sync_to_async_call(self, *args, **kwargs)

    async def rounds_of_both() -> tuple[list[float], list[float]]:
        alone, through = [], []
        for _ in range(rounds):
            alone.append(await cpu_us_per_call(lambda: view(request), passes))
            through.append(await cpu_us_per_call(lambda: layer(request), passes))
        return alone, through

    SyncToAsync.__call__ = counted  # type: ignore[method-assign]
    try:
        alone, through = asyncio.run(rounds_of_both())
    finally:
        SyncToAsync.__call__ = sync_to_async_call  # type: ignore[method-assign]
    return LayerCost(
        middleware, hops / (rounds * passes), statistics.median(through) - statistics.median(alone)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("middleware", help="dotted path, as in MIDDLEWARE")
    parser.add_argument("--passes", type=int, default=20_000, help="requests per round (9 rounds)")
    options = parser.parse_args(argv)
    # The ASGI process's settings: CONN_MAX_AGE and the middleware lists as Uvicorn would load them.
    os.environ["SERVER_INTERFACE"] = "asgi"
    cost = measure(options.middleware, options.passes)
    print(
        f"{cost.middleware}: hops to a thread per request: {cost.hops_per_request:g}; "
        f"CPU per request: {cost.cpu_us_per_request:.2f} µs "
        f"(median of {ROUNDS} rounds of {options.passes:,} requests)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
