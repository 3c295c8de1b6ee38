"""/ws/race/: the race page's driver. The page sends one race frame; the consumer runs it
(demo/racing.py) and streams a frame per lane as each request ends.

A socket runs one race at a time, a process at most MAX_RACES_PER_PROCESS; every frame is checked
(demo/race.py), and a bad one gets an error frame while the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from demo import protocol
from demo.race import BadRace, Race, race_from
from demo.racing import raced_stacks, races_running, run_race
from myproject.realtime import RealtimeConsumer

logger = logging.getLogger(__name__)


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

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = json.loads(text_data) if text_data is not None else None
        except ValueError:
            return await self.send_frame(protocol.error_frame("invalid_json", "A frame must be JSON text."))
        if not isinstance(frame, dict) or frame.get("type") != "race":
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
        semaphore = races_running.get()
        if semaphore.locked():
            return await self.send_frame(
                protocol.error_frame("server_busy", "This server is running other races; try again soon.")
            )
        await semaphore.acquire()
        self.race = asyncio.create_task(self.run(race, semaphore))

    async def run(self, race: Race, semaphore: asyncio.Semaphore) -> None:
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

    async def release(self) -> None:
        if self.race is not None:
            self.race.cancel()
