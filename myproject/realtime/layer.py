"""The channel layer's failures, as the consumers and the Redis watches see them."""

from redis.asyncio import Redis
from redis.exceptions import RedisError

from myproject.redis_clients import RedisHost, redis_client

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
