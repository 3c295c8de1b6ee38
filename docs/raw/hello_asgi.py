"""The `hello` probe as a bare ASGI callable, without Django (docs/wire.md).

Serve it with `uvicorn --app-dir docs/raw hello_asgi:application`.
"""

import json
import os
import threading

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope


async def application(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    # A coroutine per connection, on the event loop; it speaks by sending events, when it likes.
    if scope["type"] != "http":
        return  # lifespan and WebSocket connections: not handled here
    facts = {"probe": "hello", "interface": "asgi", "view_kind": "raw"}
    body = json.dumps({**facts, "thread": threading.current_thread().name, "pid": os.getpid()})
    headers = [(b"content-type", b"application/json"), (b"x-interface", b"asgi")]
    await send({"type": "http.response.start", "status": 200, "headers": headers, "trailers": False})
    await send({"type": "http.response.body", "body": body.encode(), "more_body": False})
