"""What a race is: N copies of one probe, fired at once at a few lane groups, and the checks that
keep it bounded. The race page (/demo/race/) sends one as a JSON frame; demo/race_driver.py runs it.

A lane group is one of the four quadrants (a `def` or an `async def` view, on the WSGI or the ASGI
stack) or the fifth, the `async def` view that blocks its event loop on purpose. Everything a
client may choose is checked here, with the probes' own parameter rules (demo/probes.py); the
addresses raced come from the settings, never from the client.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from demo.probes import (
    BadProbeParameter,
    cpu_ms_from,
    fanout_from,
    wait_from,
    whole_number,
)

Stack = Literal["wsgi", "asgi"]
Order = Literal["together", "one-by-one"]


@dataclass(frozen=True)
class LaneGroup:
    name: str
    stack: Stack
    view_prefix: str  # "sync" or "async": /demo/<prefix>/<probe>/
    label: str


LANE_GROUPS = {
    group.name: group
    for group in (
        LaneGroup("def-wsgi", "wsgi", "sync", "def view on WSGI (Gunicorn)"),
        LaneGroup("async-wsgi", "wsgi", "async", "async def view on WSGI (Gunicorn)"),
        LaneGroup("def-asgi", "asgi", "sync", "def view on ASGI (Uvicorn)"),
        LaneGroup("async-asgi", "asgi", "async", "async def view on ASGI (Uvicorn)"),
        LaneGroup("blocking-asgi", "asgi", "async", "async def view that blocks, on ASGI"),
    )
}
# The blocking view is the sleep probe done wrong, so it races only against sleep.
BLOCKING_GROUP = "blocking-asgi"
PROBES = ("sleep", "hello", "fanout", "cpu", "db")

# Limits. A race is N requests per group; each stays on the server it was sent to even after the
# driver gives up on it, so what a race may ask of a server is bounded up front, not only waited out.
MAX_REQUESTS = 100
# N requests one after another on one worker must end within this (the worst case: a blocked event
# loop, or one Gunicorn worker). 50 x 500 ms fits; 100 x 10 s does not.
MAX_SERIAL_MS_PER_GROUP = 30_000
# The driver stops waiting after this, whatever is still in flight, and says so.
MAX_RACE_SECONDS = 90.0
# Races running at once in one server process: each holds up to N connections to each stack.
MAX_RACES_PER_PROCESS = 2


class BadRace(ValueError):
    """A race frame the driver refuses; `detail` says why, in words for the page."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Race:
    probe: str
    query: Mapping[str, str]  # the probe's parameters, checked
    n: int
    groups: tuple[str, ...]
    order: Order
    # The longest one request of this probe keeps a thread (or a blocked loop) busy: the W of
    # Little's law for the limits below.
    serial_ms: int

    def wait_ms(self, group: str) -> int | None:
        """How long one request waits in this group's view, or None when the probe does not wait
        (hello, db: too short to matter; cpu: works instead, and the GIL, not a wait, limits it)."""
        if self.probe == "fanout":
            # The `def` view waits n x ms, one after another; the `async def` view all n at once.
            return self.serial_ms if LANE_GROUPS[group].view_prefix == "sync" else int(self.query["ms"])
        return self.serial_ms if self.probe == "sleep" else None

    def path(self, group: str) -> str:
        lane_group = LANE_GROUPS[group]
        probe = "blocking" if group == BLOCKING_GROUP else self.probe
        query = f"?{urlencode(dict(self.query))}" if self.query else ""
        return f"/demo/{lane_group.view_prefix}/{probe}/{query}"


def probe_query(probe: str, params: Mapping[str, Any]) -> tuple[dict[str, str], int]:
    """The probe's parameters as a query, checked by the probe's own rules, and its serial ms."""
    if not isinstance(params, Mapping) or not all(isinstance(value, (str, int)) for value in params.values()):
        raise BadRace('params must be an object of whole numbers, e.g. {"ms": 500}.')
    query = {str(name): str(value) for name, value in params.items()}
    allowed = {"sleep": {"ms"}, "cpu": {"ms"}, "fanout": {"n", "ms"}}.get(probe, set())
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise BadRace(f"the {probe} probe takes no parameter {unknown[0]!r}.")
    try:
        if probe == "sleep":
            ms = wait_from(query).ms
            return {"ms": str(ms)}, ms
        if probe == "cpu":
            ms = cpu_ms_from(query)
            return {"ms": str(ms)}, ms
        if probe == "fanout":
            fanout = fanout_from(query)
            # The `def` view waits n x ms; the limits take the slower view.
            return {"n": str(fanout.n), "ms": str(fanout.ms)}, fanout.n * fanout.ms
    except BadProbeParameter as error:
        raise BadRace(error.message) from None
    return {}, 0


def race_from(frame: Mapping[str, Any]) -> Race:
    """The race a client's frame asks for, or BadRace naming the first thing wrong with it."""
    probe = frame.get("probe")
    if probe not in PROBES:
        raise BadRace(f"probe must be one of {', '.join(PROBES)}.")
    query, serial_ms = probe_query(probe, frame.get("params") or {})
    try:
        n = whole_number({"n": str(frame.get("n"))}, "n", 0, 1, MAX_REQUESTS)
    except BadProbeParameter as error:
        raise BadRace(error.message) from None
    groups = frame.get("groups")
    if (
        not isinstance(groups, list)
        or not groups
        or not all(isinstance(group, str) and group in LANE_GROUPS for group in groups)
    ):
        raise BadRace(f"groups must be a non-empty list of {', '.join(LANE_GROUPS)}.")
    if BLOCKING_GROUP in groups and probe != "sleep":
        raise BadRace("the blocking lanes race only the sleep probe (they are sleep done wrong).")
    order = frame.get("order", "one-by-one")
    if order not in ("together", "one-by-one"):
        raise BadRace("order must be 'together' or 'one-by-one'.")
    if n * serial_ms > MAX_SERIAL_MS_PER_GROUP:
        raise BadRace(
            f"n x ms must be at most {MAX_SERIAL_MS_PER_GROUP} (what one worker would take to serve "
            f"them all, one after another), not {n * serial_ms}."
        )
    return Race(probe, query, n, tuple(dict.fromkeys(groups)), order, serial_ms)


def predicted_ms(n: int, wait_ms: float, slots: int | None) -> float:
    """Little's law: a server that holds `slots` requests at once, each for `wait_ms`, serves at
    most slots / wait requests a second, so N of them take ceil(N / slots) x wait. None means no
    such limit (an event loop), so all N wait at once: about one wait."""
    if slots is None:
        return wait_ms
    return math.ceil(n / slots) * wait_ms
