"""The open-sockets gauge counts from accept to close, whoever closes, and never a refused handshake."""

import pytest

from metrics.websockets import CountOpenWebSockets
from tests.metrics.samples import sample

SCOPE = {"type": "websocket", "path": "/ws/x/"}


def open_sockets() -> float:
    return sample("asgi_websocket_connections")


class Events:
    """The server's side of one socket: what the client sends, and what the application sent."""

    def __init__(self, *incoming):
        self.incoming = [{"type": "websocket.connect"}, *incoming]
        self.sent = []
        self.counted_while_open = None

    async def receive(self):
        return self.incoming.pop(0)

    async def send(self, message):
        self.sent.append(message)


async def test_an_accepted_socket_counts_until_the_client_disconnects():
    events = Events({"type": "websocket.disconnect", "code": 1000})
    before = open_sockets()

    async def application(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        events.counted_while_open = open_sockets()
        await receive()
        assert open_sockets() == before  # the disconnect, not the end of the call, closed it

    await CountOpenWebSockets(application)(SCOPE, events.receive, events.send)

    assert events.counted_while_open == before + 1
    assert open_sockets() == before


async def test_a_socket_the_server_closes_stops_counting_at_its_close():
    events = Events()
    before = open_sockets()

    async def application(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1013})
        assert open_sockets() == before

    await CountOpenWebSockets(application)(SCOPE, events.receive, events.send)

    assert open_sockets() == before


async def test_a_refused_handshake_is_never_counted():
    events = Events()
    before = open_sockets()
    seen = []

    async def application(scope, receive, send):
        await receive()
        await send({"type": "websocket.close", "code": 1000})  # before accept: HTTP 403
        seen.append(open_sockets())

    await CountOpenWebSockets(application)(SCOPE, events.receive, events.send)

    assert seen == [before]
    assert open_sockets() == before


async def test_a_consumer_that_crashes_after_accept_stops_counting():
    events = Events()
    before = open_sockets()

    async def application(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        raise RuntimeError("the consumer failed")

    with pytest.raises(RuntimeError):
        await CountOpenWebSockets(application)(SCOPE, events.receive, events.send)

    assert open_sockets() == before
