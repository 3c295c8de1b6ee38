"""Helpers for consumer tests through WebsocketCommunicator (see the `connect` fixture)."""

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from chat.models import Message
from chat.protocol import message_event, room_group
from chat.services import Posted, message_post
from tests.chat.conftest import FRAME_TIMEOUT


async def receive(communicator: WebsocketCommunicator) -> dict:
    return await communicator.receive_json_from(timeout=FRAME_TIMEOUT)


async def join(connect, room: str, username: str | None = None, query: str = "") -> tuple:
    """Connect and read the two frames every connection starts with: history, then presence."""
    communicator = await connect(f"/ws/chat/{room}/{query}", username)
    connected, _ = await communicator.connect(timeout=FRAME_TIMEOUT)
    assert connected
    history = await receive(communicator)
    presence = await receive(communicator)
    assert history["type"] == "history"
    assert presence["type"] == "presence"
    return communicator, history, presence


async def refused(connect, path: str, username: str | None = None, **options) -> bool:
    communicator = await connect(path, username, **options)
    connected, _ = await communicator.connect(timeout=FRAME_TIMEOUT)
    return not connected


@sync_to_async
def stored(room: str, count: int, username: str = "alice") -> list[Posted]:
    user, _ = get_user_model().objects.get_or_create(username=username)
    return [message_post(room, user.pk, username, f"stored {number}", None) for number in range(count)]


async def announce(room: str) -> dict:
    """Store a message and broadcast it as a consumer does: a frame that every socket of the room
    must get next. A test proves that nothing else was sent by checking that this comes first."""
    [posted] = await stored(room, 1, username="announcer")
    event = message_event(posted.frame["id"], posted.prev_id, posted.frame)
    await get_channel_layer().group_send(room_group(room), event)
    return posted.frame


@sync_to_async
def texts_in_database() -> list[str]:
    return list(Message.objects.order_by("id").values_list("text", flat=True))


def ids(frames: list[dict]) -> list[int]:
    return [frame["id"] for frame in frames]
