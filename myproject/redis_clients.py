"""Redis clients that talk to the channel layer's own Redis, whatever shape it has.

The chat's presence store and the notifications' Redis watch keep state beside the channel layer.
They read its hosts from CHANNEL_LAYERS rather than from REDIS_URL, so that a sharded layer
(several URLs) or one behind Redis Sentinel (a master found by name) works for them too, and a
test that swaps the layer swaps their Redis with it.

Every client here, and the channel layer's own pools (`layer_hosts`), reconnect once when a pooled
connection turns out to be broken: see `reconnect_once`.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

# channels-redis's host entries: a URL, or a dict naming a master and the sentinels that know it.
RedisHost = str | dict[str, Any]


def reconnect_once() -> Retry:
    """What a command does when its connection is broken: one more try at once, on a new connection.

    A connection pool keeps the connections it opened. When Redis restarts, each of them is dead,
    and a client learns so only when it next sends on it: without a retry, every connection the pool
    held fails one command after Redis is back (a chat handshake refused, long after /readyz said ok).
    Pools made from a URL get no retry from redis-py: the Redis client's default retry applies only
    to the pool it makes itself, and channels-redis makes its own.

    Only a broken connection is retried, at once and once: a Redis that refuses or does not answer
    still fails the command within its timeout, which is what the callers here want to know.
    """
    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


# How long a channel-layer connection waits for an answer. RedisChannelLayer receives with a blocking
# pop that Redis holds for up to 5 s (`brpop_timeout`) before it answers "nothing"; redis-py 8's
# default socket timeout is also 5 s, so an idle wait raced its own timeout and, whenever the event
# loop was busy as the 5 s ran out (thousands of handshakes at once), failed with TimeoutError, as if
# Redis had gone. A longer read timeout lets the pop answer. The project bounds its own layer calls
# (joins, leaves, sends) at LAYER_TIMEOUT_SECONDS (myproject/realtime/layer.py) all the same.
LAYER_SOCKET_TIMEOUT_SECONDS = 15.0


def layer_hosts(hosts: list[RedisHost]) -> list[dict[str, Any]]:
    """channels-redis's host entries for `hosts` (URLs, or Sentinel masters), each with
    `reconnect_once` and LAYER_SOCKET_TIMEOUT_SECONDS: both layers pass an entry's keys to the
    connection pool they make."""
    entries = [{"address": host} if isinstance(host, str) else host for host in hosts]
    return [
        {**entry, "retry": reconnect_once(), "socket_timeout": LAYER_SOCKET_TIMEOUT_SECONDS}
        for entry in entries
    ]


def channel_layer_hosts() -> list[RedisHost]:
    """The Redis hosts (shards) of the default channel layer; empty for the in-memory layer."""
    # A cast: the settings hold a plain dict whose values mix strings and the CONFIG dict.
    layer = cast(dict[str, Any], settings.CHANNEL_LAYERS["default"])
    if not layer["BACKEND"].startswith("channels_redis."):
        return []
    return list(layer.get("CONFIG", {}).get("hosts", []))


def redis_client(host: RedisHost, **options: Any) -> Redis:
    """A client for one host entry (a URL, or a dict with an "address" or a Sentinel master).
    Behind Sentinel it asks the sentinels for the master on every new connection, so once a replica
    has been promoted the next reconnect reaches it. `options` win over the entry's own keys; the
    retry is `reconnect_once` unless one of them says otherwise."""
    if isinstance(host, str):
        host = {"address": host}
    extra = {
        key: value
        for key, value in host.items()
        if key not in {"address", "sentinels", "master_name", "sentinel_kwargs"}
    }
    options = {"retry": reconnect_once(), **extra, **options}
    if "address" in host:
        return Redis.from_url(host["address"], **options)
    sentinel = Sentinel(host["sentinels"], sentinel_kwargs=host.get("sentinel_kwargs"))
    return sentinel.master_for(host["master_name"], **options)
