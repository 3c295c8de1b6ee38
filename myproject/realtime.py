"""The vocabulary both WebSocket apps share: the chat (/ws/chat/<room>/) and the report
notifications (/ws/notifications/).

Only the ASGI stack runs this code. Under WSGI a worker holds a thread per request, so a socket
that stays open for hours would hold a thread for hours; under ASGI each socket is a coroutine on
the process's event loop, and one process holds thousands. What a reader meets here:

- `read_after`: the one rule for `?after=<id>`, the resume point of both sockets;
- the close codes, named for what they tell the client to do;
- `LAYER_ERRORS`: what "Redis is unreachable" looks like from the channel layer and redis-py;
- `redis_without_retries`: a client that says so within seconds instead of retrying quietly;
- `PerEventLoop`: one object per event loop (a server has one loop; each test gets its own);
- `RealtimeConsumer`: the consumer base that turns those failures into clean closes;
- `refuse_handshake`: the answer to a WebSocket path no app routes, and `allowed_origins_only`,
  the Origin check that refuses the same way;
- `OneLinePerLayerOutage`: the channel layer's log, one line per outage instead of a traceback a
  second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import parse_qs, urlparse

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, WebSocketCloseEvent, WebSocketScope
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import AllowedHostsOriginValidator
from django.db import DatabaseError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from metrics.instruments import CHANNEL_LAYER_ERRORS
from myproject.consumer_channels import give_back_channel
from myproject.redis_clients import RedisHost, redis_client

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope  # the stubs' WebSocket scope with Channels' keys

logger = logging.getLogger(__name__)

# Close codes (RFC 6455, section 7.4.1) -------------------------------------------------------------

# The client broke a rule of the protocol (it kept flooding after `rate_limited` answers): do not
# come straight back.
CLOSE_POLICY_VIOLATION = 1008
# The server failed (the database): the client may reconnect and resume with ?after=.
CLOSE_SERVER_ERROR = 1011
# The channel layer (Redis) went away, so live events stopped: reconnect with backoff and resume
# with ?after=, which reads what was missed from the database.
CLOSE_TRY_AGAIN_LATER = 1013


def close_event(code: int) -> WebSocketCloseEvent:
    """The ASGI message that closes a socket with `code`; before accept() it refuses the handshake
    (HTTP 403), whatever the code."""
    return {"type": "websocket.close", "code": code, "reason": ""}


# The channel layer ----------------------------------------------------------------------------------

# What redis-py and both channels-redis layers raise when Redis is unreachable: refused or reset
# connections (RedisError's ConnectionError, or OSError from the socket) and silence (TimeoutError,
# also what asyncio.timeout raises).
LAYER_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
# A group join, leave or send is one round trip: an answer slower than this means Redis is in trouble.
LAYER_TIMEOUT_SECONDS = 2.0


def redis_without_retries(host: RedisHost, timeout: float = LAYER_TIMEOUT_SECONDS) -> Redis:
    """A Redis client that fails at once: no retries, short timeouts. For the code whose job is to
    notice that Redis went away (the notifications' watch, the chat's presence heartbeat): redis-py's
    default retries would hide an outage for seconds, while clients wait on a silent socket.
    (A pooled connection that a Redis restart broke is still replaced once: redis_clients.py.)
    `host` is one of the channel layer's host entries: a URL, or a master behind Sentinel."""
    return redis_client(host, socket_timeout=timeout, socket_connect_timeout=timeout)


# Resuming with ?after=<id> --------------------------------------------------------------------------

# Ids are 64-bit signed integers (BigAutoField): at most 19 digits and 2**63 - 1.
MAX_ID = 2**63 - 1
_ID = re.compile(r"[0-9]{1,19}")


class BadResumePoint(ValueError):
    """`?after=` holds something other than an id; the handshake is refused (HTTP 403)."""


def read_after(query_string: bytes) -> int | None:
    """The `?after=<id>` of a handshake: None without one, the id, or BadResumePoint.

    One rule for both sockets: ASCII digits only, at most 19 of them, at most MAX_ID. The check is
    a regular expression on purpose: `str.isdigit()` also accepts "²" or "①", which `int()` then
    refuses. A bad value refuses the handshake rather than being ignored: a client that believes
    it resumes must never silently get something else. When `after` appears twice, the last wins.
    """
    values = parse_qs(query_string.decode("latin-1"), keep_blank_values=True).get("after")
    if not values:
        return None
    value = values[-1]
    if not _ID.fullmatch(value) or int(value) > MAX_ID:
        shown = value if len(value) <= 40 else value[:39] + "…"
        raise BadResumePoint(f"?after= must be an id (ASCII digits, at most {MAX_ID}), not {shown!r}")
    return int(value)


