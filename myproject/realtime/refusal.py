"""The refusal of a WebSocket handshake: HTTP 403, with no channel made and no traceback logged."""

import contextlib

from asgiref.typing import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope, WebSocketScope

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


class WebSocketsOff:
    """Wraps an ASGI application so that every WebSocket handshake is refused (HTTP 403) and every
    other scope passes straight through: for a server the project will not let hold sockets
    (settings.SERVE_WEBSOCKETS)."""

    def __init__(self, application: ASGI3Application) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] == "websocket":
            return await refuse_handshake(scope, receive, send)
        return await self.application(scope, receive, send)
