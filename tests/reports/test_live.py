"""The bridge across real processes: a staff member publishes on Gunicorn (WSGI), a WebSocket client
of Uvicorn (ASGI) hears it; both share one database and one Redis."""

import json
import re
import time

import pytest
import requests
from django.conf import settings
from django.templatetags.static import static
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

import testbed.login
from demo.seeding import DEMO_STAFF
from myproject.realtime.close_codes import CLOSE_TRY_AGAIN_LATER
from myproject.realtime.layer import LAYER_TIMEOUT_SECONDS
from reports.redis_watch import WATCH_SECONDS
from testbed.environment import base_environment
from testbed.web import WebServer, uvicorn_server
from tests.conftest import start_stacks

pytestmark = pytest.mark.live

DELIVERY_DEADLINE_SECONDS = 2.0


def logged_in_session(server: WebServer, username: str = DEMO_STAFF) -> requests.Session:
    return testbed.login.logged_in_session(server.url, username)


def publish(
    session: requests.Session, server: WebServer, slug: str = "revenue-by-month"
) -> requests.Response:
    page = session.get(f"{server.url}/reports/{slug}/", timeout=10)
    return session.post(
        f"{server.url}/reports/{slug}/publish/",
        data={"csrfmiddlewaretoken": testbed.login.csrf_token(page.text)},
        headers={"Referer": f"{server.url}/reports/{slug}/"},
        allow_redirects=False,
        timeout=10,
    )


def notifications(server: WebServer, after: int | None = None) -> ClientConnection:
    query = "" if after is None else f"?after={after}"
    return connect(
        f"ws://127.0.0.1:{server.port}/ws/notifications/{query}",
        origin=f"http://127.0.0.1:{server.port}",
        open_timeout=10,
    )


