import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from myproject.asgi import application
from reports.models import Publication
from reports.protocol import NOTIFICATIONS_GROUP, publication_frame
from reports.selectors import RESUME_LIMIT

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("orm_thread_connections_closed"),
]

ALLOWED_ORIGIN = (b"origin", b"http://localhost")
HOST = (b"host", b"localhost")


async def connect(query: str = "", origin: tuple[bytes, bytes] = ALLOWED_ORIGIN) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/notifications/{query}", headers=[HOST, origin])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@sync_to_async
def publish(count: int = 1, slug: str = "top-products") -> list[Publication]:
    user, _ = get_user_model().objects.get_or_create(username="manager", defaults={"is_staff": True})
    return [
        Publication.objects.create(report_slug=slug, title=f"Top products #{number}", published_by=user)
        for number in range(count)
    ]


async def broadcast(publication: Publication) -> None:
    await get_channel_layer().group_send(NOTIFICATIONS_GROUP, publication_frame(publication))


async def test_a_broadcast_publication_reaches_a_connected_client():
    communicator = await connect()
    [publication] = await publish()

    await broadcast(publication)

    assert await communicator.receive_json_from(timeout=2) == publication_frame(publication)
    await communicator.disconnect()


async def test_every_connected_client_gets_the_publication():
    first, second = await connect(), await connect()
    [publication] = await publish()

    await broadcast(publication)

    for communicator in (first, second):
        assert (await communicator.receive_json_from(timeout=2))["id"] == publication.pk
        await communicator.disconnect()


async def next_frame(communicator: WebsocketCommunicator) -> dict:
    return await communicator.receive_json_from(timeout=2)


async def test_without_after_nothing_old_is_sent():
    await publish(3)
    communicator = await connect()

    [publication] = await publish()
    await broadcast(publication)

    # The first frame is the new publication: nothing old came before it.
    assert (await next_frame(communicator))["id"] == publication.pk
    await communicator.disconnect()


async def test_after_sends_the_missed_publications_oldest_first():
    publications = await publish(5)

    communicator = await connect(f"?after={publications[1].pk}")

    received = [await next_frame(communicator) for _ in range(3)]
    assert received == [publication_frame(publication) for publication in publications[2:]]
    [later] = await publish()
    await broadcast(later)
    assert (await next_frame(communicator))["id"] == later.pk
    await communicator.disconnect()


async def test_after_zero_sends_everything():
    publications = await publish(3)

    communicator = await connect("?after=0")

    assert [(await communicator.receive_json_from(timeout=2))["id"] for _ in publications] == [
        publication.pk for publication in publications
    ]
    await communicator.disconnect()


async def test_resume_sends_at_most_the_limit_oldest_first():
    publications = await publish(RESUME_LIMIT + 2)

    communicator = await connect("?after=0")

    ids = [(await next_frame(communicator))["id"] for _ in range(RESUME_LIMIT)]
    assert ids == [publication.pk for publication in publications[:RESUME_LIMIT]]
    [later] = await publish()
    await broadcast(later)
    assert (await next_frame(communicator))["id"] == later.pk
    await communicator.disconnect()


async def test_a_publication_in_the_backlog_is_not_sent_again_by_its_broadcast():
    [publication] = await publish()
    communicator = await connect(f"?after={publication.pk - 1}")
    assert (await communicator.receive_json_from(timeout=2))["id"] == publication.pk

    await broadcast(publication)
    [later] = await publish()
    await broadcast(later)

    assert (await next_frame(communicator))["id"] == later.pk
    await communicator.disconnect()


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", "", "9" * 20, "%20", "%C2%B2", "%E2%91%A0"])
async def test_a_bad_after_is_refused_at_the_handshake(after):
    communicator = WebsocketCommunicator(
        application, f"/ws/notifications/?after={after}", headers=[ALLOWED_ORIGIN]
    )

    connected, _ = await communicator.connect()

    assert not connected


async def test_frames_from_the_client_get_a_read_only_error():
    communicator = await connect()

    await communicator.send_json_to({"type": "message", "text": "hello"})

    assert await communicator.receive_json_from(timeout=2) == {
        "type": "error",
        "code": "read_only",
        "detail": "This socket only sends notifications; publish with a POST.",
    }
    await communicator.disconnect()


async def test_a_handshake_from_another_site_is_refused():
    communicator = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[HOST, (b"origin", b"https://evil.example")]
    )

    connected, _ = await communicator.connect()

    assert not connected
