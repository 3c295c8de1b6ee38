"""The Redis clients beside the channel layer reconnect once for a broken pooled connection, and
never more: an unreachable Redis must still fail within the caller's timeout."""

import asyncio

import pytest
from redis.exceptions import ConnectionError, TimeoutError

from myproject.realtime.layer import redis_without_retries
from myproject.redis_clients import layer_hosts, redis_client


def retries_of(client) -> int:
    return client.connection_pool.connection_kwargs["retry"].get_retries()


def test_a_client_for_a_url_reconnects_once():
    assert retries_of(redis_client("redis://127.0.0.1:6379/0")) == 1


def test_a_client_for_a_layer_host_entry_keeps_its_address_and_reconnects_once():
    [entry] = layer_hosts(["redis://127.0.0.1:6390/3"])
    client = redis_client(entry)

    assert client.connection_pool.connection_kwargs["port"] == 6390
    assert client.connection_pool.connection_kwargs["db"] == 3
    assert retries_of(client) == 1


def test_the_presence_and_watch_client_also_reconnects_once_with_its_short_timeouts():
    client = redis_without_retries("redis://127.0.0.1:6379/0", timeout=1.5)

    assert retries_of(client) == 1
    assert client.connection_pool.connection_kwargs["socket_timeout"] == 1.5


@pytest.mark.parametrize(
    ("error", "tries"), [(ConnectionError("Connection closed by server."), 2), (TimeoutError("silent"), 1)]
)
def test_only_a_broken_connection_is_tried_again_not_a_silent_redis(error, tries):
    [entry] = layer_hosts(["redis://127.0.0.1:6379/0"])
    calls = []

    async def command():
        calls.append(1)
        raise error

    async def reconnect(_error):
        pass

    with pytest.raises(type(error)):
        asyncio.run(entry["retry"].call_with_retry(command, reconnect))
    assert len(calls) == tries
