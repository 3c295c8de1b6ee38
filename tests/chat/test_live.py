"""The chat on real servers: two Uvicorn processes on one Redis, Daphne, a Redis that goes away."""

import json
import signal
import time
import uuid

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from chat.models import MESSAGE_MAX_LENGTH
from myproject.realtime.close_codes import CLOSE_TRY_AGAIN_LATER
from testbed.environment import base_environment
from testbed.web import daphne_server, runserver, uvicorn_server
from tests.chat.live import (
    FRAME_TIMEOUT,
    PRESENCE_TTL_SECONDS,
    chat_environment,
    joined,
    next_frame,
    next_frame_of_type,
    open_chat,
    reconnect,
    send_message,
    session_cookie,
    wait_for_close,
)

pytestmark = pytest.mark.live

# Both servers' --ws-max-size (deploy/start-asgi.sh, deploy/start-daphne.sh).
WS_MAX_SIZE = 32768
CLOSE_MESSAGE_TOO_BIG = 1009
# How long a client may wait to learn that Redis went away: the presence heartbeat (1 s here) plus
# Redis timeouts and retries, with room for a busy machine.
DROP_DEADLINE_SECONDS = 15


def new_room() -> str:
    return f"live-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def daphne(live_database, shared_redis_url, server_logs):
    server = daphne_server(chat_environment(live_database, shared_redis_url), server_logs)
    server.env["DJANGO_WEBSOCKETS"] = "1"  # start-daphne.sh serves none unless told to
    server.start()
    yield server
    server.stop()


# Two processes ------------------------------------------------------------------------------------


def test_a_message_sent_through_one_process_reaches_a_client_of_the_other(two_uvicorns):
    first, second = two_uvicorns
    room = new_room()
    reader, _, _ = joined(second, room)
    alice, _, _ = joined(first, room, session_cookie(first, "alice"))

    send_message(alice, "across processes")

    sent = next_frame_of_type(alice, "message")
    assert next_frame_of_type(reader, "message") == sent
    assert (sent["text"], sent["user"], sent["room"]) == ("across processes", "alice", room)


def test_presence_is_the_same_seen_from_both_processes(two_uvicorns):
    first, second = two_uvicorns
    room = new_room()
    alice, _, _ = joined(first, room, session_cookie(first, "alice"))

    bob, _, bob_sees = joined(second, room, session_cookie(second, "bob"))
    alice_sees = next_frame_of_type(alice, "presence")["users"]

    assert bob_sees == alice_sees == ["alice", "bob"]
    bob.close()
    assert next_frame_of_type(alice, "presence")["users"] == ["alice"]


def test_a_login_made_on_the_wsgi_stack_is_recognised_by_the_chat(live_stacks):
    cookie = session_cookie(live_stacks.wsgi, "carol")

    socket, _, users = joined(live_stacks.asgi, new_room(), cookie)
    send_message(socket, "hello from a Gunicorn session")

    assert users == ["carol"]
    assert next_frame_of_type(socket, "message")["user"] == "carol"


def test_users_of_a_process_that_died_leave_the_presence_list(live_database, shared_redis_url, server_logs):
    env = chat_environment(live_database, shared_redis_url)
    doomed, survivor = uvicorn_server(env, server_logs), uvicorn_server(env, server_logs)
    doomed.start()
    survivor.start()
    try:
        room = new_room()
        _alice, _, _ = joined(doomed, room, session_cookie(doomed, "alice"))
        bob, _, users = joined(survivor, room, session_cookie(survivor, "bob"))
        assert users == ["alice", "bob"]

        doomed.stop(signal.SIGKILL)  # no goodbye: alice's entry is left behind in Redis

        deadline = float(PRESENCE_TTL_SECONDS) * 2 + 6
        assert next_frame_of_type(bob, "presence", timeout=deadline)["users"] == ["bob"]
    finally:
        doomed.stop()
        survivor.stop()


# The servers' own size limit, on Uvicorn and Daphne -------------------------------------------------


@pytest.fixture(params=["uvicorn", "daphne"])
def asgi_server(request, two_uvicorns):
    return two_uvicorns[0] if request.param == "uvicorn" else request.getfixturevalue("daphne")


def test_uvicorn_closes_a_socket_that_sends_a_frame_over_its_size_limit_with_1009(two_uvicorns):
    server = two_uvicorns[0]
    socket, _, _ = joined(server, new_room(), session_cookie(server, "alice"))

    socket.send(json.dumps({"type": "message", "text": "a" * (WS_MAX_SIZE + 1)}))

    assert wait_for_close(socket, FRAME_TIMEOUT).rcvd.code == CLOSE_MESSAGE_TOO_BIG


