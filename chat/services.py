"""Writing chat messages: plain synchronous ORM code.

The consumer calls `message_post` through `database_sync_to_async` (chat/consumers.py); seeding
and tests call it directly. It stays synchronous on purpose: storing a message takes a transaction
and a row lock, and Django's async ORM cannot open a transaction (`transaction.atomic` is sync-only).
"""

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from chat.models import Message, Room
from chat.selectors import stored_frame


@dataclass(frozen=True)
class Posted:
    frame: dict[str, Any]
    # The id of the room's previous message (None for its first): lets each consumer check that it
    # has delivered that one before this one (see GaplessDelivery.deliver in chat/consumers.py).
    prev_id: int | None
    created: bool


def message_post(room_name: str, author_id: int, username: str, text: str, client_id: str | None) -> Posted:
    """Store a message, or find the one already stored under the author's `client_id`.

    The room's row is locked while the message is inserted, so within a room ids are handed out
    and committed in the same order: a reader never sees message N+1 without message N. That is
    what makes "resume after my highest id" safe. (On SQLite select_for_update() is a no-op; the
    settings' IMMEDIATE transactions serialise every writer instead.)
    """
    if client_id is not None and (existing := _by_client_id(author_id, client_id)) is not None:
        return Posted(stored_frame(existing, existing.room.name, username), prev_id=None, created=False)
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
        return Posted(stored_frame(existing, existing.room.name, username), prev_id=None, created=False)
    return Posted(stored_frame(message, room_name, username), prev_id=prev_id, created=True)


def _by_client_id(author_id: int, client_id: str) -> Message | None:
    return Message.objects.select_related("room").filter(author_id=author_id, client_id=client_id).first()
