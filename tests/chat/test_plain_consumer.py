"""The tour's plain consumer (chat/plain_consumer.py) does what the tour says, on the in-memory layer
and on each real Redis layer."""

import json

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import re_path

from chat.plain_consumer import PlainChatConsumer
from tests.chat.conftest import FRAME_TIMEOUT

# Channels closes stale database connections before every handler, as a request does.
pytestmark = [pytest.mark.usefixtures("layer"), pytest.mark.django_db(transaction=True)]

application = URLRouter([re_path(r"^plain/(?P<room>[\w-]+)/$", PlainChatConsumer.as_asgi())])


async def member_of(room: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/plain/{room}/")
    connected, _ = await communicator.connect(timeout=FRAME_TIMEOUT)
    assert connected
    return communicator


async def test_a_message_reaches_every_member_of_the_room_sender_included(room):
    alice, bob = await member_of(room), await member_of(room)

    await alice.send_to(text_data=json.dumps({"text": "hello"}))

    assert json.loads(await alice.receive_from(timeout=FRAME_TIMEOUT)) == {"text": "hello"}
    assert json.loads(await bob.receive_from(timeout=FRAME_TIMEOUT)) == {"text": "hello"}
    await alice.disconnect()
    await bob.disconnect()


async def test_another_room_hears_nothing(room):
    alice, stranger = await member_of(room), await member_of(f"{room}-other")

    await alice.send_to(text_data=json.dumps({"text": "hello"}))

    await alice.receive_from(timeout=FRAME_TIMEOUT)
    assert await stranger.receive_nothing(timeout=0.3)
    await alice.disconnect()
    await stranger.disconnect()
