"""What the harness measures: the probes, the variants of each server, and the runs they make.

A run is one Locust load: one server configuration, started in one variant, one probe, one view
kind (`def` or `async def`), one concurrency level. Nothing here starts a process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from loadtests.servers import ServerConfig

SLEEP_MS = 100
FANOUT_N, FANOUT_MS = 5, 50
CPU_MS = 10


@dataclass(frozen=True)
class Probe:
    """One line of the plan: which probe, as which views, at which concurrency levels."""

    key: str  # the `probe` column of summary.csv
    locust_tag: str
    path: str  # under /demo/<view kind>/, as Locust names the request
    levels: tuple[int, ...]
    quick_levels: tuple[int, ...]
    view_kinds: tuple[str, ...] = ("sync", "async")
    interfaces: tuple[str, ...] = ("wsgi", "asgi")
    extra_user_classes: tuple[str, ...] = ()

    def url(self, view_kind: str) -> str:
        return f"/demo/{view_kind}/{self.path}"


HELLO = Probe("hello", "hello", "hello/", (1, 20, 200), (20,))
SLEEP = Probe("sleep", "sleep", f"sleep/?ms={SLEEP_MS}", (1, 10, 50, 200), (50,))
PROBES = {
    probe.key: probe
    for probe in [
        HELLO,
        SLEEP,
        Probe("fanout", "fanout", f"fanout/?n={FANOUT_N}&ms={FANOUT_MS}", (1, 10), (10,)),
        Probe("db", "db", "db/", (20,), (20,)),
        Probe("cpu", "cpu", f"cpu/?ms={CPU_MS}", (10,), (10,)),
        # On a WSGI worker the mistake costs nothing extra: the worker blocks anyway.
        Probe("blocking", "blocking", f"blocking/?ms={SLEEP_MS}", (50,), (50,), ("async",), ("asgi",)),
        # Async sleep again, while one more user keeps calling the blocking probe on the same
        # server: what one blocking call costs the well-behaved requests around it.
        Probe(
            "sleep-next-to-blocking",
            "sleep",
            f"sleep/?ms={SLEEP_MS}",
            (10,),
            (10,),
            ("async",),
            ("asgi",),
            extra_user_classes=("BlockingNeighbourUser",),
        ),
    ]
}


@dataclass(frozen=True)
class Variant:
    """A named way of starting the servers: environment overrides, and the probes worth repeating.

    Each variant costs a restart of every server it applies to, so it runs only the probes that
    answer its question, at one concurrency level; the report sets each of its runs against the
    same run in another variant (`no-middleware` against `default`, `async-native` against `stock`).
    """

    name: str  # the `variant` column of summary.csv
    env: Mapping[str, str] = field(default_factory=dict)
    probes: tuple[Probe, ...] = ()
    # A setting that only the ASGI entry point reads leaves WSGI servers as they are: no restart.
    interfaces: tuple[str, ...] = ("asgi",)
    # Starts per server, alternating with the other variants that have as many: on a shared
    # machine one start can land on a busy minute, and two rounds show how far a ratio moves.
    rounds: int = 1

    def applies_to(self, server: ServerConfig) -> bool:
        return server.interface in self.interfaces


# What the variants are compared on: the smallest request, where the stack around the view is most
# of the cost, and many waiting requests, where that cost caps what an event loop serves (async and
# ASGI only: on a WSGI server the threads cap the waiting requests whatever the stack costs).
VARIANT_PROBES = (
    replace(HELLO, levels=(20,), quick_levels=(20,)),
    replace(SLEEP, levels=(200,), quick_levels=(50,), view_kinds=("async",), interfaces=("asgi",)),
)
VARIANTS = {
    variant.name: variant
    for variant in [
        Variant("default", probes=tuple(PROBES.values()), interfaces=("wsgi", "asgi")),
        # Django's middleware dropped (only the project's async-native X-Interface header stays):
        # what the stack costs each interface. Measuring only; it turns off sessions, CSRF, logins.
        Variant(
            "no-middleware",
            {"DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE": "1"},
            VARIANT_PROBES,
            interfaces=("wsgi", "asgi"),
        ),
        # Django's own ASGI handler and middleware against the project's async-native stack.
        *(
            Variant(stack, {"DJANGO_ASGI_STACK": stack}, VARIANT_PROBES, rounds=2)
            for stack in ("stock", "async-native")
        ),
    ]
}
QUICK_SERVERS = ["gunicorn-sync", "uvicorn"]
QUICK_PROBES = ["hello", "sleep"]
QUICK_VARIANTS = ["default"]


@dataclass(frozen=True)
class Run:
    server: ServerConfig
    variant: Variant
    probe: Probe
    view_kind: str
    users: int
    round: int = 1

    @property
    def slug(self) -> str:
        variant = "" if self.variant.name == "default" else f"__{self.variant.name}"
        again = "" if self.round == 1 else f"__r{self.round}"
        return f"{self.server.name}{variant}{again}__{self.probe.key}__{self.view_kind}__u{self.users}"


def plan(
    servers: list[ServerConfig],
    probes: list[str],
    users: list[int] | None,
    quick: bool,
    variants: list[Variant] | None = None,
) -> list[Run]:
    """Every run, server by server, and within a server round by round and variant by variant:
    the variants of one server run back to back, so that what they are set against met the same
    machine, and a variant's second round comes after its partner's first."""
    chosen = variants or [VARIANTS["default"]]
    runs: list[Run] = []
    for server in servers:
        for round_ in range(1, max(variant.rounds for variant in chosen) + 1):
            for variant in chosen:
                if round_ > variant.rounds or not variant.applies_to(server):
                    continue
                for probe in variant.probes:
                    if probe.key not in probes or server.interface not in probe.interfaces:
                        continue
                    levels = users or (probe.quick_levels if quick else probe.levels)
                    for view_kind in probe.view_kinds:
                        runs += [Run(server, variant, probe, view_kind, level, round_) for level in levels]
    return runs


@dataclass(frozen=True)
class Session:
    """One start of one server in one variant, and the runs measured before it stops."""

    server: ServerConfig
    variant: Variant
    round: int
    runs: list[Run]


def server_sessions(runs: list[Run]) -> list[Session]:
    """Group the runs by server start: one start per server, variant and round, in plan order."""
    sessions: dict[tuple[str, str, int], Session] = {}
    for run in runs:
        key = (run.server.name, run.variant.name, run.round)
        sessions.setdefault(key, Session(run.server, run.variant, run.round, [])).runs.append(run)
    return list(sessions.values())
