"""The chat with nothing added: a consumer in the shape the Channels tutorial teaches.

Read this before chat/consumers.py. It is all a WebSocket chat needs on a good day: join a group
when the socket opens, leave it when the socket closes, and relay what one socket says to every
socket in the group, through the channel layer, so that sockets held by other processes hear it too.

It is not routed (myproject/routing.py serves chat/consumers.py): it keeps no history, trusts every
frame, and loses whatever the channel layer drops, which it may (at most once). The tests run it
(tests/chat/test_plain_consumer.py) and docs/chat.md says what the served consumer adds, and why.
"""

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer


class PlainChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        # The room comes from the URL, as a view's argument would (chat/routing.py's pattern).
        self.group = f"plain.{self.scope['url_route']['kwargs']['room']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # To every member of the group, this socket included: the layer calls chat_message on each.
        text = json.loads(text_data or "{}")["text"]
        await self.channel_layer.group_send(self.group, {"type": "chat.message", "text": text})

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"text": event["text"]}))
