import asyncio
import datetime as dt
import logging
import re
import threading
import time
import uuid

import pytest
from channels.layers import get_channel_layer
from django.db import connection, connections, transaction
from django.test import Client, override_settings
from prometheus_client import REGISTRY

from reports import services
from reports.definitions import REPORTS
from reports.filters import DateRange
from reports.models import Publication
from reports.protocol import NOTIFICATIONS_GROUP, publication_frame
from reports.services import publication_create
from testbed.login import csrf_token
from testbed.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)

PUBLISH_URL = "/reports/revenue-by-month/publish/"


class GroupListener:
    """A channel in the notifications group, read from sync test code.

    Every call runs on the listener's own event loop: channels-redis binds a channel's receive
    buffer to the loop that first waited on it, so a second loop could not read it afterwards.
    """

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.layer = get_channel_layer()
        self.channel = self.loop.run_until_complete(self.layer.new_channel())
        self.loop.run_until_complete(self.layer.group_add(NOTIFICATIONS_GROUP, self.channel))

    def receive(self, timeout: float = 2.0) -> dict:
        async def receive_with_timeout():
            async with asyncio.timeout(timeout):
                return await self.layer.receive(self.channel)

        return self.loop.run_until_complete(receive_with_timeout())

    def nothing_received(self) -> bool:
        """Whether a marker sent to the group now is the next message: nothing came before it."""
        marker = {"type": "test.marker", "nonce": uuid.uuid4().hex}
        self.loop.run_until_complete(self.layer.group_send(NOTIFICATIONS_GROUP, marker))
        return self.receive() == marker

    def close(self) -> None:
        self.loop.run_until_complete(self.layer.group_discard(NOTIFICATIONS_GROUP, self.channel))
        self.loop.close()


@pytest.fixture
def listener():
    listening = GroupListener()
    yield listening
    listening.close()


def test_staff_publish_stores_a_publication_and_redirects_to_the_report(staff_client, staff_user, listener):
    response = staff_client.post(PUBLISH_URL, {"start": "2025-01-01", "end": "2025-03-31"})

    publication = Publication.objects.get()
    assert response.status_code == 303
    assert response["Location"] == "/reports/revenue-by-month/?start=2025-01-01&end=2025-03-31"
    assert publication.report_slug == "revenue-by-month"
    assert publication.title == "Revenue by month, 2025-01-01 to 2025-03-31"
    assert (publication.start, publication.end) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert publication.published_by == staff_user


def test_staff_publish_broadcasts_report_published_to_the_notifications_group(staff_client, listener):
    staff_client.post(PUBLISH_URL)

    publication = Publication.objects.get()
    assert listener.receive() == {
        "type": "report.published",
        "id": publication.pk,
        "report": {
            "slug": "revenue-by-month",
            "title": "Revenue by month, all dates",
            "url": "/reports/revenue-by-month/",
            "published_at": publication.published_at.isoformat(),
        },
    }


def test_the_report_page_confirms_the_publication(staff_client, listener):
    response = staff_client.post(PUBLISH_URL, follow=True)

    assert response.status_code == 200
    message = re.search(r'data-testid="message">([^<]+)<', response.text).group(1)
    assert "Published" in message
    assert "to live clients" in message


def test_anonymous_publish_is_sent_to_log_in_and_stores_nothing(client, listener):
    response = client.post(PUBLISH_URL)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/reports/revenue-by-month/"
    assert not Publication.objects.exists()
    assert listener.nothing_received()


def test_non_staff_publish_is_forbidden_and_stores_nothing(plain_client, listener):
    response = plain_client.post(PUBLISH_URL)

    assert response.status_code == 403
    assert not Publication.objects.exists()
    assert listener.nothing_received()


def test_publish_without_a_csrf_token_is_refused(staff_user, listener):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)

    response = client.post(PUBLISH_URL)

    assert response.status_code == 403
    assert "CSRF" in response.text
    assert not Publication.objects.exists()


def test_publish_with_the_pages_csrf_token_is_accepted(staff_user, listener):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    page = client.get("/reports/revenue-by-month/")
    token = csrf_token(page.text)

    response = client.post(PUBLISH_URL, {"csrfmiddlewaretoken": token})

    assert response.status_code == 303
    assert Publication.objects.count() == 1


