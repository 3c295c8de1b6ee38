"""Reading chat messages: plain synchronous ORM code, run by the consumer through
`database_sync_to_async` (chat/consumers.py), like chat/services.py."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from chat.models import Message, Room
from chat.protocol import message_frame

# The contract's numbers: a fresh connection gets the last 50 messages; one resuming with ?after=
# gets up to 500 in one history frame (the consumer sends any more as message frames).
HISTORY_LENGTH = 50
RESUME_BATCH = 500


@dataclass(frozen=True)
class History:
    messages: list[dict[str, Any]]
    # The id of the last message this history accounts for: the room's last message when the
    # history is complete, the last one sent when a resume had more than RESUME_BATCH to send.
    through_id: int | None
    complete: bool


def room_history(room_name: str, after: int | None) -> History:
    """The last HISTORY_LENGTH messages of a room, or with `after` the first RESUME_BATCH after it;
    oldest first."""
    room = Room.objects.filter(name=room_name).values("id", "last_message_id").first()
    if room is None or room["last_message_id"] is None:
        return History(messages=[], through_id=None, complete=True)
    last_id = room["last_message_id"]
    # Read up to the room's last message as of now: every message up to it is committed (see
    # chat.services.message_post), and anything stored later reaches this client as a broadcast.
    rows = _rows(room["id"]).filter(id__lte=last_id)
    if after is None:
        messages = list(reversed(rows.order_by("-id")[:HISTORY_LENGTH]))
        return History(_frames(messages, room_name), through_id=last_id, complete=True)
    messages = list(rows.filter(id__gt=after).order_by("id")[: RESUME_BATCH + 1])
    if len(messages) > RESUME_BATCH:
        messages = messages[:RESUME_BATCH]
        return History(_frames(messages, room_name), through_id=messages[-1].id, complete=False)
    return History(_frames(messages, room_name), through_id=last_id, complete=True)


def messages_after(room_name: str, after: int | None, limit: int = RESUME_BATCH) -> list[dict[str, Any]]:
    """Up to `limit` messages of a room after id `after` (all from its first when None), oldest first."""
    rows = Message.objects.filter(room__name=room_name).select_related("author")
    if after is not None:
        rows = rows.filter(id__gt=after)
    return _frames(list(rows.order_by("id")[:limit]), room_name)


def stored_frame(message: Message, room_name: str, username: str) -> dict[str, Any]:
    """The contract's message frame of a stored message."""
    return message_frame(
        id=message.id,
        room=room_name,
        user=username,
        text=message.text,
        created=message.created,
        client_id=message.client_id,
    )


def _rows(room_id: int) -> QuerySet[Message]:
    return Message.objects.filter(room_id=room_id).select_related("author")


def _frames(messages: list[Message], room_name: str) -> list[dict[str, Any]]:
    return [stored_frame(message, room_name, message.author.get_username()) for message in messages]
