"""A small closed-loop HTTP/1.1 load generator for loopback benchmarks (`make bench-tax`).

`connections` clients each send their next GET as soon as the last response is in, for `duration`
seconds, then finish the request in flight: bounded in connections and in time, no think time, so
throughput = connections / response time (Little's law). It reads only what a Django response can
carry (Content-Length or chunked bodies) and reconnects when the server closes.

Two ways to connect: keep-alive (each client reuses its connection while the server keeps it), or
a new connection per request (`Connection: close`, as nginx's default upstream speaks to a
backend). Gunicorn's sync worker closes after every response whatever the client asks, so only the
second compares it like for like with an ASGI server. Written on asyncio streams (uvloop when
installed) so that one core drives a Django worker several times faster than that worker can serve.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

# A request that takes longer than this counts as an error; the benchmark's slowest is 100 ms.
REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass
class LoadResult:
    completed: int = 0  # responses that arrived before the deadline
    late: int = 0  # responses to requests in flight at the deadline
    errors: int = 0  # non-2xx/3xx statuses, timeouts, broken connections
    seconds: float = 0.0

    @property
    def requests_per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> None:
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return
    marker = lowered.find(b"content-length:")
    if marker >= 0:
        end = lowered.index(b"\r\n", marker)
        await reader.readexactly(int(lowered[marker + 15 : end]))


async def _one_connection(
    host: str, port: int, request: bytes, deadline: float, result: LoadResult, close_each: bool
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.monotonic() < deadline:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    assert reader is not None
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    await _read_body(reader, head)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                if writer is not None:
                    writer.close()
                writer = None
                await asyncio.sleep(0.01)  # a refused connection must not turn into a busy loop
                continue
            if not head.startswith((b"HTTP/1.1 2", b"HTTP/1.1 3", b"HTTP/1.0 2")):
                result.errors += 1
            elif time.monotonic() <= deadline:
                result.completed += 1
            else:
                result.late += 1
            if close_each or b"connection: close" in head.lower():
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


async def load(url: str, connections: int, duration: float, keep_alive: bool = True) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    close = "" if keep_alive else "Connection: close\r\n"
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n{close}\r\n".encode()
    result = LoadResult()
    deadline = time.monotonic() + duration
    clients = [
        _one_connection(host, port, request, deadline, result, close_each=not keep_alive)
        for _ in range(connections)
    ]
    await asyncio.gather(*clients)
    result.seconds = duration
    return result


def run_load(url: str, connections: int, duration: float, keep_alive: bool = True) -> LoadResult:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(load(url, connections, duration, keep_alive))
    return uvloop.run(load(url, connections, duration, keep_alive))
