"""The fan-out benchmark's lean WebSocket reader (loadtests/lean_reader.py), against a real server:
the `websockets` library's, on loopback."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Response

from loadtests.lean_reader import Refused, open_reader

# Sizes that take each of the three length encodings: 7 bits, 16 bits, 64 bits.
SIZES = [5, 300, 70_000]


async def server(handler, process_request=None):
    return await serve(handler, "127.0.0.1", 0, process_request=process_request, compression=None)


def url_of(ws_server) -> str:
    host, port = ws_server.sockets[0].getsockname()[:2]
    return f"http://{host}:{port}"


async def test_reads_every_text_frame_whole_and_in_order_with_its_arrival_time():
    sent = [json.dumps({"n": number, "pad": "x" * size}) for number, size in enumerate(SIZES)]
    sent.append(["frag", "mented"])  # a message in two frames

    async def handler(connection: ServerConnection) -> None:
        for message in sent:
            await connection.send(message)
        await connection.wait_closed()

    received: list[tuple[bytes, float]] = []
    all_in = asyncio.Event()

    def arrived(text: bytes, at: float) -> None:
        received.append((text, at))
        if len(received) == len(sent):
            all_in.set()

    async with await server(handler) as ws_server:
        reader = await open_reader(url_of(ws_server), "/", arrived)
        await asyncio.wait_for(all_in.wait(), 5)
        await reader.close()

    assert [text.decode() for text, _ in received] == [*sent[:-1], "fragmented"]
    times = [at for _, at in received]
    assert times == sorted(times)


async def test_answers_pings_as_uvicorn_needs_to_keep_it_open():
    pongs = []

    async def handler(connection: ServerConnection) -> None:
        pong = await connection.ping(b"are you there")
        pongs.append(await asyncio.wait_for(pong, 5))
        await connection.send("after the ping")
        await connection.wait_closed()

    received: list[bytes] = []
    arrived = asyncio.Event()

    def note(text: bytes, at: float) -> None:
        received.append(text)
        arrived.set()

    async with await server(handler) as ws_server:
        reader = await open_reader(url_of(ws_server), "/", note)
        await asyncio.wait_for(arrived.wait(), 5)
        await reader.close()

    assert len(pongs) == 1
    assert received == [b"after the ping"]


async def test_a_close_from_the_server_is_answered_and_the_connection_ends():
    async def handler(connection: ServerConnection) -> None:
        await connection.close(1013, "try again later")

    async with await server(handler) as ws_server:
        reader = await open_reader(url_of(ws_server), "/", lambda text, at: None)
        await asyncio.wait_for(reader.closed, 5)


async def test_a_refused_handshake_raises_refused_with_the_status():
    def forbid(connection, request) -> Response:
        return connection.respond(403, "no\n")

    async with await server(lambda connection: connection.wait_closed(), forbid) as ws_server:
        with pytest.raises(Refused) as refused:
            await open_reader(url_of(ws_server), "/", lambda text, at: None)

    assert refused.value.status == 403


async def test_the_origin_sent_is_the_servers_own_as_a_page_of_it_would_send():
    origins = []

    def note(connection, request) -> None:
        origins.append(request.headers["Origin"])

    async with await server(lambda connection: connection.wait_closed(), note) as ws_server:
        url = url_of(ws_server)
        reader = await open_reader(url, "/ws/floor/", lambda text, at: None)
        await reader.close()

    assert origins == [url]
