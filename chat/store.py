"""Storing and reading chat messages: plain synchronous ORM code.

The consumer calls these through `database_sync_to_async` (chat/consumers.py), seeding and tests
call them directly. They stay synchronous on purpose: storing a message takes a transaction and a
row lock, and Django's async ORM cannot open a transaction (`transaction.atomic` is sync-only).
"""

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet

from chat.models import Message, Room
from chat.protocol import message_frame

# The contract's numbers: a fresh connection gets the last 50 messages; one resuming with ?after=
# gets up to 500 in one history frame (the consumer sends any more as message frames).
HISTORY_LENGTH = 50
RESUME_BATCH = 500


@dataclass(frozen=True)
class Posted:
    frame: dict[str, Any]
    # The id of the room's previous message (None for its first): lets each consumer check that it
    # has delivered that one before this one (see ChatConsumer.deliver).
    prev_id: int | None
    created: bool


@dataclass(frozen=True)
class History:
    messages: list[dict[str, Any]]
    # The id of the last message this history accounts for: the room's last message when the
    # history is complete, the last one sent when a resume had more than RESUME_BATCH to send.
    through_id: int | None
    complete: bool


def post_message(room_name: str, author_id: int, username: str, text: str, client_id: str | None) -> Posted:
    """Store a message, or find the one already stored under the author's `client_id`.

    The room's row is locked while the message is inserted, so within a room ids are handed out
    and committed in the same order: a reader never sees message N+1 without message N. That is
    what makes "resume after my highest id" safe.
    """
    if client_id is not None and (existing := _by_client_id(author_id, client_id)) is not None:
        return Posted(_frame(existing, existing.room.name, username), prev_id=None, created=False)
    try:
        with transaction.atomic():
            room, _ = Room.objects.select_for_update().get_or_create(name=room_name)
            prev_id = room.last_message_id
            message = Message.objects.create(room=room, author_id=author_id, text=text, client_id=client_id)
            Room.objects.filter(pk=room.pk).update(
                message_count=F("message_count") + 1,
                last_message_id=message.id,
                last_message_at=message.created,
            )
    except IntegrityError:
        # The same send, retried at the same moment on another connection, won the race.
        existing = _by_client_id(author_id, client_id) if client_id is not None else None
        if existing is None:
            raise
        return Posted(_frame(existing, existing.room.name, username), prev_id=None, created=False)
    return Posted(_frame(message, room_name, username), prev_id=prev_id, created=True)


def room_history(room_name: str, after: int | None) -> History:
    """The last HISTORY_LENGTH messages of a room, or with `after` the first RESUME_BATCH after it;
    oldest first."""
    room = Room.objects.filter(name=room_name).values("id", "last_message_id").first()
    if room is None or room["last_message_id"] is None:
        return History(messages=[], through_id=None, complete=True)
    last_id = room["last_message_id"]
    # Read up to the room's last message as of now: every message up to it is committed (see
    # post_message), and anything stored later reaches this client as a live broadcast.
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
    rows = _rows_of_room_named(room_name)
    if after is not None:
        rows = rows.filter(id__gt=after)
    return _frames(list(rows.order_by("id")[:limit]), room_name)


def _rows(room_id: int) -> QuerySet[Message]:
    return Message.objects.filter(room_id=room_id).select_related("author")


def _rows_of_room_named(room_name: str) -> QuerySet[Message]:
    return Message.objects.filter(room__name=room_name).select_related("author")


def _by_client_id(author_id: int, client_id: str) -> Message | None:
    return Message.objects.select_related("room").filter(author_id=author_id, client_id=client_id).first()


def _frames(messages: list[Message], room_name: str) -> list[dict[str, Any]]:
    return [_frame(message, room_name, message.author.get_username()) for message in messages]


def _frame(message: Message, room_name: str, username: str) -> dict[str, Any]:
    return message_frame(
        id=message.id,
        room=room_name,
        user=username,
        text=message.text,
        created=message.created,
        client_id=message.client_id,
    )
