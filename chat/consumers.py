"""The chat's WebSocket consumer: /ws/chat/<room>/ (docs/protocol.md, docs/chat.md).

Only the ASGI stack runs this: one instance per connection, all of them on the server process's
event loop, which is how one process holds thousands of open sockets. A WSGI worker could not: it
would hold a thread for as long as each socket stayed open.

A message travels browser -> this consumer -> database -> channel layer -> every consumer of the
room, in every process -> their browsers. It is stored before it is broadcast, so anything a client
saw is in the database, and a client that reconnects with ?after=<the last id it saw> gets exactly
what it missed.
"""

import asyncio
import contextlib
import json
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from chat import store
from chat.presence import (
    STORE_ERRORS,
    LocalConnection,
    PresenceSnapshot,
    broadcast_presence,
    process_presence,
)
from chat.protocol import (
    AUTH_REQUIRED,
    INVALID_MESSAGE,
    RATE_LIMITED,
    ClientMessage,
    FrameError,
    client_id_of,
    decode_frame,
    error_frame,
    history_frame,
    message_event,
    presence_frame,
    read_message,
    read_resume_point,
    room_group,
)
from chat.rate_limit import FloodGuard, Verdict

logger = logging.getLogger(__name__)

# The sync ORM code of chat/store.py, each call on a worker thread so that the event loop never
# waits on the database. database_sync_to_async also closes the thread's database connection
# afterwards, as a request would (CONN_MAX_AGE is 0 under ASGI; see settings).
post_message = database_sync_to_async(store.post_message)
room_history = database_sync_to_async(store.room_history)
messages_after = database_sync_to_async(store.messages_after)

# What the channel layer raises when Redis goes away: refused or reset connections, or silence.
LAYER_ERRORS = STORE_ERRORS
LAYER_TIMEOUT_SECONDS = 5.0

# Close codes (RFC 6455): policy violation for a flooder; internal error when the database fails;
# "try again later" when Redis, and with it the room's broadcasts, went away.
CLOSE_FLOODING = 1008
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013


