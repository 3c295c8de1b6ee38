"""/ws/notifications/: tells every connected client when a report is published.

Runs only under ASGI: each connection is a coroutine on the server's event loop, and thousands can
wait at once for the next publication, costing a little memory each instead of a thread each.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from reports.models import Publication
from reports.services import NOTIFICATIONS_GROUP, publication_frame

# A client that was away longer than this many publications reloads the page instead.
RESUME_LIMIT = 500
# Ids are bigint: anything longer is not an id, and would overflow the database's integer.
MAX_ID_DIGITS = 18


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    # Channels joins the group before connect() runs, so a publication committed while the
    # backlog below is being read still arrives as an event: nothing falls between the two.
    groups = [NOTIFICATIONS_GROUP]

    async def connect(self) -> None:
        self.backlog_ids: set[int] = set()
        await self.accept()
        query = parse_qs(self.scope["query_string"].decode("latin-1"), keep_blank_values=True)
        after = query.get("after", [None])[-1]
        if after is None:
            return
        if not (after.isdigit() and len(after) <= MAX_ID_DIGITS):
            await self.send_error(
                "invalid_after", "after must be a publication id: a whole number, 0 or more."
            )
            return
        async for publication in Publication.objects.filter(pk__gt=int(after)).order_by("pk")[:RESUME_LIMIT]:
            self.backlog_ids.add(publication.pk)
            await self.send_json(publication_frame(publication))

    async def report_published(self, event: dict[str, Any]) -> None:
        # Already sent from the backlog if it committed between the group join and the query.
        if event["id"] in self.backlog_ids:
            return
        await self.send_json(event)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        await self.send_error("read_only", "This socket only sends notifications; publish with a POST.")

    async def send_error(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})
