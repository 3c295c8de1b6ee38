"""A notifications socket never stays open across a Redis outage: it is closed with 1013 so the
client reconnects and resumes from the database. Against a real Redis, on both channel layers."""

import asyncio
import time

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings

from myproject.asgi import application
from myproject.realtime.close_codes import CLOSE_TRY_AGAIN_LATER
from myproject.realtime.layer import LAYER_TIMEOUT_SECONDS
from reports.consumers import NotificationsConsumer
from reports.protocol import NOTIFICATIONS_GROUP
from reports.redis_watch import WATCH_SECONDS, RedisWatch, redis_watch

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("orm_thread_connections_closed"),
]

# The watch looks every WATCH_SECONDS and waits up to LAYER_TIMEOUT_SECONDS for an answer.
NOTICE_DEADLINE_SECONDS = WATCH_SECONDS + LAYER_TIMEOUT_SECONDS + 2
# A refused handshake may first wait out redis-py's own reconnect attempts (about 6 s for the
# Pub/Sub layer's subscription); what matters is that it ends, and soon.
REFUSAL_DEADLINE_SECONDS = 10


@pytest.fixture(params=list(settings.REDIS_CHANNEL_LAYERS))
def redis_layer(request, redis_server):
    layers = {
        "default": {
            "BACKEND": settings.REDIS_CHANNEL_LAYERS[request.param],
            "CONFIG": {"hosts": [redis_server.url]},
        }
    }
    with override_settings(REDIS_URL=redis_server.url, CHANNEL_LAYERS=layers):
        yield redis_server


async def connect() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[(b"host", b"localhost"), (b"origin", b"http://localhost")]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def closed_code(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=NOTICE_DEADLINE_SECONDS)
    assert output["type"] == "websocket.close", output
    return output["code"]


async def test_a_socket_is_closed_with_1013_when_redis_goes_away(redis_layer):
    communicator = await connect()

    await asyncio.to_thread(redis_layer.stop)

    assert await closed_code(communicator) == CLOSE_TRY_AGAIN_LATER


async def test_a_socket_is_closed_with_1013_when_redis_restarts_in_between_two_looks(redis_layer):
    communicator = await connect()

    await asyncio.to_thread(redis_layer.stop)
    await asyncio.to_thread(redis_layer.start)

    assert await closed_code(communicator) == CLOSE_TRY_AGAIN_LATER


async def test_a_socket_stays_open_while_redis_stays_up(redis_layer):
    communicator = await connect()
    await asyncio.sleep(WATCH_SECONDS * 2 + 0.5)  # two looks of the watch

    frame = {"type": "report.published", "id": 1, "report": {}}
    await get_channel_layer().group_send(NOTIFICATIONS_GROUP, frame)

    # The first output is that frame: no close came before it.
    assert await communicator.receive_json_from(timeout=5) == frame
    await communicator.disconnect()


class FakeConsumer:
    def __init__(self, fails: bool = False):
        self.fails = fails
        self.closed_with: int | None = None

    async def close_once(self, code: int) -> None:
        if self.fails:
            raise RuntimeError("this consumer is broken")
        self.closed_with = code


async def test_close_all_closes_every_socket_even_when_one_close_fails():
    watch = RedisWatch(["redis://127.0.0.1:1/0"])  # close_all() itself never talks to Redis
    broken, *healthy = [FakeConsumer(fails=True), FakeConsumer(), FakeConsumer(), FakeConsumer()]
    watch.consumers = {broken, *healthy}

    await watch.close_all()

    assert [consumer.closed_with for consumer in healthy] == [CLOSE_TRY_AGAIN_LATER] * 3
    assert watch.consumers == set()
    await watch._close_clients()


async def test_a_handshake_is_refused_promptly_while_redis_is_down(redis_layer):
    await asyncio.to_thread(redis_layer.stop)
    communicator = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[(b"host", b"localhost"), (b"origin", b"http://localhost")]
    )

    started = time.monotonic()
    connected, _ = await communicator.connect(timeout=REFUSAL_DEADLINE_SECONDS + 1)

    assert not connected
    assert time.monotonic() - started < REFUSAL_DEADLINE_SECONDS


async def test_a_consumer_that_crashes_leaves_the_watch(redis_layer, monkeypatch):
    async def crash(self, after):
        raise RuntimeError("a bug in the consumer")

    monkeypatch.setattr(NotificationsConsumer, "send_backlog", crash)
    healthy = await connect()
    crashing = WebsocketCommunicator(
        application,
        "/ws/notifications/?after=0",
        headers=[(b"host", b"localhost"), (b"origin", b"http://localhost")],
    )

    connected, _ = await crashing.connect(timeout=5)
    assert connected
    with pytest.raises(RuntimeError, match="a bug"):
        await crashing.wait(5)

    # Only the healthy socket is left for the watch to close when Redis goes.
    assert len(redis_watch().consumers) == 1
    await healthy.disconnect()
    assert redis_watch().consumers == set()