class ChatConsumer(AsyncWebsocketConsumer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.closed = False
        self.in_group = False
        self.connection: LocalConnection | None = None
        # The id of the last message of the room this client has been sent (None: the room was
        # empty), and the version of the last presence list it was sent.
        self.delivered_id: int | None = None
        self.presence_version = 0
        self.flood_guard = FloodGuard(
            rate=settings.CHAT_RATE_LIMIT_PER_SECOND,
            burst=settings.CHAT_RATE_LIMIT_BURST,
            strikes=settings.CHAT_FLOOD_STRIKES,
        )

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except DatabaseError:
            # Not the client's fault and not its to fix: close, and let it come back and resume.
            logger.exception("chat: the database failed while serving %s", self.room_name)
            await self.close_once(CLOSE_SERVER_ERROR)
        except LAYER_ERRORS as error:
            # With RedisChannelLayer this is how a consumer learns that Redis went away: its wait
            # for the next broadcast fails. Close instead of crashing, so the client reconnects.
            logger.warning("chat: lost the channel layer (%r); closing a socket in %s", error, self.room_name)
            await self.close_once(CLOSE_TRY_AGAIN_LATER)
        finally:
            await self.leave_room()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first runs close_old_connections() on a worker thread, for every
        # event. Here only the database_sync_to_async helpers above touch the database, and they
        # clean up after themselves, so that thread hop would be pure cost on each broadcast that
        # each consumer relays: thousands a second in a busy room.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']!r}")
        await handler(message)

    @property
    def room_name(self) -> str:
        return self.scope["url_route"]["kwargs"]["room"]

    # Connection -----------------------------------------------------------------------------------

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.username = self.user.get_username() if self.user.is_authenticated else None
        try:
            after = read_resume_point(self.scope["query_string"])
        except ValueError:
            await self.close()  # before accept(): the handshake is refused (HTTP 403)
            return
        try:
            snapshot = await self.join_room()
        except LAYER_ERRORS as error:
            logger.warning("chat: cannot join %s, Redis is unreachable (%r); refusing", self.room_name, error)
            await self.close()
            return
        await self.accept()
        history = await room_history(self.room_name, after)
        # Broadcasts stored after the history was read are queued for this consumer (it joined the
        # group first) and are dispatched once connect() returns, so nothing falls in between.
        self.delivered_id = history.through_id
        await self.send_frame(history_frame(history.messages))
        self.presence_version = snapshot.version
        await self.send_frame(presence_frame(snapshot.users))
        if not history.complete:
            await self.catch_up()

    async def join_room(self) -> PresenceSnapshot:
        async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):
            await self.channel_layer.group_add(room_group(self.room_name), self.channel_name)
        self.in_group = True
        self.connection = LocalConnection(
            room=self.room_name,
            channel_name=self.channel_name,
            username=self.username,
            lost=lambda: self.close_once(CLOSE_TRY_AGAIN_LATER),
        )
        snapshot = await process_presence().join(self.connection)
        if snapshot.changed:
            await broadcast_presence(self.room_name, snapshot)
        return snapshot

    async def disconnect(self, code: int) -> None:
        self.closed = True
        await self.leave_room()

    async def leave_room(self) -> None:
        """Leave presence and the group; safe to call twice. When Redis is unreachable, this
        connection's presence entry expires by itself and its group entry with the group."""
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                snapshot = await process_presence().leave(connection)
                if snapshot is not None and snapshot.changed:
                    await broadcast_presence(connection.room, snapshot)
            except LAYER_ERRORS as error:
                logger.info(
                    "chat: could not record a leave in %s (%r); it will expire", connection.room, error
                )
        if self.in_group:
            self.in_group = False
            try:
                async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):
                    await self.channel_layer.group_discard(room_group(self.room_name), self.channel_name)
            except LAYER_ERRORS:
                pass

    async def close_once(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError, RuntimeError):  # the client went away first
            await self.close(code)

    # From the client ------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        verdict = self.flood_guard.check()
        if verdict is Verdict.FLOODING:
            logger.info("chat: closing a connection that keeps flooding %s", self.room_name)
            await self.close_once(CLOSE_FLOODING)
            return
        try:
            if verdict is Verdict.LIMITED:
                raise FrameError(RATE_LIMITED, "too many frames; slow down", client_id_of(text_data))
            frame = decode_frame(text_data)
            if self.username is None:
                raise FrameError(AUTH_REQUIRED, "sign in to send messages", client_id_of(text_data))
            message = read_message(frame)
        except FrameError as error:
            await self.send_frame(error_frame(error))
            return
        await self.post(message)

    async def post(self, message: ClientMessage) -> None:
        posted = await post_message(
            self.room_name, self.user.pk, self.username, message.text, message.client_id
        )
        if not posted.created:
            await self.answer_resend(posted.frame)
            return
        # Only now, with the message committed, does anyone hear of it.
        event = message_event(posted.frame["id"], posted.prev_id, posted.frame)
        try:
            async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):
                await self.channel_layer.group_send(room_group(self.room_name), event)
        except LAYER_ERRORS as error:
            # Stored, but the broadcast failed: show the sender its message, then close. The room's
            # other clients are closed by their own consumers (see __call__ and chat/presence.py)
            # and, once Redis is back, resume from the database, where this message is waiting.
            logger.warning(
                "chat: stored message %s but could not broadcast it (%r)", posted.frame["id"], error
            )
            await self.deliver(posted.frame["id"], posted.prev_id, event["frame"])
            await self.close_once(CLOSE_TRY_AGAIN_LATER)

    async def answer_resend(self, frame: dict[str, Any]) -> None:
        """A client_id seen before: nothing is stored, the stored message is the answer."""
        if frame["room"] != self.room_name:
            error = FrameError(
                INVALID_MESSAGE, "this client_id was used for a message in another room", frame["client_id"]
            )
            await self.send_frame(error_frame(error))
        elif self.delivered_id is not None and frame["id"] <= self.delivered_id:
            await self.send_frame(frame)
        else:
            await self.catch_up()

    # From the channel layer -----------------------------------------------------------------------

    async def chat_message(self, event: dict[str, Any]) -> None:
        if not self.closed:
            await self.deliver(event["id"], event["prev_id"], event["frame"])

    async def chat_presence(self, event: dict[str, Any]) -> None:
        if self.closed or event["version"] <= self.presence_version:
            return  # an older list than the one this client has, overtaken on the way
        self.presence_version = event["version"]
        await self.send_frame(presence_frame(event["users"]))

    async def deliver(self, message_id: int, prev_id: int | None, frame_text: str) -> None:
        """Send a broadcast message, keeping this client's messages gapless and in id order, so
        that the highest id it has seen is always a safe place to resume from."""
        if self.delivered_id is not None and message_id <= self.delivered_id:
            return  # already sent, in the history or by a catch-up
        if prev_id == self.delivered_id:
            await self.send(text_data=frame_text)
            self.delivered_id = message_id
            return
        # The room's previous message has not reached this consumer yet. It is committed (the room
        # lock commits a room's messages in id order), only its broadcast, from another process,
        # is late: send everything after the last delivered message from the database, in order.
        await self.catch_up()

    async def catch_up(self) -> None:
        while True:
            frames = await messages_after(self.room_name, self.delivered_id)
            for frame in frames:
                await self.send_frame(frame)
            if frames:
                self.delivered_id = frames[-1]["id"]
            if len(frames) < store.RESUME_BATCH:
                return

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame))
