"""Publishing a report, and the bridge from sync Django code to the async channel layer.

The publish view is a plain `def` view. On Gunicorn it runs on a sync worker thread with no event
loop at all, yet the channel layer (channels-redis) is asyncio code: `broadcast_publication` is the
single place where the sync world calls into it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.db import transaction

from reports.definitions import Report
from reports.filters import DateRange
from reports.models import Publication

logger = logging.getLogger(__name__)

NOTIFICATIONS_GROUP = "notifications"

# A publish must answer even when Redis hangs instead of refusing connections: past this the
# broadcast counts as failed (the publication is stored; clients catch up with ?after=<id>).
BROADCAST_TIMEOUT_SECONDS = 2.0


@dataclass
class Publishing:
    publication: Publication
    # True or False once the broadcast ran; None while the caller's transaction is still open
    # (the broadcast waits for its commit).
    broadcast_sent: bool | None = None


def publication_frame(publication: Publication) -> dict[str, Any]:
    """The `report.published` frame of ../shared/CONTRACT.md, also the channel-layer message: its
    "type" routes it to NotificationsConsumer.report_published."""
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


def publication_create(*, report: Report, date_range: DateRange, user: User) -> Publishing:
    with transaction.atomic():
        publication = Publication.objects.create(
            report_slug=report.slug,
            title=f"{report.title}, {date_range}",
            start=date_range.start,
            end=date_range.end,
            published_by=user,
        )
        publishing = Publishing(publication)

        def broadcast_after_commit() -> None:
            publishing.broadcast_sent = broadcast_publication(publication)

        # Broadcast only once the row is committed: a client that hears about publication N may at
        # once reconnect with ?after=N or open the report on another process, and must find it
        # there. Sent inside the transaction, the frame could also announce a row that a rollback
        # then removes.
        transaction.on_commit(broadcast_after_commit)
    return publishing


async def _send_to_notifications_group(frame: dict[str, Any]) -> None:
    async with asyncio.timeout(BROADCAST_TIMEOUT_SECONDS):
        layer = get_channel_layer()
        assert layer is not None, "settings.CHANNEL_LAYERS always names a default layer"
        await layer.group_send(NOTIFICATIONS_GROUP, frame)


def broadcast_publication(publication: Publication) -> bool:
    """Send the publication to every /ws/notifications/ client, on every ASGI process. Returns
    whether the channel layer took it; a failure is logged, never raised: the publication is
    stored either way."""
    try:
        # The bridge, and the only async_to_sync in the app. Under ASGI this sync code runs in a
        # worker thread of the server's event loop, and the coroutine runs on that loop, reusing
        # its Redis connections. On a Gunicorn sync worker there is no loop: async_to_sync runs a
        # fresh one for this call and closes it afterwards, and channels-redis closes the
        # connections it opened on that loop when the loop closes (nothing leaks from call to call;
        # tests/reports/test_bridge.py publishes 500 times and counts Redis' clients).
        async_to_sync(_send_to_notifications_group)(publication_frame(publication))
    except Exception as error:  # any failure of the layer (Redis down, timeout) means "not sent"
        logger.warning(
            "Publication %s is stored but its live broadcast failed (%s: %s); clients get it when they "
            "reconnect with ?after=<id>.",
            publication.pk,
            type(error).__name__,
            error or f"no answer within {BROADCAST_TIMEOUT_SECONDS:g} s",
        )
        return False
    return True
