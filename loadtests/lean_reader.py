"""A WebSocket client that only reads, for the fan-out benchmark's thousands of readers.

The benchmark measures the servers, on the same two cores as its readers: every microsecond a reader
spends on a frame is taken from the servers and added to the latency it reports. The `websockets`
client (the one the other benchmarks and the tests use) does a great deal per message that a reader
does not need: a frame parser written as a generator, a queue and a future per message, an `async
for` step. This one is an asyncio protocol: it sends the handshake, checks the answer, and then
takes each frame out of the bytes as they arrive, on the spot, calling `on_text` with the text's
bytes and the monotonic time they arrived. It answers pings (Uvicorn drops a client that does not
within 20 s) and close frames, as RFC 6455 asks of a client, and nothing else: it never sends data.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time
from collections.abc import Callable
from urllib.parse import urlsplit

# RFC 6455, section 1.3: the server proves it speaks WebSocket with this key appended to the client's.
ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x0, 0x8, 0x9, 0xA

OnText = Callable[[bytes, float], None]


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """One client frame. Clients must mask (RFC 6455, 5.3); a zero key leaves the payload as is."""
    head = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 2**16:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    return head + b"\0\0\0\0" + payload


def upgrade_request(netloc: str, path: str, key: str) -> bytes:
    """The handshake a page of the server at `netloc` (host:port) sends for the socket at `path`."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://{netloc}\r\n\r\n"
    ).encode()


class Refused(Exception):
    """The server answered the handshake with something else than 101 (the chat's 403: try again)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the handshake was answered with {status}")
        self.status = status


class LeanReader(asyncio.Protocol):
    def __init__(self, on_text: OnText, key: bytes) -> None:
        loop = asyncio.get_running_loop()
        self.on_text = on_text
        self.expected_accept = base64.b64encode(hashlib.sha1(key + ACCEPT_GUID).digest())
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        at = time.monotonic()
        self.buffer += data
        if not self.upgraded and not self.read_handshake():
            return
        self.read_frames(at)

    def read_handshake(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).split(b"\r\n")
        del self.buffer[: end + 4]
        status = int(head[0].split(b" ", 2)[1])
        headers = dict(line.lower().split(b":", 1) for line in head[1:] if b":" in line)
        if status != 101:
            self.opened.set_exception(Refused(status))
        elif headers.get(b"sec-websocket-accept", b"").strip() != self.expected_accept.lower():
            self.opened.set_exception(ConnectionError("the server's Sec-WebSocket-Accept is wrong"))
        else:
            self.upgraded = True
            self.opened.set_result(None)
            return True
        assert self.transport is not None
        self.transport.close()
        return False

    def read_frames(self, at: float) -> None:
        buffer, position = self.buffer, 0
        while len(buffer) - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length, header = second & 0x7F, 2
            if length == 126:
                header = 4
            elif length == 127:
                header = 10
            if len(buffer) - position < header:
                break
            if header > 2:
                length = int.from_bytes(buffer[position + 2 : position + header], "big")
            end = position + header + length  # a server's frames are never masked
            if len(buffer) < end:
                break
            self.frame(first & 0x80, first & 0x0F, bytes(buffer[position + header : end]), at)
            position = end
        del buffer[:position]

    def frame(self, final: int, opcode: int, payload: bytes, at: float) -> None:
        if opcode in (TEXT, CONTINUATION):
            self.fragments.append(payload)
            if final:
                text = b"".join(self.fragments) if len(self.fragments) > 1 else payload
                self.fragments = []
                self.on_text(text, at)
        elif opcode == PING:
            self.send(PONG, payload)
        elif opcode == CLOSE:
            self.send(CLOSE, payload[:2])
            assert self.transport is not None
            self.transport.close()

    def send(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.write(frame(opcode, payload))

    async def close(self) -> None:
        """Say goodbye (1000) and wait until the server has closed the connection (5 s at most)."""
        self.send(CLOSE, (1000).to_bytes(2, "big"))
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), 5)
        except TimeoutError:
            assert self.transport is not None
            self.transport.abort()


async def open_reader(url: str, path: str, on_text: OnText, open_timeout: float = 30) -> LeanReader:
    """Open the WebSocket at `path` of the server at `url` (http://host:port), as a page of that
    server would (its Origin); Refused if the server says no."""
    server = urlsplit(url)
    key = base64.b64encode(os.urandom(16))
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(open_timeout):
        transport, reader = await loop.create_connection(
            lambda: LeanReader(on_text, key), server.hostname or "127.0.0.1", server.port or 80
        )
        transport.write(upgrade_request(server.netloc, path, key.decode()))
        try:
            await reader.opened
        except BaseException:
            transport.abort()
            raise
    return reader
