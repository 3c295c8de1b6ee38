"""The refusal of a WebSocket handshake: HTTP 403, with no channel made and no traceback logged."""

import contextlib

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, WebSocketScope

from myproject.realtime.close_codes import close_event


async def refuse_handshake(
    scope: WebSocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    """The application of every WebSocket path no app routes: a clean HTTP 403.

    Without it Channels' URLRouter raises "No route found", which the server logs as an error and
    answers with a 500. Unlike Channels' WebsocketDenier, it makes no channel: a stray handshake
    costs no Redis round trip, and still gets its 403 while Redis is down.
    """
    await receive()  # the websocket.connect
    with contextlib.suppress(OSError, RuntimeError):  # the client already left
        await send(close_event(1000))
