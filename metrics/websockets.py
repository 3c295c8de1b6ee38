"""Open WebSocket connections, counted where every socket passes: around the ASGI application.

Counted from the moment the application accepts a socket until it closes, whichever side closes it
and whatever consumer holds it (chat, notifications, the race, the wire demo). A handshake refused
before accept (a bad Origin, a room that cannot be joined) is never counted.
"""

from asgiref.typing import (
    ASGI3Application,
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    Scope,
)

from metrics.instruments import WEBSOCKET_CONNECTIONS


class CountOpenWebSockets:
    """Wraps the ASGI application (myproject/asgi.py); any other scope passes straight through."""

    def __init__(self, application: ASGI3Application) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        open_ = False

        def closed() -> None:
            nonlocal open_
            if open_:
                open_ = False
                WEBSOCKET_CONNECTIONS.dec()

        async def counting_send(message: ASGISendEvent) -> None:
            nonlocal open_
            await send(message)
            if message["type"] == "websocket.accept" and not open_:
                open_ = True
                WEBSOCKET_CONNECTIONS.inc()
            elif message["type"] == "websocket.close":
                closed()

        async def counting_receive() -> ASGIReceiveEvent:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                closed()
            return message

        try:
            await self.application(scope, counting_receive, counting_send)
        finally:
            closed()
