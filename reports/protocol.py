"""The frames of /ws/notifications/ (docs/protocol.md). Pure functions, no I/O. The `?after=`
rule and the close codes, shared with the chat, are in the myproject/realtime/ package."""

from typing import Any

from reports.models import Publication

# Every notifications socket of every ASGI process is in this channel-layer group.
NOTIFICATIONS_GROUP = "notifications"

READ_ONLY = "read_only"


def publication_frame(publication: Publication) -> dict[str, Any]:
    """The `report.published` frame, also the channel-layer message: its "type" routes it to
    NotificationsConsumer.report_published."""
    return {
        "type": "report.published",
        "id": publication.pk,
        "report": {
            "slug": publication.report_slug,
            "title": publication.title,
            "url": publication.get_absolute_url(),
            "published_at": publication.published_at.isoformat(),
        },
    }


def read_only_frame() -> dict[str, Any]:
    """The answer to any frame a client sends: this socket only listens."""
    return {
        "type": "error",
        "code": READ_ONLY,
        "detail": "This socket only sends notifications; publish with a POST.",
    }
