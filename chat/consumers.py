"""The chat's WebSocket consumer: /ws/chat/<room>/ (docs/protocol.md, docs/chat.md).

Only the ASGI stack runs this: one instance per connection, all of them on the server process's
event loop, which is how one process holds thousands of open sockets. A WSGI worker could not: it
would hold a thread for as long as each socket stayed open.

A message travels browser -> this consumer -> database -> channel layer -> every consumer of the
room, in every process -> their browsers. It is stored before it is broadcast, so anything a client
saw is in the database, and a client that reconnects with ?after=<the last id it saw> gets exactly
what it missed. The consumer reads first; below it, the helpers that keep each client's messages
gapless (`GaplessDelivery`) and its place in the room (`RoomMembership`).
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from asgiref.typing import ASGIReceiveCallable, ASGIReceiveEvent, ASGISendCallable
from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer
from django.conf import settings

from chat import selectors, services
from chat.presence import LocalConnection, PresenceSnapshot, broadcast_presence, process_presence
from chat.protocol import (
    INVALID_MESSAGE,
    RATE_LIMITED,
    ClientMessage,
    FrameError,
    client_id_of,
    error_frame,
    history_frame,
    message_event,
    presence_frame,
    read_client_frame,
    refusal_of,
    room_group,
)
from chat.rate_limit import FloodGuard, Verdict, read_ahead
from metrics.instruments import CHANNEL_LAYER_ERRORS
from myproject.realtime.close_codes import CLOSE_POLICY_VIOLATION, CLOSE_TRY_AGAIN_LATER
from myproject.realtime.consumer import RealtimeConsumer
from myproject.realtime.dispatch import Dispatcher
from myproject.realtime.frames import FrameRefused
from myproject.realtime.groups import process_groups
from myproject.realtime.layer import LAYER_ERRORS, LAYER_TIMEOUT_SECONDS
from myproject.realtime.resume import BadResumePoint, read_after

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope  # the stubs' WebSocket scope with Channels' keys

logger = logging.getLogger(__name__)


# The sync ORM code of chat/services.py and chat/selectors.py, each call on a worker thread so that
# the event loop never waits on the database. database_sync_to_async also closes the thread's
# database connection afterwards, as a request would (CONN_MAX_AGE is 0 under ASGI; see settings).
post_message = database_sync_to_async(services.message_post)
room_history = database_sync_to_async(selectors.room_history)
messages_after = database_sync_to_async(selectors.messages_after)


class ChatConsumer(RealtimeConsumer):
    label = "chat"
    # Everything the layer brings it comes through its room's feed: no channel of its own to wait on.
    own_channel = False
    membership: "RoomMembership | None" = None

    async def __call__(
        self, scope: "_ChannelScope", receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        self.flood_guard = FloodGuard(
            rate=settings.CHAT_RATE_LIMIT_PER_SECOND,
            burst=settings.CHAT_RATE_LIMIT_BURST,
            strikes=settings.CHAT_FLOOD_STRIKES,
        )
        # The flood guard counts each frame as it arrives, not when its turn comes.
        async with read_ahead(receive, self.frame_arrived) as receive_on_arrival:
            await super().__call__(scope, receive_on_arrival, send)

    async def connect(self) -> None:
        self.room = self.scope["url_route"]["kwargs"]["room"]
        user = self.scope["user"]
        # (id, username) of a signed-in user; None for an anonymous reader, who may not send.
        self.author: tuple[int, str] | None = None
        if user is not None and user.is_authenticated:
            self.author = (user.pk, user.get_username())
        self.username = self.author[1] if self.author else None
        self.delivery = GaplessDelivery(self.room, self.send)
        self.presence_version = 0
        try:
            after = read_after(self.scope["query_string"])
        except BadResumePoint:
            return await self.refuse()
        self.membership = RoomMembership(
            self.channel_layer, self.room, self.channel_name, self.username, self.dispatcher
        )
        try:
            snapshot = await self.membership.join(lost=lambda: self.close_once(CLOSE_TRY_AGAIN_LATER))
        except LAYER_ERRORS as error:
            logger.warning("chat: cannot join %s, Redis is unreachable (%r); refusing", self.room, error)
            CHANNEL_LAYER_ERRORS.labels("join").inc()
            return await self.refuse()
        await self.accept()
        # Broadcasts stored after the history was read are queued for this consumer (it joined the
        # group first) and are dispatched once connect() returns, so nothing falls in between.
        await self.delivery.send_history(after)
        self.presence_version = snapshot.version
        await self.send_frame(presence_frame(snapshot.users))
        await self.delivery.finish_resume()

    async def receive_frame(self, frame: dict[str, Any]) -> None:
        try:
            message = read_client_frame(frame, signed_in=self.author is not None)
        except FrameError as error:
            return await self.send_frame(error_frame(error))
        assert self.author is not None  # read_client_frame refuses a frame from an anonymous reader
        await self.post(message, *self.author)

    async def frame_refused(self, refused: FrameRefused) -> None:
        await self.send_frame(error_frame(refusal_of(refused)))

    async def frame_arrived(self, event: ASGIReceiveEvent) -> bool:
        """Each event as the server hands it over, before it waits its turn behind a frame that waits
        on the database (chat/rate_limit.py says why). A frame over the limit is answered at once,
        a flood closed at once; either goes no further. True: on to the consumer."""
        if event["type"] != "websocket.receive":
            return True
        verdict = self.flood_guard.check()
        if verdict is Verdict.ALLOWED:
            return True  # on to the frame reader (websocket_receive), then receive_frame()
        if self.closed:
            return False
        if verdict is Verdict.LIMITED:
            refused = FrameError(RATE_LIMITED, "too many frames; slow down", client_id_of(event.get("text")))
            await self.send_frame(error_frame(refused))
        else:
            logger.info("chat: closing a connection that keeps flooding %s", self.room)
            await self.close_once(CLOSE_POLICY_VIOLATION)
        return False

    async def release(self) -> None:
        if self.membership is not None:
            await self.membership.leave()

    # From the channel layer ---------------------------------------------------------------------------

    async def chat_message(self, event: dict[str, Any]) -> None:
        if not self.closed:
            await self.delivery.deliver(event["id"], event["prev_id"], event["frame"])

    async def chat_presence(self, event: dict[str, Any]) -> None:
        if self.closed or event["version"] <= self.presence_version:
            return  # an older list than the one this client has, overtaken on the way
        self.presence_version = event["version"]
        await self.send_frame(presence_frame(event["users"]))

    # Helpers ------------------------------------------------------------------------------------------

    async def post(self, message: ClientMessage, user_id: int, username: str) -> None:
        posted = await post_message(self.room, user_id, username, message.text, message.client_id)
        if not posted.created:
            return await self.answer_resend(posted.frame)
        # Only now, with the message committed, does anyone hear of it.
        event = message_event(posted.frame["id"], posted.prev_id, posted.frame)
        assert self.membership is not None  # joined in connect(), before any frame is read
        try:
            await self.membership.broadcast(event)
        except LAYER_ERRORS as error:
            # Stored, but the broadcast failed: show the sender its message, then close. The room's
            # other clients are closed by their own consumers (see RealtimeConsumer and
            # chat/presence.py) and, once Redis is back, resume from the database.
            logger.warning(
                "chat: stored message %s but could not broadcast it (%r)", posted.frame["id"], error
            )
            CHANNEL_LAYER_ERRORS.labels("broadcast").inc()
            await self.delivery.deliver(posted.frame["id"], posted.prev_id, event["frame"])
            await self.close_once(CLOSE_TRY_AGAIN_LATER)

    async def answer_resend(self, frame: dict[str, Any]) -> None:
        """A client_id seen before: nothing is stored, the stored message is the answer."""
        if frame["room"] != self.room:
            reused = "this client_id was used for a message in another room"
            await self.send_frame(error_frame(FrameError(INVALID_MESSAGE, reused, frame["client_id"])))
        elif self.delivery.has_sent(frame["id"]):
            await self.send_frame(frame)
        else:
            await self.delivery.catch_up()


class GaplessDelivery:
    """The room's messages to one client, gapless and in id order, so that the highest id it has
    seen is always a safe place to resume from."""

    def __init__(self, room: str, send: Callable[..., Awaitable[None]]) -> None:
        self.room = room
        self.send = send
        # The id of the last message of the room this client has been sent (None: the room was empty).
        self.delivered_id: int | None = None
        self.resume_incomplete = False

    def has_sent(self, message_id: int) -> bool:
        return self.delivered_id is not None and message_id <= self.delivered_id

    async def send_history(self, after: int | None) -> None:
        history = await room_history(self.room, after)
        self.delivered_id = history.through_id
        self.resume_incomplete = not history.complete
        await self.send(text_data=json.dumps(history_frame(history.messages)))

    async def finish_resume(self) -> None:
        """A resume longer than one history frame continues as message frames."""
        if self.resume_incomplete:
            await self.catch_up()

    async def deliver(self, message_id: int, prev_id: int | None, frame_text: str) -> None:
        if self.has_sent(message_id):
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
            frames = await messages_after(self.room, self.delivered_id)
            for frame in frames:
                await self.send(text_data=json.dumps(frame))
            if frames:
                self.delivered_id = frames[-1]["id"]
            if len(frames) < selectors.RESUME_BATCH:
                return


class RoomMembership:
    """One connection's place in its room: the channel-layer group that brings the room's
    broadcasts, and the presence list. Leaving is safe twice, and never raises for a lost Redis."""

    def __init__(
        self, layer: BaseChannelLayer, room: str, channel_name: str, username: str | None, member: Dispatcher
    ) -> None:
        self.layer = layer
        self.room = room
        self.group = room_group(room)
        self.channel_name = channel_name
        # The room's messages come through this process's one feed of the room's group, not through
        # a group entry per consumer (myproject/realtime/groups.py); they are handled by `member`.
        self.member = member
        self.username = username
        self.in_group = False
        self.connection: LocalConnection | None = None

    async def join(self, lost: Callable[[], Awaitable[None]]) -> PresenceSnapshot:
        """Join the group, then presence; `lost` closes the socket if presence loses Redis later."""
        await process_groups().join(self.layer, self.group, self.member)
        self.in_group = True
        self.connection = LocalConnection(self.room, self.channel_name, self.username, lost)
        snapshot = await process_presence().join(self.connection)
        if snapshot.changed:
            await broadcast_presence(self.room, snapshot)
        return snapshot

    async def broadcast(self, event: dict[str, Any]) -> None:
        async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):
            await self.layer.group_send(self.group, event)

    async def leave(self) -> None:
        """When Redis is unreachable, this connection's presence entry expires by itself and its
        group entry with the group."""
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                snapshot = await process_presence().leave(connection)
                if snapshot is not None and snapshot.changed:
                    await broadcast_presence(self.room, snapshot)
            except LAYER_ERRORS as error:
                logger.info("chat: could not record a leave in %s (%r); it will expire", self.room, error)
        if self.in_group:
            self.in_group = False
            await process_groups().leave(self.group, self.member)