# One object per event loop -------------------------------------------------------------------------

T = TypeVar("T")


class PerEventLoop(Generic[T]):
    """Hands out one object per running event loop, made by `factory` on first use.

    Redis clients, locks and tasks belong to the loop that made them. A server process has one loop
    for its whole life, so this is one object per process; each test gets a fresh loop and so a
    fresh object; and a Gunicorn request that bridges to async code (async_to_sync) gets a
    short-lived loop whose object is forgotten with it (weak keys).
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self.factory = factory
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        if loop not in self._by_loop:
            self._by_loop[loop] = self.factory()
        return self._by_loop[loop]


# Consumers ------------------------------------------------------------------------------------------


class RealtimeConsumer(AsyncWebsocketConsumer):
    """A consumer that closes cleanly when what it depends on fails, and always cleans up.

    Subclasses implement `release()`: leave groups, presence, watches; it runs exactly once, whether
    the client left, the server closed, or a dependency failed.
    """

    # For log lines: "chat", "notifications".
    label = "realtime"

    async def __call__(
        self, scope: _ChannelScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        self.closed = False
        self.released = False
        self.raw_send = send
        try:
            await super().__call__(scope, receive, send)
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

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first runs close_old_connections() on a worker thread, for every
        # event. Here only database_sync_to_async helpers touch the database, and they clean up
        # after themselves, so that thread hop would be pure cost on each broadcast each consumer
        # relays: thousands a second in a busy room.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']!r}")
        await handler(message)

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


def allowed_origins_only(
    application: Any,
) -> Callable[[WebSocketScope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]:
    """Channels' AllowedHostsOriginValidator, refusing with `refuse_handshake`.

    Browsers send cookies with a WebSocket handshake from any site, so the Origin check is what
    stops another site from opening a socket with the visitor's session. Channels' own validator
    refuses through a WebsocketDenier, a consumer that first makes a channel: while Redis is down
    that fails and the refusal becomes a 500. And an Origin that urlparse cannot read ("http://[")
    raises instead of being refused.
    """
    validator = AllowedHostsOriginValidator(application)

    async def check_origin(
        scope: WebSocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
        try:
            allowed = validator.valid_origin(urlparse(origins[-1].decode("latin-1")) if origins else None)
        except ValueError:
            allowed = False
        if allowed:
            await application(scope, receive, send)
        else:
            await refuse_handshake(scope, receive, send)

    return check_origin


# Logging ---------------------------------------------------------------------------------------------


class OneLinePerLayerOutage(logging.Filter):
    """For the `channels_redis.pubsub` logger: one line when Redis goes away, one when it is back.

    While Redis is down, the Pub/Sub layer's receive task logs a full traceback and retries, once a
    second, in every process: the noise buries everything else. This filter lets the first failure
    through as one line (no traceback), drops the rest, and logs a line once no failure has been seen
    for `quiet_seconds` (the layer then reads from Redis again, or nothing listens any more).
    """

    def __init__(self, quiet_seconds: float = 3.0) -> None:
        super().__init__()
        self.quiet_seconds = quiet_seconds
        self.last_failure: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, LAYER_ERRORS):
            return True
        now = time.monotonic()
        # A long gap is a new outage too: the "back" check may never have run (its loop ended).
        outage_began = self.last_failure is None or now - self.last_failure > self.quiet_seconds
        self.last_failure = now
        if not outage_began:
            return False
        record.msg, record.args = "the channel layer lost Redis (%r); retrying quietly", (error,)
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        with contextlib.suppress(RuntimeError):  # no running loop: no "back" line, no harm
            asyncio.get_running_loop().call_later(self.quiet_seconds, self._check_back, record.name)
        return True

    def _check_back(self, logger_name: str) -> None:
        if self.last_failure is None:
            return
        quiet_for = time.monotonic() - self.last_failure
        if quiet_for < self.quiet_seconds:
            asyncio.get_running_loop().call_later(
                self.quiet_seconds - quiet_for, self._check_back, logger_name
            )
            return
        self.last_failure = None
        logging.getLogger(logger_name).warning(
            "the channel layer has had no Redis error for %g s: Redis is back", self.quiet_seconds
        )