def test_daphne_drops_a_socket_that_sends_a_frame_over_its_size_limit(daphne):
    socket, _, _ = joined(daphne, new_room(), session_cookie(daphne, "alice"))

    socket.send(json.dumps({"type": "message", "text": "a" * (WS_MAX_SIZE + 1)}))

    # Autobahn, under Daphne, fails such a connection by dropping it: no close frame, so the
    # client sees 1006 (abnormal closure) where Uvicorn's client sees 1009.
    closed = wait_for_close(socket, FRAME_TIMEOUT)
    assert closed.rcvd is None
    assert joined(daphne, new_room())  # the server itself is fine


def test_the_largest_valid_message_fits_under_the_server_size_limit(asgi_server):
    socket, _, _ = joined(asgi_server, new_room(), session_cookie(asgi_server, "alice"))
    # Python's json escapes each emoji as a surrogate pair, 12 bytes: the worst case of a valid frame.
    longest_client_id = uuid.uuid4().hex * 2
    frame = json.dumps({"type": "message", "text": "😀" * MESSAGE_MAX_LENGTH, "client_id": longest_client_id})

    socket.send(frame)

    assert len(frame.encode()) > 24_000
    assert len(next_frame_of_type(socket, "message")["text"]) == MESSAGE_MAX_LENGTH


def test_a_frame_under_the_size_limit_with_too_much_text_is_answered_too_long(asgi_server):
    socket, _, _ = joined(asgi_server, new_room(), session_cookie(asgi_server, "alice"))

    socket.send(json.dumps({"type": "message", "text": "a" * (WS_MAX_SIZE // 2)}))

    assert next_frame(socket)["code"] == "too_long"
    send_message(socket, "still open")
    assert next_frame(socket)["text"] == "still open"


# Redis going away ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["RedisChannelLayer", "RedisPubSubChannelLayer"])
def test_when_redis_goes_away_clients_are_dropped_and_nothing_stored_is_lost(
    live_database, redis_server, server_logs, layer
):
    env = chat_environment(live_database, redis_server.url, REDIS_CHANNEL_LAYER=layer)
    server = uvicorn_server(env, server_logs)
    server.start()
    try:
        room, alice_cookie = new_room(), session_cookie(server, "alice")
        alice, _, _ = joined(server, room, alice_cookie)
        reader, _, _ = joined(server, room)
        before_id, during_id = f"before-{room}", f"during-{room}"  # client_ids are unique per author
        send_message(alice, "before", before_id)
        before = next_frame_of_type(alice, "message")
        assert next_frame_of_type(reader, "message") == before

        redis_server.stop()
        alice_saw = [before]  # alice may see her stored message before the server closes
        try:
            send_message(alice, "during", during_id)
            closed = wait_for_close(alice, timeout=DROP_DEADLINE_SECONDS, frames=alice_saw)
        except ConnectionClosed as already:  # the server closed it before alice could send
            closed = already
        assert closed.rcvd.code == CLOSE_TRY_AGAIN_LATER
        assert wait_for_close(reader, timeout=DROP_DEADLINE_SECONDS).rcvd.code == CLOSE_TRY_AGAIN_LATER
        started = time.monotonic()
        with pytest.raises((InvalidHandshake, OSError, TimeoutError)):
            open_chat(server, room)  # a newcomer is refused promptly, not left hanging
        assert time.monotonic() - started < 10

        redis_server.start()
        # Each client comes back after the highest id it saw, and alice resends what she never saw
        # confirmed, with the same client_id, as the page does.
        last_seen = max(frame["id"] for frame in alice_saw if frame["type"] == "message")
        alice, alice_missed, _ = reconnect(server, room, alice_cookie, after=last_seen, timeout=20)
        if not any(frame.get("client_id") == during_id for frame in alice_saw + alice_missed):
            send_message(alice, "during", during_id)
            next_frame_of_type(alice, "message")
        _, reader_missed, _ = reconnect(server, room, None, after=before["id"], timeout=20)
        _, everything, _ = joined(server, room)

        assert [frame["text"] for frame in everything] == ["before", "during"]
        assert reader_missed == everything[1:]
    finally:
        server.stop()


# runserver ----------------------------------------------------------------------------------------


def test_the_chat_works_under_runserver_with_the_in_memory_layer(live_database, server_logs):
    env = base_environment(DATABASE_URL=live_database.url)
    env.pop("REDIS_URL", None)
    server = runserver(env, server_logs)
    server.start()
    try:
        room = new_room()
        reader, _, _ = joined(server, room)
        alice, _, users = joined(server, room, session_cookie(server, "alice"))

        send_message(alice, "hello from runserver")

        assert users == ["alice"]
        assert next_frame_of_type(reader, "message")["text"] == "hello from runserver"
    finally:
        server.stop()
