"""Clients that behave like the pages under faults: the chat's and the notifications' sockets come
back with `?after=` when dropped (static/js/resumable-socket.js), a chat sender resends what was not
acknowledged under the same client_id, and a staff member publishes reports. `make chaos` and the
failover test count with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field

import requests
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from demo.seeding import DEMO_STAFF
from loadtests.clients import join
from testbed.login import csrf_token, logged_in_session

# How long a dropped client waits before it tries again, at most: the page draws a random delay
# too, so that a thousand clients dropped at once do not all come back in the same millisecond.
RECONNECT_DELAY_SECONDS = 1.0
# Resends at once: well inside the chat's burst of 10 frames, so they are not rate_limited.
RESEND_BATCH = 6


def staff_session(url: str) -> requests.Session:
    return logged_in_session(url, DEMO_STAFF)


def publish_report(session: requests.Session, url: str, slug: str = "revenue-by-month") -> bool:
    """Publish a report as the page's button does; True once the server has answered that it is
    stored (303), whether or not its live broadcast went out."""
    page = session.get(f"{url}/reports/{slug}/", timeout=10)
    response = session.post(
        f"{url}/reports/{slug}/publish/",
        data={"csrfmiddlewaretoken": csrf_token(page.text)},
        headers={"Referer": f"{url}/reports/{slug}/"},
        allow_redirects=False,
        timeout=10,
    )
    return response.status_code == 303


@dataclass(eq=False)
class ResumingClient:
    """A chat client that reconnects after a drop with `?after=<highest id seen>`, as the page does,
    to the next server in `urls` when its own is gone (what a load balancer does).

    With a `cookie` it may also send: every send keeps its client_id until the server echoes the
    stored message back (the acknowledgement), and is resent under the same client_id after a
    reconnect, so a retry never stores a message twice.
    """

    urls: list[str]
    room: str
    cookie: str | None = None
    index: int = 0
    last_id: int | None = None
    # client_id -> the stored message's id, for every message this client has received.
    received: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)  # client_id -> text, not yet acknowledged
    acknowledged: dict[str, int] = field(default_factory=dict)
    connects: int = 0
    socket: ClientConnection | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, frame: dict) -> None:
        if frame.get("type") != "message":
            return
        self.last_id = max(self.last_id or 0, frame["id"])
        client_id = frame.get("client_id")
        if client_id is None:
            return
        if client_id not in self.received and client_id in self.sent_at:
            self.latencies.append(time.perf_counter() - self.sent_at[client_id])
        self.received[client_id] = frame["id"]
        if client_id in self.pending:
            del self.pending[client_id]
            self.acknowledged[client_id] = frame["id"]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            url = self.urls[self.index % len(self.urls)]
            try:
                self.socket, history = await join(url, self.room, self.cookie, self.last_id, open_timeout=10)
            except Exception:  # refused, reset, or the server is gone: try the next one later
                self.index += 1
                await asyncio.sleep(RECONNECT_DELAY_SECONDS * (0.5 + 0.5 * os.urandom(1)[0] / 255))
                continue
            self.connects += 1
            for frame in history:
                self.record(frame)
            self.connected.set()
            await self.resend_pending()
            with contextlib.suppress(Exception):
                async for raw in self.socket:
                    self.record(json.loads(raw))
            self.connected.clear()
            self.socket = None
            await asyncio.sleep(RECONNECT_DELAY_SECONDS * os.urandom(1)[0] / 255)

    async def send(self, text: str) -> None:
        client_id = f"chaos-{uuid.uuid4().hex}"
        self.pending[client_id] = text
        self.sent_at[client_id] = time.perf_counter()
        await self.try_send(client_id)

    async def resend_pending(self, at_most: int = RESEND_BATCH) -> None:
        """Resend the oldest unacknowledged sends; called on each reconnect and now and then, since
        a resend the flood guard answered with rate_limited stays pending."""
        for client_id in list(self.pending)[:at_most]:
            await self.try_send(client_id)

    async def try_send(self, client_id: str) -> None:
        if self.socket is None or client_id not in self.pending:
            return
        frame = {"type": "message", "text": self.pending[client_id], "client_id": client_id}
        with contextlib.suppress(Exception):  # dropped: resent after the reconnect
            await self.socket.send(json.dumps(frame))

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close()


async def stored_client_ids(url: str, room: str) -> dict[str, int]:
    """Every message stored in `room`, read back from the database by a fresh client: client_id
    -> id. The history gives the first 500 after `?after=0`; the rest follow as message frames."""
    reader = ResumingClient([url], room)
    socket_, history = await join(url, room, after=0)
    for frame in history:
        reader.record(frame)
    with contextlib.suppress(TimeoutError):
        while True:
            reader.record(json.loads(await asyncio.wait_for(socket_.recv(), 2)))
    await socket_.close()
    return reader.received


@dataclass(eq=False)
class ResumingNotifications:
    """A /ws/notifications/ client that reconnects with `?after=<highest publication id seen>`."""

    urls: list[str]
    index: int = 0
    last_id: int = 0
    received: set[int] = field(default_factory=set)
    connects: int = 0
    socket: ClientConnection | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            url = self.urls[self.index % len(self.urls)]
            try:
                self.socket = await connect(
                    f"ws://{url.removeprefix('http://')}/ws/notifications/?after={self.last_id}",
                    origin=Origin(url),
                    open_timeout=10,
                    proxy=None,
                )
            except Exception:
                self.index += 1
                await asyncio.sleep(RECONNECT_DELAY_SECONDS * (0.5 + 0.5 * os.urandom(1)[0] / 255))
                continue
            self.connects += 1
            self.connected.set()
            with contextlib.suppress(Exception):
                async for raw in self.socket:
                    frame = json.loads(raw)
                    if frame.get("type") == "report.published":
                        self.received.add(frame["id"])
                        self.last_id = max(self.last_id, frame["id"])
            self.connected.clear()
            self.socket = None
            await asyncio.sleep(RECONNECT_DELAY_SECONDS * os.urandom(1)[0] / 255)

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close()


async def stored_publication_ids(url: str, after: int = 0) -> set[int]:
    """The publications stored after `after`, read back from the database by a fresh client."""
    ids: set[int] = set()
    async with connect(
        f"ws://{url.removeprefix('http://')}/ws/notifications/?after={after}", origin=Origin(url), proxy=None
    ) as socket_:
        with contextlib.suppress(TimeoutError):
            while True:
                ids.add(json.loads(await asyncio.wait_for(socket_.recv(), 2))["id"])
    return ids
