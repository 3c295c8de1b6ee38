"""Chat rooms and their messages."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

# The contract's room names (docs/protocol.md): URL-safe, so a name is its own slug.
ROOM_NAME_PATTERN = r"[A-Za-z0-9_-]{1,50}"
MESSAGE_MAX_LENGTH = 2000
CLIENT_ID_MAX_LENGTH = 64


class Room(models.Model):
    name = models.CharField(
        max_length=50,
        unique=True,
        validators=[RegexValidator(rf"^{ROOM_NAME_PATTERN}\Z", "Room names are 1-50 of A-Z a-z 0-9 _ -.")],
    )
    created = models.DateTimeField(default=timezone.now)
    # Kept up to date under the room's row lock by chat.services.message_post: the lobby lists
    # rooms without counting rows, and each broadcast names the message before it (see consumers).
    message_count = models.PositiveIntegerField(default=0, editable=False)
    last_message_id = models.BigIntegerField(null=True, blank=True, editable=False)
    last_message_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages"
    )
    text = models.CharField(max_length=MESSAGE_MAX_LENGTH)
    created = models.DateTimeField(default=timezone.now)
    # Chosen by the sending client; a retried send carries the same one and is stored once. NULL,
    # not "", when there is none: the contract's null, and outside the unique constraint below.
    client_id = models.CharField(max_length=CLIENT_ID_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["id"]
        indexes = [
            # "The messages of a room after id N", for history and for resuming with ?after=.
            models.Index(fields=["room", "id"], name="chat_message_room_id"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="chat_message_unique_client_id_per_author",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.id} in {self.room_id} by {self.author_id}"
