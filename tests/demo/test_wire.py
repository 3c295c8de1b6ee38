"""/demo/wire/ in process: the page, the trace endpoint, and the echo socket through the project's
whole ASGI application (recorder, origin check, session auth, routing)."""

import json

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.testing import WebsocketCommunicator
from django.core.cache import caches
from django.templatetags.static import static
from django.test import Client

from demo import consumers
from demo.consumers import MAX_ECHO_CHARS, MAX_FRAMES
from myproject.asgi import application
from myproject.wire.recorders import CAPTURE_PATH, SOCKET_PATH, TRACE_CACHE, store_trace, stored_trace
from tests.conftest import fetch

ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")
WELL_FORMED_UNKNOWN = "A" * 22


@pytest.fixture(autouse=True)
def empty_trace_cache():
    caches[TRACE_CACHE].clear()
    yield
    caches[TRACE_CACHE].clear()


@pytest.mark.django_db
def test_the_page_renders_on_both_interfaces_with_what_its_script_needs(interface):
    response = fetch(interface, "/demo/wire/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-capture-url="{CAPTURE_PATH}"' in html
    assert 'data-trace-url="/demo/wire/trace/TOKEN/"' in html
    assert f'data-socket-path="{SOCKET_PATH}"' in html
    assert static("demo/wire.js") in html


@pytest.mark.django_db
def test_the_page_states_the_masking_rule_and_the_capture_budget(settings):
    settings.WIRE_CAPTURES_PER_CLIENT, settings.WIRE_CAPTURES_TOTAL = 7, 70

    html = Client().get("/demo/wire/").content.decode()

    rule = html[html.index('data-testid="masking-rule"') :].split("</p>", 1)[0]
    for word in ("token", "secret", "key", "password", "auth", "session", "cookie"):
        assert f"<code>{word}</code>" in rule
    assert "&lt;masked&gt;" in rule
    assert "7 captures a minute" in rule
    assert "everybody together 70" in rule
    assert "429 Too Many Requests" in rule


@pytest.mark.django_db
def test_the_demo_index_links_to_the_page():
    assert 'href="/demo/wire/"' in Client().get("/demo/").content.decode()


@pytest.mark.django_db
def test_a_stored_trace_is_served_as_json():
    store_trace(WELL_FORMED_UNKNOWN, {"interface": "wsgi"})

    response = Client().get(f"/demo/wire/trace/{WELL_FORMED_UNKNOWN}/")

    assert response.status_code == 200
    assert response.json() == {"interface": "wsgi"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("token", [WELL_FORMED_UNKNOWN, "short", "A" * 23, "a/b", "☃" * 22, "%00" * 8])
def test_an_unknown_or_malformed_token_is_a_404_in_json(interface, token):
    response = fetch(interface, f"/demo/wire/trace/{token}/")

    assert response.status_code == 404
    assert "no trace with this token" in response.json()["error"]


@pytest.mark.django_db(transaction=True)
async def test_the_capture_through_the_asgi_application_names_its_trace():
    scope = {"type": "http", "method": "GET", "path": CAPTURE_PATH, "query_string": b""}
    communicator = ApplicationCommunicator(application, {**scope, "headers": [(b"host", b"localhost")]})
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=10)
    body = await communicator.receive_output(timeout=10)
    await communicator.wait(timeout=10)  # the handler closes what it opened for the request

    token = dict(start["headers"])[b"x-wire-trace"].decode()
    trace = stored_trace(token)
    assert trace["interface"] == "asgi"
    assert json.loads(body["body"])["probe"] == "hello"


async def receive_text(communicator: WebsocketCommunicator) -> str:
    # Not receive_from(): it insists on one of `text` and `bytes`, where ASGI lets `bytes` be None.
    event = await communicator.receive_output(timeout=5)
    assert event["type"] == "websocket.send", event
    return event["text"]


async def open_echo(headers=(HOST, ORIGIN)) -> tuple[WebsocketCommunicator, str | None]:
    communicator = WebsocketCommunicator(application, SOCKET_PATH, headers=list(headers))
    connected, _ = await communicator.connect()
    assert connected
    return communicator, json.loads(await receive_text(communicator))["token"]


@pytest.mark.django_db(transaction=True)
async def test_the_echo_socket_echoes_a_few_frames_then_closes_and_its_trace_is_whole():
    communicator, token = await open_echo()
    echoes = []
    for number in range(MAX_FRAMES):
        await communicator.send_to(text_data=f"ping {number}")
        echoes.append(await receive_text(communicator))
    closed = await communicator.receive_output()
    await communicator.disconnect()

    assert echoes == [f"ping {number}" for number in range(MAX_FRAMES)]
    assert closed == {"type": "websocket.close", "code": 1000, "reason": ""}
    types = [event["type"] for event in stored_trace(token)["events"]]
    assert types[0] == "websocket.connect"
    assert types[-2:] == ["websocket.close", "websocket.disconnect"]


@pytest.mark.django_db(transaction=True)
async def test_the_echo_socket_cuts_long_frames():
    communicator, _ = await open_echo()

    await communicator.send_to(text_data="x" * (MAX_ECHO_CHARS * 10))

    assert await receive_text(communicator) == "x" * MAX_ECHO_CHARS
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_echo_socket_closes_by_itself_on_a_silent_client(monkeypatch):
    monkeypatch.setattr(consumers, "IDLE_SECONDS", 0.2)
    communicator, _ = await open_echo()

    closed = await communicator.receive_output(timeout=5)

    assert closed["type"] == "websocket.close"
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_echo_socket_refuses_another_sites_origin():
    communicator = WebsocketCommunicator(
        application, SOCKET_PATH, headers=[HOST, (b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()

    assert not connected
