"""loadtests/http_load.py: keep-alive clients reuse their connection; the like-for-like mode opens a
new one per request, as nginx's default upstream does."""

import asyncio

import pytest

from loadtests.http_load import load

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def serve_and_load(keep_alive: bool) -> tuple[int, int, bool]:
    """(connections the server accepted, responses the clients counted, whether every request
    asked the server to close)."""
    connections, asked_to_close = 0, []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                asked_to_close.append(b"connection: close" in head.lower())
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await load(f"http://127.0.0.1:{port}/", connections=2, duration=0.3, keep_alive=keep_alive)
    assert result.errors == 0
    return connections, result.completed + result.late, all(asked_to_close)


@pytest.mark.parametrize("keep_alive", [True, False])
def test_each_client_connects_once_with_keep_alive_and_once_per_request_without(keep_alive):
    connections, responses, asked_to_close = asyncio.run(serve_and_load(keep_alive))

    assert responses > 2
    if keep_alive:
        assert connections == 2
        assert not asked_to_close
    else:
        assert connections == responses
        assert asked_to_close
