"""Redis clients that talk to the channel layer's own Redis, whatever shape it has.

The chat's presence store and the notifications' Redis watch keep state beside the channel layer.
They read its hosts from CHANNEL_LAYERS rather than from REDIS_URL, so that a sharded layer
(several URLs) or one behind Redis Sentinel (a master found by name) works for them too, and a
test that swaps the layer swaps their Redis with it.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

# channels-redis's host entries: a URL, or a dict naming a master and the sentinels that know it.
RedisHost = str | dict[str, Any]


def channel_layer_hosts() -> list[RedisHost]:
    """The Redis hosts (shards) of the default channel layer; empty for the in-memory layer."""
    # A cast: the settings hold a plain dict whose values mix strings and the CONFIG dict.
    layer = cast(dict[str, Any], settings.CHANNEL_LAYERS["default"])
    if not layer["BACKEND"].startswith("channels_redis."):
        return []
    return list(layer.get("CONFIG", {}).get("hosts", []))


def redis_client(host: RedisHost, **options: Any) -> Redis:
    """A client for one host entry. Behind Sentinel it asks the sentinels for the master on every
    new connection, so once a replica has been promoted the next reconnect reaches it."""
    if isinstance(host, str):
        return Redis.from_url(host, **options)
    sentinel = Sentinel(host["sentinels"], sentinel_kwargs=host.get("sentinel_kwargs"))
    extra = {
        key: value
        for key, value in host.items()
        if key not in {"sentinels", "master_name", "sentinel_kwargs"}
    }
    return sentinel.master_for(host["master_name"], **extra, **options)