def reconnected_notifications(
    server: WebServer, after: int, deadline_seconds: float = 15
) -> ClientConnection:
    """Reconnect the way static/js/resumable-socket.js does: retry until the handshake succeeds. The
    first handshakes after Redis comes back may fail while Uvicorn's pool drops its dead connections."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            return notifications(server, after=after)
        except InvalidStatus:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def next_frame(socket: ClientConnection, timeout: float = DELIVERY_DEADLINE_SECONDS) -> dict:
    return json.loads(socket.recv(timeout=timeout))


def page_message(html: str) -> str:
    return re.search(r'data-testid="message">([^<]+)<', html).group(1)


@pytest.mark.parametrize("publishing_stack", ["wsgi", "asgi"])
def test_a_publish_reaches_a_websocket_client_of_uvicorn_within_2_seconds(live_stacks, publishing_stack):
    server = getattr(live_stacks, publishing_stack)
    session = logged_in_session(server)
    with notifications(live_stacks.asgi) as socket:
        started = time.monotonic()
        response = publish(session, server)
        frame = next_frame(socket)
        elapsed = time.monotonic() - started

    assert response.status_code == 303, response.text
    assert response.headers["X-Interface"] == publishing_stack
    assert elapsed < DELIVERY_DEADLINE_SECONDS
    assert frame["type"] == "report.published"
    assert frame["report"]["slug"] == "revenue-by-month"
    assert frame["report"]["url"] == "/reports/revenue-by-month/"
    assert response.headers["Location"] == frame["report"]["url"]


def test_a_client_that_reconnects_with_after_gets_what_it_missed(live_stacks):
    session = logged_in_session(live_stacks.wsgi)
    with notifications(live_stacks.asgi) as socket:
        publish(session, live_stacks.wsgi)
        last_seen = next_frame(socket)["id"]

    publish(session, live_stacks.wsgi)
    publish(session, live_stacks.wsgi, slug="top-products")
    with notifications(live_stacks.asgi, after=last_seen) as socket:
        missed = [next_frame(socket), next_frame(socket)]

    assert [frame["report"]["slug"] for frame in missed] == ["revenue-by-month", "top-products"]
    assert missed[0]["id"] > last_seen
    assert missed[1]["id"] > missed[0]["id"]


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_csv_is_streamed_in_chunks_on_both_stacks(live_stacks, stack):
    session = logged_in_session(live_stacks.wsgi, "alice")  # exports need a signed-in user
    response = session.get(f"{getattr(live_stacks, stack).url}/reports/order-lines/csv/", timeout=30)

    assert response.status_code == 200
    assert response.headers["X-Interface"] == stack
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert response.content.decode("utf-8").startswith("Line,Placed at,Order,")


def test_csv_is_the_same_on_both_stacks_and_uvicorn_does_not_buffer_it(live_stacks, server_logs):
    # A Uvicorn of its own: Python prints a warning once per process, so the CSV must be the first
    # streamed response this process serves (WhiteNoise's static files trigger the same warning).
    session = logged_in_session(live_stacks.wsgi, "alice")  # exports need a signed-in user
    uvicorn = uvicorn_server(live_stacks.env, server_logs)
    uvicorn.start()
    try:
        asgi = session.get(f"{uvicorn.url}/reports/order-lines/csv/", timeout=30)
    finally:
        uvicorn.stop()
    wsgi = session.get(f"{live_stacks.wsgi.url}/reports/order-lines/csv/", timeout=30)

    assert asgi.content == wsgi.content
    assert wsgi.content.count(b"\r\n") == 1 + 200  # the header and the live database's 200 seeded lines
    assert "synchronous iterators" not in uvicorn.log()


def test_the_live_page_lists_publications_and_loads_the_resumable_socket(live_stacks):
    session = logged_in_session(live_stacks.wsgi)
    publish(session, live_stacks.wsgi, slug="revenue-by-region")

    page = requests.get(f"{live_stacks.asgi.url}/reports/live/", timeout=10)
    script = requests.get(f"{live_stacks.asgi.url}{static('reports/live.js')}", timeout=10)
    shared = requests.get(f"{live_stacks.asgi.url}/static/js/resumable-socket.js", timeout=10)

    assert page.status_code == 200
    assert "Revenue by region, all dates" in page.text
    assert f'src="{static("reports/live.js")}"' in page.text
    assert script.status_code == 200
    assert 'from "../js/resumable-socket.js"' in script.text
    assert shared.status_code == 200


@pytest.mark.parametrize("layer", list(settings.REDIS_CHANNEL_LAYERS))
def test_with_redis_down_a_publish_is_stored_and_says_so_and_the_client_resumes_it_later(
    live_database, redis_server, server_logs, layer
):
    env = base_environment(
        DATABASE_URL=live_database.url, REDIS_URL=redis_server.url, REDIS_CHANNEL_LAYER=layer
    )
    stacks = start_stacks(env, server_logs)
    try:
        session = logged_in_session(stacks.wsgi)
        with notifications(stacks.asgi) as socket:
            publish(session, stacks.wsgi)
            last_seen = next_frame(socket)["id"]

            redis_server.stop()
            response = publish(session, stacks.wsgi, slug="top-products")
            # The connected client is not left on a silent socket: it is told to come back.
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=WATCH_SECONDS + LAYER_TIMEOUT_SECONDS + 3)
        report_page = session.get(f"{stacks.wsgi.url}{response.headers['Location']}", timeout=10)
        live_page = requests.get(f"{stacks.asgi.url}/reports/live/", timeout=10)

        redis_server.start()
        with reconnected_notifications(stacks.asgi, after=last_seen) as socket:
            resumed = next_frame(socket)
    finally:
        stacks.wsgi.stop()
        stacks.asgi.stop()

    assert response.status_code == 303
    assert "the live broadcast failed" in page_message(report_page.text)
    assert closed.value.rcvd.code == CLOSE_TRY_AGAIN_LATER
    assert "Top products, all dates" in live_page.text
    assert resumed["report"]["slug"] == "top-products"
    assert resumed["id"] > last_seen
    assert "live broadcast failed" in stacks.wsgi.log()
    assert "Traceback" not in stacks.wsgi.log()
    # channels-redis logs its own reconnect attempts; the consumers must not crash.
    assert "Exception in ASGI application" not in stacks.asgi.log()