def test_publish_by_get_is_not_allowed(staff_client):
    assert staff_client.get(PUBLISH_URL).status_code == 405
    assert not Publication.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": "soon"}, "Start must be a date written YYYY-MM-DD."),
        ({"start": "2025-02-01", "end": "2025-01-01"}, "The start date must be on or before the end date."),
    ],
)
def test_publish_with_bad_dates_is_a_400_and_stores_nothing(staff_client, listener, data, message):
    response = staff_client.post(PUBLISH_URL, data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Publication.objects.exists()
    assert listener.nothing_received()


def test_publishing_an_unknown_report_is_a_404(staff_client):
    assert staff_client.post("/reports/no-such-report/publish/").status_code == 404
    assert not Publication.objects.exists()


def unreachable_redis_layer() -> dict:
    # A port nobody listens on: connections are refused, as when Redis is down.
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},
        }
    }


def test_with_the_channel_layer_down_the_publication_is_stored_and_the_page_says_the_broadcast_failed(
    staff_client, caplog
):
    with override_settings(CHANNEL_LAYERS=unreachable_redis_layer()):
        response = staff_client.post(PUBLISH_URL, follow=True)

    assert response.status_code == 200
    assert Publication.objects.count() == 1
    message = re.search(r'data-testid="message">([^<]+)<', response.text).group(1)
    assert "the live broadcast failed" in message
    assert any("live broadcast failed" in record.getMessage() for record in caplog.records)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_the_broadcast_waits_for_the_transaction_to_commit(staff_user, listener):
    with transaction.atomic():
        publishing = publication_create(
            report=REPORTS["top-products"], date_range=DateRange(), user=staff_user
        )
        assert publishing.broadcast_sent is None
        assert listener.nothing_received()

    assert publishing.broadcast_sent is True
    assert listener.receive()["id"] == publishing.publication.pk


def test_a_rolled_back_publication_is_never_broadcast(staff_user, listener):
    def publish_then_fail() -> None:
        with transaction.atomic():
            publication_create(report=REPORTS["top-products"], date_range=DateRange(), user=staff_user)
            raise RuntimeError("something later in the same transaction failed")

    with pytest.raises(RuntimeError):
        publish_then_fail()

    assert not Publication.objects.exists()
    assert listener.nothing_received()


def test_the_frame_links_to_the_published_date_range(staff_user):
    publication = Publication.objects.create(
        report_slug="top-products", title="Top products", start=dt.date(2024, 5, 1), published_by=staff_user
    )

    assert publication_frame(publication)["report"]["url"] == "/reports/top-products/?start=2024-05-01"


def test_concurrent_publishes_commit_in_id_order(staff_user, monkeypatch):
    """A client resumes after the highest id it saw: were 42 committed (and broadcast) before 41,
    a client that saw 42 would never get 41."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time: its ids always commit in order")
    committed: list[int] = []
    monkeypatch.setattr(
        services, "broadcast_publication", lambda publication: committed.append(publication.pk)
    )
    first_inserted = threading.Event()

    def publish(*, commit_late: bool) -> None:
        try:
            with transaction.atomic():
                publication_create(report=REPORTS["top-products"], date_range=DateRange(), user=staff_user)
                if commit_late:
                    first_inserted.set()
                    time.sleep(0.5)  # the second publish starts meanwhile
        finally:
            connections.close_all()

    slow = threading.Thread(target=publish, kwargs={"commit_late": True})
    slow.start()
    assert first_inserted.wait(10)
    fast = threading.Thread(target=publish, kwargs={"commit_late": False})
    fast.start()
    slow.join(10)
    fast.join(10)

    assert len(committed) == 2
    assert committed == sorted(committed)


def test_a_failed_broadcast_counts_as_a_channel_layer_error(staff_client):
    def broadcast_errors() -> float:
        return REGISTRY.get_sample_value("channel_layer_errors_total", {"operation": "broadcast"}) or 0.0

    before = broadcast_errors()
    with override_settings(CHANNEL_LAYERS=unreachable_redis_layer()):
        staff_client.post(PUBLISH_URL, follow=True)

    assert broadcast_errors() == before + 1
