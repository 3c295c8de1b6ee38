"""`RealtimeConsumer`: the base of the project's consumers, which closes cleanly when what it
depends on fails, and always cleans up."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, WebSocketReceiveEvent
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.db import DatabaseError

from metrics.instruments import CHANNEL_LAYER_ERRORS
from myproject.consumer_channels import give_back_channel
from myproject.realtime.close_codes import CLOSE_SERVER_ERROR, CLOSE_TRY_AGAIN_LATER, close_event
from myproject.realtime.dispatch import Dispatcher, FellBehind
from myproject.realtime.frames import FrameRefused, read_json
from myproject.realtime.layer import LAYER_ERRORS

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope  # the stubs' WebSocket scope with Channels' keys

logger = logging.getLogger(__name__)


class ClientGone(Exception):
    """The server refused a send because the client went away (Uvicorn raises ClientDisconnected,
    an OSError, the same class as a lost Redis connection: told apart here, at the send)."""


class RealtimeConsumer(AsyncWebsocketConsumer):
    """A consumer that closes cleanly when what it depends on fails, and always cleans up.

    Subclasses implement `release()`: leave groups, presence, watches; it runs exactly once, whether
    the client left, the server closed, or a dependency failed.
    """

    # For log lines: "chat", "notifications".
    label = "realtime"
    # Channels gives every consumer a channel of its own in the layer (with the Pub/Sub layer, a
    # Redis subscription each) and waits on it. A consumer whose events all come through its groups'
    # feeds (myproject/realtime/groups.py) sets this False and saves both.
    own_channel = True

    async def __call__(
        self, scope: _ChannelScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        self.closed = False
        self.released = False
        self.raw_send = send
        # Also takes the events a group feed offers (myproject/realtime/groups.py).
        self.dispatcher = Dispatcher(self.dispatch)

        async def send_to_client(message: Any) -> None:
            try:
                await send(message)
            except OSError as error:
                raise ClientGone(str(error) or type(error).__name__) from error
            except RuntimeError as error:
                # Uvicorn's websockets implementation, once it has closed the connection itself
                # (1007 for a frame that is not UTF-8), refuses any later send this way.
                if "after sending 'websocket.close'" not in str(error):
                    raise
                raise ClientGone("the server closed the connection") from error

        try:
            await self.serve(scope, receive, send_to_client)
        except ClientGone as gone:
            # The client's doing, and ordinary: a tab closed while a message was on its way.
            self.closed = True
            logger.info("%s: the client left during a send (%s)", self.label, gone)
        except FellBehind as behind:
            # A client that reads slower than its room talks: rather than queue for it without end,
            # close; it comes back and resumes from the database.
            logger.info("%s: closing a socket whose client fell behind (%s)", self.label, behind)
            await self.close_once(CLOSE_TRY_AGAIN_LATER)
        except DatabaseError:
            # Not the client's fault and not its to fix: close, and let it come back and resume.
            logger.exception("%s: the database failed; closing a socket", self.label)
            await self.close_once(CLOSE_SERVER_ERROR)
        except LAYER_ERRORS as error:
            # How a consumer learns that Redis went away: its wait for the next event fails, or,
            # before the handshake, making its channel fails.
            logger.warning("%s: lost the channel layer (%r); closing a socket", self.label, error)
            CHANNEL_LAYER_ERRORS.labels("receive").inc()
            await self.close_once(CLOSE_TRY_AGAIN_LATER)
        finally:
            await self.release_once()
            # Channels never gives a consumer's channel back; the Pub/Sub layer can leak it.
            await give_back_channel(self.channel_layer, getattr(self, "channel_name", None))

    async def serve(self, scope: _ChannelScope, receive: ASGIReceiveCallable, send: Any) -> None:
        """Channels' AsyncConsumer.__call__, with its loop replaced by a `Dispatcher`: one task per
        source instead of one per event (myproject/realtime/dispatch.py says why)."""
        self.scope = scope
        layer = get_channel_layer(self.channel_layer_alias)
        self.channel_layer = layer  # type: ignore[assignment]  # None without CHANNEL_LAYERS, as in Channels
        sources: list[Any] = [receive]
        if layer is not None and self.own_channel:
            self.channel_name = await layer.new_channel()
            sources.append(functools.partial(layer.receive, self.channel_name))
        elif layer is not None:
            # A name all the same, unique across processes as Channels' are (presence keys on it).
            self.channel_name = f"local.{uuid.uuid4().hex}"
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await self.dispatcher.run(sources)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first runs close_old_connections() on a worker thread, for every
        # event. Here only database_sync_to_async helpers touch the database, and they clean up
        # after themselves, so that thread hop would be pure cost on each broadcast each consumer
        # relays: thousands a second in a busy room.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']!r}")
        await handler(message)

    async def websocket_receive(self, message: WebSocketReceiveEvent) -> None:
        """Every client frame goes through the project's one frame reader (frames.py) before a
        subclass sees it: a JSON object in `receive_frame()`, or a refusal in `frame_refused()`;
        a frame that breaks the transport's rules (too large, not UTF-8) closes the socket."""
        if self.closed:
            return
        try:
            frame = read_json(message)
        except FrameRefused as refused:
            if refused.close_code is not None:
                return await self.close_once(refused.close_code)
            return await self.frame_refused(refused)
        await self.receive_frame(frame)

    async def receive_frame(self, frame: dict[str, Any]) -> None:
        """A client's frame, a JSON object with a string "type"."""

    async def frame_refused(self, refused: FrameRefused) -> None:
        """The answer to a frame the reader refused; the socket stays open."""
        await self.send_frame({"type": "error", "code": refused.code, "detail": refused.detail})

    async def disconnect(self, code: int) -> None:
        self.closed = True
        await self.release_once()

    async def release(self) -> None:
        """Leave whatever this connection joined. Must not raise for an unreachable Redis."""

    async def release_once(self) -> None:
        if not self.released:
            self.released = True
            await self.release()

    async def refuse(self) -> None:
        """Refuse the handshake: a close before accept() is HTTP 403 for the client."""
        self.closed = True
        await self.close()

    async def close_once(self, code: int) -> None:
        """Close with `code` unless already closed; never raises. Safe from anywhere: another
        consumer's watch, a failed handshake before Channels set up `base_send`, a client that
        already went away (the server then refuses the send)."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError, RuntimeError):
            await self.raw_send(close_event(code))

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame))
