"""Helpers for consumer tests through WebsocketCommunicator (see the `connect` fixture)."""

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from chat.models import Message
from chat.store import Posted, post_message
from tests.chat.conftest import FRAME_TIMEOUT

QUIET = 0.2  # how long "nothing arrives" is watched for


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
    return [post_message(room, user.pk, username, f"stored {number}", None) for number in range(count)]


@sync_to_async
def texts_in_database() -> list[str]:
    return list(Message.objects.order_by("id").values_list("text", flat=True))


def ids(frames: list[dict]) -> list[int]:
    return [frame["id"] for frame in frames]
