"""Property: whatever a client sends (handshake path, query string, origin, frames), the project's
whole ASGI application (origin check, session auth, routing, consumers) answers without raising
(a server turns that into a 500 or a 1006) and without logging an error or a traceback.

In process, on the in-memory channel layer: the same code paths a real server runs, hundreds of
cases in seconds. tests/myproject/test_realtime_live.py runs a bounded variant against Uvicorn.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from myproject.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

OUTPUT_TIMEOUT = 5.0

ALLOWED_ORIGIN = (b"origin", b"http://localhost")
HOST = (b"host", b"localhost")
ROUTES = ["/ws/chat/", "/ws/chat/lobby/", "/ws/notifications/", "/ws/race/", "/ws/wire/", "/ws/", "/", ""]
# Paths as a server hands them over: percent-decoded text, so any character but a lone surrogate.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
room_names = st.from_regex(r"\A[A-Za-z0-9_-]{1,50}\Z")
paths = st.one_of(
    st.sampled_from(["/ws/chat/lobby/", "/ws/notifications/", "/ws/race/", "/ws/wire/"]),
    room_names.map(lambda room: f"/ws/chat/{room}/"),
    st.builds(lambda route, tail: route + tail, st.sampled_from(ROUTES), any_text),
)
after_values = st.one_of(
    st.integers(min_value=-5, max_value=2**64).map(str),
    any_text,
    st.sampled_from(["²", "①", "٣", "1e3", " 1", "1\x00", "", "9" * 19, "9" * 30]),
)
query_strings = st.one_of(
    st.just(b""),
    st.integers(min_value=0, max_value=2**63 - 1).map(lambda after: f"after={after}".encode()),
    st.binary(max_size=60),
    after_values.map(lambda value: f"after={quote(value)}".encode()),
    after_values.map(lambda value: f"x=1&after=1&after={quote(value)}".encode()),
)
hostile_origins = st.one_of(
    st.sampled_from(
        [
            b"https://evil.example",
            b"http://[",
            b"http://localhost:99999",
            b"null",
            # Another port, scheme or spelling of the allowed origin: another origin, as for CSRF.
            b"http://localhost:9999",
            b"https://localhost",
            b"HTTP://localhost",
            b"http://localhost.",
        ]
    ).map(lambda origin: [(b"origin", origin)]),
    st.binary(max_size=30).map(lambda origin: [(b"origin", origin)]),
    st.just([]),
)
origins = st.one_of(st.just([ALLOWED_ORIGIN]), hostile_origins)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=8,
)
message_frames = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "typing", 5])},
    optional={"text": json_values | any_text, "client_id": json_values | any_text},
).map(json.dumps)
# What the frame reader (myproject/realtime/frames.py) refuses: nesting past any limit ("[" * 5000
# raised RecursionError in the race socket), a lone surrogate, more bytes than a frame may hold.
hostile_texts = st.one_of(
    st.integers(min_value=1, max_value=6_000).map(lambda depth: "[" * depth),
    st.integers(min_value=1, max_value=3_000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
    st.integers(min_value=1, max_value=50).map(
        lambda depth: '{"type": "race", "n": ' + "[" * depth + "]" * depth + "}"
    ),
    # A JSON escape of a lone surrogate, and the surrogate itself in the text.
    st.sampled_from([r"\ud800", r"\udfff"]).map(
        lambda escape: '{"type": "message", "text": "' + escape + '"}'
    ),
    st.sampled_from(["\ud800", "x\udfffy", '{"type": "race", "probe": "\ud800"}']),
    st.integers(min_value=32 * 1024 - 2, max_value=40 * 1024).map(lambda size: "x" * size),
)
frames = st.one_of(
    message_frames.map(lambda text: {"text": text}),
    json_values.map(lambda value: {"text": json.dumps(value)}),
    any_text.map(lambda text: {"text": text}),
    hostile_texts.map(lambda text: {"text": text}),
    st.binary(max_size=40).map(lambda data: {"bytes": data}),
)
# Every socket the project serves, each through the one frame reader.
SOCKETS = ["/ws/chat/lobby/", "/ws/notifications/", "/ws/race/", "/ws/wire/"]


class Tally:
    def __init__(self) -> None:
        self.handshakes = 0
        self.accepted = 0
        self.frames = 0
        self.paths: set[str] = set()


@pytest.fixture
def signed_in_cookie(settings) -> tuple[bytes, bytes]:
    settings.REDIS_URL = ""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Hundreds of wire echo handshakes from one address: past the wire page's capture budget (30 a
    # minute, tested in wire/test_budget.py) the echo is refused, which is not what this fuzzes.
    settings.WIRE_CAPTURES_PER_CLIENT = settings.WIRE_CAPTURES_TOTAL = 100_000
    user, _ = get_user_model().objects.get_or_create(username="fuzzer")
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def run_case(scope: dict, client_frames: list[dict], tally: Tally) -> None:
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "websocket.connect"})
    answer = await communicator.receive_output(OUTPUT_TIMEOUT)  # re-raises what the app raised
    tally.handshakes += 1
    tally.paths.add(scope["path"])
    assert answer["type"] in {"websocket.accept", "websocket.close"}, answer
    if answer["type"] == "websocket.accept":
        tally.accepted += 1
        for frame in client_frames:
            await communicator.send_input({"type": "websocket.receive", **frame})
            tally.frames += 1
    await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
    await communicator.wait(OUTPUT_TIMEOUT)  # the consumer ends, and raises here if it failed
    await sync_to_async(lambda: None)()


def errors(caplog) -> list[str]:
    return [
        f"{record.levelname} {record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR or record.exc_info
    ]


FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,  # no example database left in the working tree; the run is seeded instead
    derandomize=True,
    # No shrinking: a failing case costs OUTPUT_TIMEOUT, and shrinking would try hundreds. The case
    # is reported as generated, which is small enough to read.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def scope_for(path: str, query_string: bytes, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "websocket",
        "path": path,
        "raw_path": quote(path).encode(),
        "query_string": query_string,
        "headers": headers,
        "subprotocols": [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8002),
    }


def report(capsys, what: str, tally: Tally) -> None:
    with capsys.disabled():
        print(
            f"\nWebSocket fuzz, {what}: {tally.handshakes} handshakes tried, {tally.accepted} accepted, "
            f"{tally.frames} client frames sent; no exception, no error logged"
        )


def test_no_handshake_makes_the_application_fail_or_log_an_error(signed_in_cookie, caplog, capsys):
    tally = Tally()

    @settings(FUZZ_SETTINGS, max_examples=400)
    @given(path=paths, query_string=query_strings, origin=origins, signed_in=st.booleans())
    def case(path, query_string, origin, signed_in):
        caplog.clear()
        headers = [HOST, *origin, signed_in_cookie] if signed_in else [HOST, *origin]
        async_to_sync(run_case)(scope_for(path, query_string, headers), [], tally)
        assert errors(caplog) == []

    with caplog.at_level(logging.INFO):
        case()
    report(capsys, "handshakes", tally)
    assert tally.accepted > 0  # the strategies do reach the consumers


def test_no_client_frame_makes_a_consumer_fail_or_log_an_error(signed_in_cookie, caplog, capsys):
    tally = Tally()

    @settings(FUZZ_SETTINGS, max_examples=300)
    @given(
        path=st.sampled_from(SOCKETS),
        signed_in=st.booleans(),
        client_frames=st.lists(frames, min_size=1, max_size=8),
    )
    def case(path, signed_in, client_frames):
        caplog.clear()
        headers = [HOST, ALLOWED_ORIGIN, signed_in_cookie] if signed_in else [HOST, ALLOWED_ORIGIN]
        async_to_sync(run_case)(scope_for(path, b"", headers), client_frames, tally)
        assert errors(caplog) == []

    with caplog.at_level(logging.INFO):
        case()
    report(capsys, "client frames", tally)
    assert tally.accepted == tally.handshakes
    assert set(tally.paths) == set(SOCKETS)  # every socket was fuzzed
