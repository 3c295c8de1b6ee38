"""Calling an ASGI handler in process, with a hand-made HTTP scope, on the test's event loop (for
test_handler.py and test_request_signals.py; the handlers are fixtures in conftest.py)."""

import asyncio
import json


def http_scope(path: str, query: str = "") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def serve(
    app, path: str, query: str = "", disconnect_after: float | None = None, **scope_changes
) -> list[dict]:
    """One request through `app`; the client stays connected unless `disconnect_after` seconds."""
    sent: list[dict] = []
    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if disconnect_after is None:
            await asyncio.Event().wait()  # connected until Django stops listening
        await asyncio.sleep(disconnect_after)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    async with asyncio.timeout(10):
        await app(scope=http_scope(path, query) | scope_changes, receive=receive, send=send)
    return sent


def status_of(sent: list[dict]) -> int | None:
    return next((m["status"] for m in sent if m["type"] == "http.response.start"), None)


def json_body(sent: list[dict]) -> dict:
    return json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
