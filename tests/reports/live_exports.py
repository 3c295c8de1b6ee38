"""Helpers for live tests that need exports big enough to outlast the sockets' buffers, and clients
that ask for one and then stop reading."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import requests

from testbed.database import LiveDatabase, manage
from testbed.environment import base_environment

# About 110 bytes per line: ~6.6 MB, more than a loopback socket's send and receive buffers can
# hold (4 MB and a few KB here), so a client that stops reading leaves the server mid-export.
EXPORT_LINES = 60_000


def create_export_database(tmp_dir: Path) -> LiveDatabase:
    database = LiveDatabase(tmp_dir)
    database.create()
    manage(base_environment(DATABASE_URL=database.url), "seed_demo", "--size", str(EXPORT_LINES))
    return database


class StalledReader:
    """Asks for `path` on a raw socket with a tiny receive buffer, reads the response head, and
    then reads nothing more: the server is left blocked on sending (a sync worker in `sendall`,
    Uvicorn's transport paused) until `close()` resets the connection."""

    def __init__(self, base_url: str, path: str, session: requests.Session):
        parts = urlsplit(base_url)
        cookies = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        self.sock.settimeout(30)
        self.sock.connect((parts.hostname, parts.port))
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nCookie: {cookies}\r\n"
            "Connection: close\r\n\r\n".encode()
        )

    def read_head(self) -> str:
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = self.sock.recv(1024)
            if not chunk:
                break
            received += chunk
        return received.partition(b"\r\n\r\n")[0].decode("latin-1")

    def close(self) -> None:
        self.sock.close()  # unread data in the receive queue: the kernel answers with a reset
