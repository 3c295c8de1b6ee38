"""The race's server-side driver: fires a race's N requests per lane group at once, with an async
HTTP client, and reports each lane as it ends.

Why on the server: a browser opens about six HTTP/1.1 connections per host, so 50 requests fired
from a page reach a server six at a time, and every server looks like it has six slots. The
driver runs on the ASGI stack's event loop, where 50 (or 500) requests in flight are 50 coroutines
waiting on 50 sockets: nothing caps them but the server being raced.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from demo import protocol
from demo.probe_slots import TAKES_A_SLOT
from demo.probes import PROBE_SLOTS_FULL
from demo.race_rules import (
    BLOCKING_GROUP,
    LANE_GROUPS,
    MAX_RACE_SECONDS,
    MAX_RACES_PER_PROCESS,
    Race,
    predicted_ms,
)
from myproject.realtime.per_event_loop import PerEventLoop

Send = Callable[[dict[str, Any]], Awaitable[None]]
# How soon a lane refused for want of a probe slot asks again: short next to a probe's usual wait,
# long enough that the lanes asking do not flood the stack they wait for.
SLOT_RETRY_SECONDS = 0.05

# Races running in this process (one event loop per process; PerEventLoop gives each test its own).
races_running: PerEventLoop[asyncio.Semaphore] = PerEventLoop(
    lambda: asyncio.Semaphore(MAX_RACES_PER_PROCESS)
)
# The client addresses with a race running in this process: one race per client at a time, so one
# client cannot take every race this process runs.
clients_racing: PerEventLoop[set[str]] = PerEventLoop(set)


class RunningRaces:
    """How many races this process runs now (at most MAX_RACES_PER_PROCESS): changed on the event
    loop by the race consumer, readable from any thread, for the metrics."""

    count = 0


def races_in_use() -> int:
    return RunningRaces.count


def now_ms() -> float:
    # Wall-clock time, not perf_counter: the servers' began/ended stamps are wall-clock too.
    return time.time() * 1000


def raced_stacks(socket_server: tuple[str, int] | None) -> dict[str, str]:
    """The base URL of each stack to race: from the settings, never from the client. Without
    RACE_ASGI_URL, the ASGI stack is the server this socket arrived on (runserver's Daphne)."""
    stacks = {"wsgi": settings.RACE_WSGI_URL, "asgi": settings.RACE_ASGI_URL}
    if not stacks["asgi"] and socket_server:
        host, port = socket_server
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # listening on every address
        stacks["asgi"] = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    return {stack: url for stack, url in stacks.items() if url}


def host_header(base_url: str) -> str:
    """The Host the driver's requests carry: one the stacks accept (ALLOWED_HOSTS). A service name
    such as docker-compose.yml's `wsgi` is an address, not one of the site's names."""
    for host in settings.ALLOWED_HOSTS:
        if host != "*":
            return host.lstrip(".")
    return urlsplit(base_url).netloc


def refused_slots(response: httpx.Response) -> int | None:
    """The stack's probe slots, if the probe was refused because they are all held; else None."""
    if response.status_code != 503:
        return None
    try:
        answer = response.json()
    except ValueError:
        return None
    if not isinstance(answer, dict) or answer.get("code") != PROBE_SLOTS_FULL:
        return None
    slots = answer.get("slots")
    return slots if isinstance(slots, int) and slots > 0 else 1


class SlotQueue:
    """The lanes whose probe takes one of a stack's probe slots (demo/probe_slots.py) queue here, per
    stack: as many go out at once as the stack has slots, as they would have waited in a server's
    backlog, instead of all at once to be refused. A lane that still finds every slot held (by other
    clients' probes) asks again shortly."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Semaphore | None] = {}
        self.lock = asyncio.Lock()

    async def gate(
        self, client: httpx.AsyncClient, stack: str, base_url: str, headers: dict[str, str]
    ) -> asyncio.Semaphore | None:
        """The stack's gate, from its slots as its hello probe reports them (asked once a race)."""
        async with self.lock:
            if stack not in self.gates:
                try:
                    response = await client.get(f"{base_url}/demo/sync/hello/", headers=headers)
                    slots = response.json().get("probe_slots")
                except (httpx.HTTPError, ValueError, AttributeError):
                    slots = None
                self.gates[stack] = asyncio.Semaphore(slots) if isinstance(slots, int) and slots > 0 else None
            return self.gates[stack]

    @staticmethod
    async def get(
        client: httpx.AsyncClient, gate: asyncio.Semaphore | None, url: str, headers: dict[str, str]
    ) -> httpx.Response:
        if gate is None:
            return await client.get(url, headers=headers)
        async with gate:
            response = await client.get(url, headers=headers)
            while refused_slots(response) is not None:
                await asyncio.sleep(SLOT_RETRY_SECONDS)
                response = await client.get(url, headers=headers)
            return response


def probe_answer(response: httpx.Response) -> dict[str, Any]:
    """The probe's JSON, checked for the fields a lane needs; ValueError otherwise."""
    if response.status_code != 200:
        raise ValueError(f"HTTP {response.status_code}")
    answer = response.json()
    if not isinstance(answer, dict) or not all(
        isinstance(answer.get(name), (int, float)) for name in ("began_ms", "ended_ms", "pid")
    ):
        raise ValueError("not a probe's answer")
    return answer


def group_limit(race: Race, group: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """What caps this group's concurrency, and where that number comes from."""
    pools = [answer["worker_pool"] for answer in answers if isinstance(answer.get("worker_pool"), dict)]
    bounds = [
        answer["probe_slots"]
        for answer in answers
        if answer.get("takes_a_slot") and isinstance(answer.get("probe_slots"), int)
    ]
    if pools and bounds and bounds[0] < pools[0]["slots"]:
        pool = pools[0]
        return {
            "slots": bounds[0],
            "source": "server",
            "why": f"the demo lets its probes hold {bounds[0]} of {pool['server']}'s {pool['slots']} "
            "workers at once, so the rest always serve the site (demo/probe_slots.py)",
        }
    if pools:
        pool = pools[0]
        return {
            "slots": pool["slots"],
            "source": "server",
            "why": f"{pool['server']}: {pool['processes']} "
            f"worker processes x {pool['threads']} thread(s), one request each",
        }
    if group == BLOCKING_GROUP:
        processes = len({answer["pid"] for answer in answers}) or None
        if bounds and processes and bounds[0] < processes:
            return {
                "slots": bounds[0],
                "source": "server",
                "why": f"the demo lets {bounds[0]} event loop(s) block at once, so the others always "
                "serve the site (demo/probe_slots.py)",
            }
        return {
            "slots": processes,
            "source": "observed",
            "why": "each blocked event loop serves one request at a time: one per Uvicorn process seen",
        }
    if LANE_GROUPS[group].view_prefix == "sync":
        return {
            "slots": None,
            "source": "design",
            "why": "the event loop hands each def view a thread of its own",
        }
    return {"slots": None, "source": "design", "why": "the event loop holds every request while it waits"}


async def run_group(
    client: httpx.AsyncClient,
    race: Race,
    group: str,
    base_url: str,
    origin_ms: float,
    send: Send,
    queue: SlotQueue,
) -> None:
    url = base_url + race.path(group)
    headers = {"Host": host_header(base_url)}
    answers: list[dict[str, Any]] = []
    stack = LANE_GROUPS[group].stack
    probe = "blocking" if group == BLOCKING_GROUP else race.probe
    gate = await queue.gate(client, stack, base_url, headers) if probe in TAKES_A_SLOT[stack] else None

    async def one_lane(index: int) -> None:
        timings = {"sent": now_ms()}
        try:
            # Within the stack's demo bound (demo/probe_slots.py) the lane may wait its turn here,
            # within the race's time limit.
            response = await queue.get(client, gate, url, headers)
            timings["received"] = now_ms()
            answer = probe_answer(response)
        except (httpx.HTTPError, ValueError) as error:
            timings.setdefault("received", now_ms())
            await send(
                protocol.lane_failed_frame(
                    group, index, origin_ms, timings, str(error) or type(error).__name__
                )
            )
            return
        answers.append(answer)
        await send(protocol.lane_frame(group, index, origin_ms, timings, answer))

    started = now_ms()
    await asyncio.gather(*(one_lane(index) for index in range(race.n)))
    wall_ms = now_ms() - started
    limit = group_limit(race, group, answers)
    wait_ms = race.wait_ms(group)
    await send(
        protocol.group_finished_frame(
            group,
            wall_ms=wall_ms,
            ok=len(answers),
            failed=race.n - len(answers),
            limit={**limit, "wait_ms": wait_ms},
            predicted_ms=None if wait_ms is None else predicted_ms(race.n, wait_ms, limit["slots"]),
        )
    )


async def run_race(race: Race, stacks: Mapping[str, str], send: Send) -> None:
    """Run `race` against `stacks` ({"wsgi": url, "asgi": url}, from `raced_stacks`), sending every
    frame through `send`; ends within MAX_RACE_SECONDS, whatever the servers do."""
    await send(protocol.race_started_frame(race, dict(stacks)))
    origin_ms = now_ms()
    # No keep-alive: Gunicorn's sync workers close every connection anyway, so each lane opens its
    # own on both stacks alike. trust_env=False: no proxy from the environment between driver and
    # stacks.
    limits = httpx.Limits(max_connections=race.n * len(race.groups), max_keepalive_connections=0)
    timed_out = False
    async with httpx.AsyncClient(limits=limits, timeout=MAX_RACE_SECONDS, trust_env=False) as client:
        runs = []
        queue = SlotQueue()
        for group in race.groups:
            stack = LANE_GROUPS[group].stack
            if stack not in stacks:
                await send(protocol.group_skipped_frame(group, f"no {stack.upper()} stack to race here"))
                continue
            runs.append(run_group(client, race, group, stacks[stack], origin_ms, send, queue))
        try:
            async with asyncio.timeout(MAX_RACE_SECONDS):
                if race.order == "together":
                    await asyncio.gather(*runs)
                else:
                    for run in runs:
                        await run
        except TimeoutError:
            timed_out = True
        finally:
            for run in runs:
                # A group never started (one-by-one, cut short) is dropped without a warning.
                if inspect.getcoroutinestate(run) == inspect.CORO_CREATED:
                    run.close()
    await send(protocol.race_finished_frame(now_ms() - origin_ms, timed_out))
