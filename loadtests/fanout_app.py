"""What the fan-out benchmark's Uvicorn serves (`make bench-fanout`, loadtests/fanout_bench.py): the
project's application, plus two WebSocket routes that exist only here, never in the project's
routing.

- /ws/chat/<room>/: the project's chat consumer, through the project's own application.
- /ws/plain/<room>/: the tutorial-shaped consumer (chat/plain_consumer.py) behind the same
  middleware as the chat (origin check, sessions and auth, the open-socket count), on the same
  channel layer: the peer.
- /ws/floor/: the floor. A bare ASGI application, no Channels, no Redis: it holds every reader's
  socket and, when a sender's socket says a word, encodes one frame and sends it to all of them.
  Nothing can fan a message out on this server for less.

    uvicorn loadtests.fanout_app:application --lifespan off
"""

import json

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, ASGISendEvent, Scope, WebSocketScope

# First: importing the project's application sets Django up, which the imports below need.
from myproject.asgi import application as project_application  # isort: skip

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import re_path

from chat.models import ROOM_NAME_PATTERN
from chat.plain_consumer import PlainChatConsumer
from metrics.websockets import CountOpenWebSockets
from myproject.realtime.origin import allowed_origins_only

# The stubs type a middleware's and a route's application more narrowly than Channels runs them.
plain_application = CountOpenWebSockets(
    allowed_origins_only(  # type: ignore[arg-type]
        AuthMiddlewareStack(
            URLRouter(
                [re_path(rf"^ws/plain/(?P<room>{ROOM_NAME_PATTERN})/$", PlainChatConsumer.as_asgi())]  # type: ignore[arg-type,list-item]
            )
        )
    )
)


class Floor:
    """One process's readers, and a broadcast that costs one json.dumps and one send per reader.

    A socket opened with ?role=sender is not a reader: each text frame it sends is a tag, which
    becomes the frame {"type": "message", "client_id": <tag>} sent to every reader of this process.
    Without a channel layer, a sender reaches only its own process: the benchmark opens one sender
    per process."""

    def __init__(self) -> None:
        self.readers: set[ASGISendCallable] = set()

    async def __call__(
        self, scope: WebSocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        sender = b"role=sender" in scope["query_string"]
        if not sender:
            self.readers.add(send)
        try:
            while True:
                event = await receive()
                if event["type"] == "websocket.disconnect":
                    return
                if sender and event["type"] == "websocket.receive":
                    await self.broadcast(event.get("text") or "")
        finally:
            self.readers.discard(send)

    async def broadcast(self, tag: str) -> None:
        frame: ASGISendEvent = {
            "type": "websocket.send",
            "text": json.dumps({"type": "message", "client_id": tag}),
            "bytes": None,
        }
        for send in list(self.readers):
            await send(frame)


floor = Floor()


async def application(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    path = scope.get("path", "") if scope["type"] == "websocket" else ""
    if path == "/ws/floor/":
        await floor(scope, receive, send)  # type: ignore[arg-type]
    elif path.startswith("/ws/plain/"):
        await plain_application(scope, receive, send)
    else:
        await project_application(scope, receive, send)
