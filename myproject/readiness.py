"""The checks behind /readyz: does this process reach its database and its channel layer?"""

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import connection

from myproject.realtime.per_event_loop import PerEventLoop

# Each check gets this long. Well under the usual 5 s probe timeout of load balancers and
# orchestrators, so a hung Redis or database shows up as a 503 instead of a probe that times out.
CHECK_TIMEOUT_SECONDS = 2.0


def _query_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def check_database() -> None:
    await sync_to_async(_query_database)()


@dataclass
class _ReplyChannel:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    layer: BaseChannelLayer | None = None
    name: str | None = None


class ChannelLayerProbe:
    """Sends a message to a channel of this process and reads it back: proves the layer works end
    to end, not just that a socket to Redis opens.

    The reply channel is made once per event loop and reused. A new channel per check would leak:
    RedisPubSubChannelLayer subscribes a channel when it is made and unsubscribes it only when a
    consumer's receive is cancelled, which a view never does. Under ASGI one loop lives as long as
    the process, so there is one channel; under WSGI each request's short-lived loop takes its
    layer's connections (and subscriptions) with it when it closes.
    """

    def __init__(self) -> None:
        self._channels = PerEventLoop(_ReplyChannel)

    async def round_trip(self) -> None:
        reply_channel = self._channels.get()
        # One check at a time per loop: two checks waiting on one channel could take each other's
        # replies.
        async with reply_channel.lock:
            layer = get_channel_layer()
            assert layer is not None, "settings.CHANNEL_LAYERS always names a default layer"
            if reply_channel.name is None or reply_channel.layer is not layer:
                reply_channel.layer = layer
                # Every layer takes a name prefix; BaseChannelLayer's stub does not declare it.
                reply_channel.name = await layer.new_channel("readyz.")  # type: ignore[call-arg]
            nonce = secrets.token_hex(8)
            try:
                await layer.send(reply_channel.name, {"type": "readyz.ping", "nonce": nonce})
                # A reply that arrives after its check timed out is still on the channel: skip it.
                while (await layer.receive(reply_channel.name)).get("nonce") != nonce:
                    pass
            except BaseException:
                # Cancelled (timed out) or failed: the layer may have dropped the channel (the
                # Pub/Sub layer unsubscribes on cancel), so the next check starts with a new one.
                reply_channel.name = None
                raise


channel_layer_probe = ChannelLayerProbe()


async def check_channel_layer() -> None:
    await channel_layer_probe.round_trip()


async def run_check(check: Callable[[], Awaitable[None]]) -> str:
    """ "ok", or why the check failed, within CHECK_TIMEOUT_SECONDS."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check()
    except TimeoutError:
        return f"timed out after {CHECK_TIMEOUT_SECONDS:g} s"
    except Exception as error:  # any failure means "not ready"; the message says which
        return f"{type(error).__name__}: {error}"
    return "ok"


READINESS_CHECKS = {"database": check_database, "channel_layer": check_channel_layer}


async def readiness() -> dict[str, str]:
    """Every check at once: the slowest, not the sum, bounds the answer."""
    results = await asyncio.gather(*(run_check(check) for check in READINESS_CHECKS.values()))
    return dict(zip(READINESS_CHECKS, results, strict=True))
