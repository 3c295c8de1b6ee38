"""What the consumer does when what it depends on fails: the channel layer (Redis) or the database.
The real-Redis version of the first is in test_live.py; here each failure is made on purpose."""

import asyncio
import logging

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import DatabaseError
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError
from uvicorn.protocols.utils import ClientDisconnected

from chat import consumers
from myproject.asgi import application
from myproject.realtime.close_codes import CLOSE_SERVER_ERROR, CLOSE_TRY_AGAIN_LATER, close_event
from tests.chat.communicators import announce, join, receive, texts_in_database
from tests.chat.conftest import FRAME_TIMEOUT

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    settings.REDIS_URL = ""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


async def refuse(*args, **kwargs):
    raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


async def test_a_message_whose_broadcast_fails_is_stored_shown_to_its_sender_then_the_socket_closes(
    connect, room, monkeypatch
):
    alice, _, _ = await join(connect, room, "alice")
    monkeypatch.setattr(get_channel_layer(), "group_send", refuse)

    await alice.send_json_to({"type": "message", "text": "stored anyway", "client_id": "c-1"})

    assert (await receive(alice))["text"] == "stored anyway"
    assert await alice.receive_output(timeout=FRAME_TIMEOUT) == close_event(CLOSE_TRY_AGAIN_LATER)
    assert await texts_in_database() == ["stored anyway"]


async def test_a_consumer_whose_layer_stops_answering_closes_with_1013(connect, room, monkeypatch):
    layer = get_channel_layer()
    redis_gone = asyncio.Event()
    original_receive = layer.receive

    async def receive_until_redis_goes(channel):
        waiting = asyncio.ensure_future(original_receive(channel))
        gone = asyncio.ensure_future(redis_gone.wait())
        await asyncio.wait([waiting, gone], return_when=asyncio.FIRST_COMPLETED)
        if gone.done():
            waiting.cancel()
            raise RedisConnectionError("Connection reset by peer")
        gone.cancel()
        return waiting.result()

    monkeypatch.setattr(layer, "receive", receive_until_redis_goes)
    alice, _, _ = await join(connect, room, "alice")

    redis_gone.set()

    assert await alice.receive_output(timeout=FRAME_TIMEOUT) == close_event(CLOSE_TRY_AGAIN_LATER)


async def test_a_handshake_is_refused_while_the_layer_is_unreachable(connect, room, monkeypatch):
    monkeypatch.setattr(get_channel_layer(), "group_add", refuse)

    communicator = await connect(f"/ws/chat/{room}/", "alice")
    connected, _ = await communicator.connect(timeout=FRAME_TIMEOUT)

    assert not connected


async def test_a_database_failure_closes_the_socket_with_1011_and_is_logged(
    connect, room, monkeypatch, caplog
):
    alice, _, _ = await join(connect, room, "alice")

    async def database_down(*args, **kwargs):
        raise DatabaseError("could not connect to server")

    monkeypatch.setattr(consumers, "post_message", database_down)

    await alice.send_json_to({"type": "message", "text": "lost?"})

    assert await alice.receive_output(timeout=FRAME_TIMEOUT) == close_event(CLOSE_SERVER_ERROR)
    assert "the database failed" in caplog.text


def layer_errors(operation: str) -> float:
    return REGISTRY.get_sample_value("channel_layer_errors_total", {"operation": operation}) or 0.0


async def test_a_failed_broadcast_counts_as_a_channel_layer_error(connect, room, monkeypatch):
    alice, _, _ = await join(connect, room, "alice")
    monkeypatch.setattr(get_channel_layer(), "group_send", refuse)
    before = layer_errors("broadcast")

    await alice.send_json_to({"type": "message", "text": "stored anyway", "client_id": "c-1"})
    await receive(alice)
    await alice.receive_output(timeout=FRAME_TIMEOUT)  # the close that follows

    assert layer_errors("broadcast") == before + 1


async def test_a_handshake_refused_for_the_layer_counts_as_a_channel_layer_error(connect, room, monkeypatch):
    monkeypatch.setattr(get_channel_layer(), "group_add", refuse)
    before = layer_errors("join")

    communicator = await connect(f"/ws/chat/{room}/", "alice")
    await communicator.connect(timeout=FRAME_TIMEOUT)

    assert layer_errors("join") == before + 1


async def test_a_client_that_leaves_during_a_send_is_logged_as_leaving_not_as_a_lost_layer(
    room, monkeypatch, caplog, transactional_db
):
    gone = asyncio.Event()

    async def client_gone_after_join(scope, receive, send):
        async def send_until_gone(message):
            if gone.is_set() and message["type"] == "websocket.send":
                raise ClientDisconnected  # what Uvicorn raises for a send to a client that left
            await send(message)

        await application(scope, receive, send_until_gone)

    headers = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
    communicator = WebsocketCommunicator(client_gone_after_join, f"/ws/chat/{room}/", headers=headers)
    connected, _ = await communicator.connect(timeout=FRAME_TIMEOUT)
    assert connected
    await receive(communicator)  # history
    await receive(communicator)  # presence
    gone.set()

    with caplog.at_level(logging.INFO):
        await announce(room)  # the consumer's send of it fails
        await communicator.wait(FRAME_TIMEOUT)  # and the consumer ends, without raising

    lines = [record.getMessage() for record in caplog.records if record.name.startswith("myproject.realtime")]
    assert lines == ["chat: the client left during a send (ClientDisconnected)"]


async def test_a_reader_that_falls_too_far_behind_is_closed_with_1013_and_resumes_with_everything(
    connect, room, monkeypatch
):
    # A client whose buffer is full: its first delivery's send waits until the client reads again.
    reads_again = asyncio.Event()
    deliver = consumers.GaplessDelivery.deliver

    async def stuck_once(self, message_id, prev_id, frame_text):
        if not reads_again.is_set():
            await reads_again.wait()
        await deliver(self, message_id, prev_id, frame_text)

    monkeypatch.setattr(consumers.GaplessDelivery, "deliver", stuck_once)
    monkeypatch.setattr("myproject.realtime.dispatch.MAX_BACKLOG", 3)
    reader, _, _ = await join(connect, room)
    # One being sent, three waiting, the fifth is one too many.
    announced = [(await announce(room))["text"] for _ in range(5)]

    reads_again.set()
    assert (await receive(reader))["text"] == announced[0]  # the send that was under way
    assert await reader.receive_output(timeout=FRAME_TIMEOUT) == close_event(CLOSE_TRY_AGAIN_LATER)

    _, history, _ = await join(connect, room)
    assert [message["text"] for message in history["messages"]] == announced
