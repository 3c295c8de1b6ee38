"""Reading publications: plain synchronous ORM code, run by the live page's view directly and by
the consumer through `database_sync_to_async` (reports/consumers.py), as the chat reads its
messages."""

from typing import Any

from reports.models import Publication
from reports.protocol import publication_frame

# A client that was away longer than this many publications reloads the page instead.
RESUME_LIMIT = 500


def publications_after(after: int, limit: int = RESUME_LIMIT) -> list[dict[str, Any]]:
    """The frames of up to `limit` publications after id `after`, oldest first."""
    return [
        publication_frame(publication)
        for publication in Publication.objects.filter(pk__gt=after).order_by("pk")[:limit]
    ]


def publications_latest(count: int) -> list[Publication]:
    """The last `count` publications, oldest first: what the live page shows before its socket opens."""
    return list(Publication.objects.order_by("-pk")[:count])[::-1]
