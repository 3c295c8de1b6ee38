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
from django.db import connection, transaction

from metrics.instruments import CHANNEL_LAYER_ERRORS
from reports.definitions import Report
from reports.filters import DateRange
from reports.models import Publication
from reports.protocol import NOTIFICATIONS_GROUP, publication_frame

logger = logging.getLogger(__name__)

# A publish must answer even when Redis hangs instead of refusing connections: past this the
# broadcast counts as failed (the publication is stored; clients catch up with ?after=<id>).
BROADCAST_TIMEOUT_SECONDS = 2.0


@dataclass
class Publishing:
    publication: Publication
    # True or False once the broadcast ran; None while the caller's transaction is still open
    # (the broadcast waits for its commit).
    broadcast_sent: bool | None = None


def publication_create(*, report: Report, date_range: DateRange, user: User) -> Publishing:
    with transaction.atomic():
        _wait_for_earlier_publishes()
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


def _wait_for_earlier_publishes() -> None:
    """Make publishes commit in id order, as chat messages do under their room's row lock.

    A client resumes with ?after=<the highest id it saw>. Ids are handed out at insert, not at
    commit: if publish 42 committed (and was broadcast) before 41, a client that saw 42 and resumed
    after it would never get 41. On PostgreSQL this lock, held until the transaction ends, queues
    the publishes; it conflicts with itself and with writes to the table, not with reads. SQLite
    needs nothing: it lets one transaction write at a time, from its first insert to its commit.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Publication._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


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
        CHANNEL_LAYER_ERRORS.labels("broadcast").inc()
        return False
    return True
