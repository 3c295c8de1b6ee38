"""The Redis clients beside the channel layer reconnect once for a broken pooled connection, and
never more: an unreachable Redis must still fail within the caller's timeout."""

import asyncio
import time
import uuid

import pytest
from channels_redis.core import RedisChannelLayer
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


def test_a_layer_connection_waits_longer_than_redis_channel_layers_blocking_pop():
    [entry] = layer_hosts(["redis://127.0.0.1:6379/0"])

    assert entry["socket_timeout"] > RedisChannelLayer.brpop_timeout


@pytest.mark.live
async def test_an_idle_receive_survives_a_busy_event_loop_when_redis_answers_its_blocking_pop(
    shared_redis_url,
):
    # RedisChannelLayer's receive on an idle channel: Redis answers the blocking pop with "nothing"
    # after brpop_timeout, just as the event loop is busy (a burst of handshakes). The receive must
    # go on waiting, not fail as if Redis had gone.
    layer = RedisChannelLayer(hosts=layer_hosts([shared_redis_url]), prefix=f"idle-{uuid.uuid4().hex[:8]}")
    channel = await layer.new_channel()
    loop = asyncio.get_running_loop()
    loop.call_later(layer.brpop_timeout - 0.3, time.sleep, 0.8)  # the loop, busy across the answer
    receiving = asyncio.create_task(layer.receive(channel))
    try:
        await asyncio.sleep(layer.brpop_timeout + 1)
        assert not receiving.done(), receiving.exception()
        await layer.send(channel, {"type": "hello"})
        assert await asyncio.wait_for(receiving, 5) == {"type": "hello"}
    finally:
        receiving.cancel()
        await layer.close_pools()
