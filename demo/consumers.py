"""The demo's two sockets (ASGI stack only).

/ws/wire/: the echo socket whose events the /demo/wire/ page shows. A plain ASGI application rather
than a Channels consumer: the page shows ASGI events, and here each one is a line of code (a
consumer's accept() is this `websocket.accept`, its send() this `websocket.send`). It needs no
channel layer, so it makes no channel in Redis either. Bounded on purpose: it echoes at most
MAX_FRAMES frames, cut to MAX_ECHO_CHARS, then closes by itself, and gives up on a silent client
after IDLE_SECONDS.

/ws/race/: the race page's driver. The page sends one race frame; the consumer runs it
(demo/race_driver.py) and streams a frame per lane as each request ends. A socket runs one race at a
time, a client address one at a time, a process at most MAX_RACES_PER_PROCESS; every frame is
checked (demo/race_rules.py), and a bad one gets an error frame while the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, WebSocketScope

from demo import protocol
from demo.race_driver import RunningRaces, clients_racing, raced_stacks, races_running, run_race
from demo.race_rules import BadRace, Race, race_from
from metrics.instruments import DEMO_RACE_SLOTS_IN_USE
from myproject.realtime.close_codes import close_event
from myproject.realtime.consumer import RealtimeConsumer
from myproject.realtime.frames import FrameRefused, read_text
from myproject.wire.recorders import SCOPE_TOKEN_KEY

MAX_FRAMES = 3
MAX_ECHO_CHARS = 200
IDLE_SECONDS = 10
CLOSE_NORMAL = 1000


async def wire_echo(scope: WebSocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
    # The first frame tells the page where to fetch this socket's trace (None: nothing records it).
    token = scope.get(SCOPE_TOKEN_KEY)
    await send(
        {"type": "websocket.send", "text": json.dumps({"type": "trace", "token": token}), "bytes": None}
    )
    try:
        async with asyncio.timeout(IDLE_SECONDS):
            for _ in range(MAX_FRAMES):
                event = await receive()
                if event["type"] == "websocket.disconnect":
                    return
                try:
                    text = read_text(event)  # the project's one frame reader, as on every socket
                except FrameRefused as refused:
                    if refused.close_code is not None:
                        await send(close_event(refused.close_code))
                        return
                    text = ""  # a binary frame: this socket echoes text only
                await send({"type": "websocket.send", "text": text[:MAX_ECHO_CHARS], "bytes": None})
            await send({"type": "websocket.close", "code": CLOSE_NORMAL, "reason": ""})
            # The server answers our close with websocket.disconnect once the client has closed too.
            while (await receive())["type"] != "websocket.disconnect":
                pass
    except TimeoutError:
        with contextlib.suppress(OSError, RuntimeError):  # the client may be gone already
            await send({"type": "websocket.close", "code": CLOSE_NORMAL, "reason": "idle"})


# The race -------------------------------------------------------------------------------------------

logger = logging.getLogger(__name__)
# /metrics' count of the races this process runs; a bound of its own takes a label of its own.
RACES_RUNNING = DEMO_RACE_SLOTS_IN_USE.labels(bound="races")


class RaceConsumer(RealtimeConsumer):
    label = "race"
    # No channel layer: a race talks to the stacks over HTTP, not to other consumers, so the page
    # works without Redis (runserver) and makes no channel per socket.
    channel_layer_alias = "none"
    race: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        server = self.scope.get("server")
        self.stacks = raced_stacks(tuple(server) if server else None)  # type: ignore[arg-type]
        await self.accept()
        await self.send_frame(protocol.ready_frame(self.stacks))

    async def receive_frame(self, frame: dict[str, Any]) -> None:
        # A JSON object, from the project's one frame reader (myproject/realtime/frames.py).
        if frame.get("type") != "race":
            return await self.send_frame(
                protocol.error_frame("invalid_frame", 'Send {"type": "race", ...}: see docs/race.md.')
            )
        if self.race is not None and not self.race.done():
            return await self.send_frame(
                protocol.error_frame("busy", "A race is running on this socket; wait for race.finished.")
            )
        try:
            race = race_from(frame)
        except BadRace as error:
            return await self.send_frame(protocol.error_frame("invalid_race", error.detail))
        client = self.client_address()
        if client in clients_racing.get():
            return await self.send_frame(
                protocol.error_frame("client_busy", "A race from your address is running; one at a time.")
            )
        semaphore = races_running.get()
        if semaphore.locked():
            return await self.send_frame(
                protocol.error_frame("server_busy", "This server is running other races; try again soon.")
            )
        await semaphore.acquire()
        RACES_RUNNING.inc()
        RunningRaces.count += 1
        clients_racing.get().add(client)
        self.race = asyncio.create_task(self.run(race, semaphore, client))

    def client_address(self) -> str:
        client = self.scope.get("client")
        return str(client[0]) if client else "unknown"

    async def run(self, race: Race, semaphore: asyncio.Semaphore, client: str) -> None:
        try:
            await run_race(race, self.stacks, self.send_frame)
        except (OSError, RuntimeError):
            pass  # the client left mid-race: its frames have nowhere to go
        except Exception:
            logger.exception("race: the driver failed")
            with contextlib.suppress(OSError, RuntimeError):
                await self.send_frame(protocol.error_frame("driver_failed", "The race failed; see the log."))
        finally:
            semaphore.release()
            RACES_RUNNING.dec()
            RunningRaces.count -= 1
            clients_racing.get().discard(client)

    async def release(self) -> None:
        if self.race is not None:
            self.race.cancel()
