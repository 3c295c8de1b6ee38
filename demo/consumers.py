"""/ws/wire/: the echo socket whose events the /demo/wire/ page shows (ASGI stack only).

A plain ASGI application rather than a Channels consumer: the page shows ASGI events, and here each
one is a line of code (a consumer's accept() is this `websocket.accept`, its send() this
`websocket.send`). It needs no channel layer, so it makes no channel in Redis either.

Bounded on purpose: it echoes at most MAX_FRAMES frames, cut to MAX_ECHO_CHARS, then closes by
itself, and gives up on a silent client after IDLE_SECONDS.
"""

import asyncio
import contextlib
import json

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, WebSocketScope

from myproject.wire_recorder import SCOPE_TOKEN_KEY

MAX_FRAMES = 3
MAX_ECHO_CHARS = 200
IDLE_SECONDS = 10
CLOSE_NORMAL = 1000


async def wire_echo(scope: WebSocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
    # The first frame tells the page where to fetch this socket's trace (None: nothing records it).
    token = scope.get(SCOPE_TOKEN_KEY)
    await send(
        {"type": "websocket.send", "text": json.dumps({"type": "trace", "token": token}), "bytes": None}
    )
    try:
        async with asyncio.timeout(IDLE_SECONDS):
            for _ in range(MAX_FRAMES):
                event = await receive()
                if event["type"] == "websocket.disconnect":
                    return
                text = event.get("text")
                if not isinstance(text, str):
                    text = ""  # a binary frame: this socket echoes text only
                await send({"type": "websocket.send", "text": text[:MAX_ECHO_CHARS], "bytes": None})
            await send({"type": "websocket.close", "code": CLOSE_NORMAL, "reason": ""})
            # The server answers our close with websocket.disconnect once the client has closed too.
            while (await receive())["type"] != "websocket.disconnect":
                pass
    except TimeoutError:
        with contextlib.suppress(OSError, RuntimeError):  # the client may be gone already
            await send({"type": "websocket.close", "code": CLOSE_NORMAL, "reason": "idle"})
