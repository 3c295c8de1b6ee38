"""The flood guard against a real Uvicorn while the database stalls: frames are counted when they
arrive, so a client at the documented rate (docs/protocol.md: 5 frames a second, bursts of 10) is
never refused however long its earlier frames wait on the database, and a flood is still closed.

The stall is another writer holding the database's write lock, as a long transaction or a
migration would: the chat's first message waits on it, the client's next ones queue behind it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from chat.protocol import RATE_LIMITED
from myproject.realtime.close_codes import CLOSE_POLICY_VIOLATION
from testbed.database import LiveDatabase, psycopg_url
from testbed.web import WebServer, uvicorn_server
from tests.chat.live import (
    chat_environment,
    joined,
    next_frame,
    open_chat,
    send_message,
    session_cookie,
    wait_for_close,
)

pytestmark = pytest.mark.live

DOCUMENTED_RATE = 5  # frames a second (CHAT_RATE_LIMIT_PER_SECOND's default)
STALL_SECONDS = 6.0  # well under SQLite's busy timeout (20 s, settings.py), so no message fails
# The flood's stall is longer: the close must come while the database still stalls, and a busy
# machine can take seconds to read 200 frames, answer 20 of them and close.
FLOOD_STALL_SECONDS = 12.0


@pytest.fixture(scope="module")
def uvicorn(live_database, shared_redis_url, server_logs) -> Iterator[WebServer]:
    server = uvicorn_server(chat_environment(live_database, shared_redis_url), server_logs)
    server.start()
    yield server
    server.stop()


@contextlib.contextmanager
def write_lock_held(database: LiveDatabase) -> Iterator[None]:
    """Another writer holds the lock the chat's insert needs, until the block ends."""
    if database.vendor == "sqlite":
        connection = sqlite3.connect(database.url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")  # SQLite's one write lock, as the chat's writes take it
    else:
        import psycopg

        connection = psycopg.connect(psycopg_url(database.url))
        connection.execute("LOCK TABLE chat_message IN SHARE MODE")  # blocks INSERT until COMMIT
    try:
        yield
    finally:
        connection.rollback()
        connection.close()


def test_a_client_at_the_documented_rate_is_never_refused_while_the_database_stalls(uvicorn, live_database):
    socket, _, _ = joined(uvicorn, f"room-{uuid.uuid4().hex[:12]}", session_cookie(uvicorn, "alice"))
    sent = int(STALL_SECONDS * DOCUMENTED_RATE) + 5
    with write_lock_held(live_database):
        started = time.monotonic()
        for number in range(sent):
            # On a schedule, not after a sleep per send: the rate holds however long a send takes.
            time.sleep(max(0.0, started + number / DOCUMENTED_RATE - time.monotonic()))
            send_message(socket, f"message {number}", client_id=f"c-{number}")
            if number == int(STALL_SECONDS * DOCUMENTED_RATE):
                break  # the rest are sent once the lock is gone
    for number in range(int(STALL_SECONDS * DOCUMENTED_RATE) + 1, sent):
        time.sleep(max(0.0, started + number / DOCUMENTED_RATE - time.monotonic()))
        send_message(socket, f"message {number}", client_id=f"c-{number}")

    answers = [next_frame(socket, timeout=STALL_SECONDS + 10) for _ in range(sent)]
    socket.close()

    assert [frame for frame in answers if frame["type"] == "error"] == []
    assert sorted(frame["client_id"] for frame in answers) == sorted(f"c-{number}" for number in range(sent))


def test_a_flood_while_the_database_stalls_is_refused_and_closed_at_once(uvicorn, live_database):
    # A short close_timeout: the test times the server's close frame, not the TCP teardown after it.
    socket = open_chat(
        uvicorn, f"room-{uuid.uuid4().hex[:12]}", session_cookie(uvicorn, "alice"), close_timeout=1
    )
    assert [next_frame(socket)["type"] for _ in range(2)] == ["history", "presence"]
    frames: list[dict] = []
    with write_lock_held(live_database):
        started = time.monotonic()
        with contextlib.suppress(ConnectionClosed):
            for number in range(200):
                send_message(socket, f"flood {number}", client_id=f"f-{number}")
        closed = wait_for_close(socket, timeout=FLOOD_STALL_SECONDS - 1, frames=frames)
        closed_after = time.monotonic() - started

    assert closed.rcvd is not None
    assert closed.rcvd.code == CLOSE_POLICY_VIOLATION
    assert closed_after < FLOOD_STALL_SECONDS  # while the database still stalled
    assert any(frame.get("code") == RATE_LIMITED for frame in frames)
