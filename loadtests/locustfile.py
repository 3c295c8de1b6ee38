"""Locust load tests: the demo probes over HTTP and the chat over WebSockets.

Against either stack, with Locust's web UI on http://127.0.0.1:8089 (tick the user classes to run):

    locust -f loadtests/locustfile.py --class-picker --host http://127.0.0.1:8001   # WSGI
    locust -f loadtests/locustfile.py --class-picker --host http://127.0.0.1:8002   # ASGI

Headless, one probe as a `def` view (pick the class by name, the probes by tag):

    locust -f loadtests/locustfile.py SyncProbeUser --headless -u 50 -r 50 -t 30s \\
        --host http://127.0.0.1:8002 --tags sleep --sleep-ms 100

Tags: hello, sleep, fanout, db, cpu, blocking (AsyncProbeUser only). ChatUser needs the ASGI stack.
`make compare` (loadtests/compare.py) runs these classes against every server and writes a report.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from argparse import Namespace
from urllib.parse import urlencode, urlsplit

import gevent
import websocket
from locust import FastHttpUser, constant, events, tag, task
from locust.argument_parser import LocustArgumentParser
from locust.exception import StopUser

# The accounts `manage.py seed_demo` creates; Locust puts the current directory (the project's
# root, from where it is run) on sys.path, so the project's modules import as they do everywhere.
from demo.seeding import DEMO_PASSWORD, DEMO_USERS
from testbed.login import csrf_token

# A message that has not come back by then counts as lost.
ROUND_TRIP_TIMEOUT_SECONDS = 10.0


@events.init_command_line_parser.add_listener
def add_probe_arguments(parser: LocustArgumentParser) -> None:
    # Added to the parser itself, not to a group, so that Locust's web UI shows them too.
    parser.add_argument(
        "--sleep-ms", type=int, default=100, help="sleep and blocking probes: the wait, in ms"
    )
    parser.add_argument("--fanout-n", type=int, default=5, help="fanout probe: how many waits")
    parser.add_argument("--fanout-ms", type=int, default=50, help="fanout probe: each wait, in ms")
    parser.add_argument("--cpu-ms", type=int, default=10, help="cpu probe: the work, in ms")
    parser.add_argument("--chat-room", default="loadtest", help="ChatUser: the room every user joins")
    parser.add_argument(
        "--chat-wait", type=float, default=2.0, help="ChatUser: mean seconds between one user's messages"
    )


class ProbeUser(FastHttpUser):
    """One demo probe per request, as fast as the server answers.

    No think time: each user sends its next request as soon as the last one is answered (a closed
    loop), so by Little's law throughput = users / response time. That is what makes the sleep
    probe's bound easy to draw.
    """

    abstract = True
    view_kind = ""  # "sync" or "async": which view of each probe (demo/views.py) this class loads
    wait_time = constant(0)

    def probe(self, name: str, **parameters: int) -> None:
        query = urlencode(parameters)
        url = f"/demo/{self.view_kind}/{name}/" + (f"?{query}" if query else "")
        with self.client.get(url, name=url, catch_response=True) as response:
            # A cheap check that the request reached the view we meant (a proxy could route elsewhere).
            if response.status_code == 200 and f'"view_kind": "{self.view_kind}"' not in (
                response.text or ""
            ):
                response.failure(f"{url} was not answered by a {self.view_kind} view")

    @property
    def options(self) -> Namespace:
        return self.environment.parsed_options


class SyncProbeUser(ProbeUser):
    """The `def` views: /demo/sync/<probe>/."""

    view_kind = "sync"

    @tag("hello")
    @task
    def hello(self) -> None:
        self.probe("hello")

    @tag("sleep")
    @task
    def sleep(self) -> None:
        self.probe("sleep", ms=self.options.sleep_ms)

    @tag("fanout")
    @task
    def fanout(self) -> None:
        self.probe("fanout", n=self.options.fanout_n, ms=self.options.fanout_ms)

    @tag("db")
    @task
    def db(self) -> None:
        self.probe("db")

    @tag("cpu")
    @task
    def cpu(self) -> None:
        self.probe("cpu", ms=self.options.cpu_ms)


class AsyncProbeUser(SyncProbeUser):
    """The `async def` views: /demo/async/<probe>/, plus the deliberate blocking mistake."""

    view_kind = "async"

    @tag("blocking")
    @task
    def blocking(self) -> None:
        self.probe("blocking", ms=self.options.sleep_ms)


class BlockingNeighbourUser(ProbeUser):
    """One user calling the blocking probe without pause, next to others: run it with
    `AsyncProbeUser BlockingNeighbourUser --tags sleep blocking-neighbour` to see what one blocking
    call costs the requests that share its worker."""

    view_kind = "async"
    fixed_count = 1

    @tag("blocking-neighbour")
    @task
    def blocking(self) -> None:
        self.probe("blocking", ms=self.options.sleep_ms)


# Chat over WebSockets --------------------------------------------------------------------------


def websocket_url(host: str, path: str) -> str:
    parts = urlsplit(host)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{path}"


class ChatUser(FastHttpUser):
    """Signs in as a demo user, joins a room over WebSockets (ASGI stack only), sends messages and
    times each one until the server echoes it back.

    The WebSocket timings go through Locust's request events, so they sit in Locust's own statistics,
    CSV and HTML report next to the HTTP requests: "WS connect" (handshake until the history frame)
    and "WS round-trip" (send until this message comes back from the room).
    """

    accounts = itertools.cycle(DEMO_USERS)

    def wait_time(self) -> float:
        return random.uniform(0.5, 1.5) * self.environment.parsed_options.chat_wait

    def on_start(self) -> None:
        self.room = self.environment.parsed_options.chat_room
        self.pending: dict[str, float] = {}
        self.socket: websocket.WebSocket | None = None
        self.log_in(next(self.accounts))
        self.connect()
        self.receiver = gevent.spawn(self.receive_forever)

    def on_stop(self) -> None:
        if self.socket is not None:
            self.socket.close()
        if getattr(self, "receiver", None) is not None:
            self.receiver.kill(block=False)

    def log_in(self, username: str) -> None:
        login_page = self.client.get("/accounts/login/", name="/accounts/login/ (page)")
        response = self.client.post(
            "/accounts/login/",
            data={
                "username": username,
                "password": DEMO_PASSWORD,
                "csrfmiddlewaretoken": csrf_token(login_page.text or ""),
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise StopUser()

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.client.cookiejar)

    def connect(self) -> None:
        assert self.host, "Locust refuses to start a user without --host"
        path = f"/ws/chat/{self.room}/"
        started = time.perf_counter()
        error: Exception | None = None
        size = 0
        try:
            # A browser sends its page's origin; the server refuses a handshake from any other.
            self.socket = websocket.create_connection(
                websocket_url(self.host, path),
                origin=self.host,
                cookie=self.cookie_header(),
                timeout=ROUND_TRIP_TIMEOUT_SECONDS,
            )
            first = self.socket.recv()
            size = len(first)
            if json.loads(first).get("type") != "history":
                raise ValueError(f"the first frame is not the history: {first[:200]!r}")
        except Exception as exception:  # any failure to join counts, and this user stops
            error = exception
        self.report("WS", f"connect {path}", started, size, error)
        if error is not None:
            raise StopUser()

    def report(self, kind: str, name: str, started: float, size: int, error: Exception | None) -> None:
        events.request.fire(
            request_type=kind,
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=size,
            exception=error,
            context={},
        )

    @task
    def send_message(self) -> None:
        self.expire_lost_messages()
        client_id = uuid.uuid4().hex
        self.pending[client_id] = time.perf_counter()
        assert self.socket is not None, "on_start connected, or stopped this user"
        self.socket.send(
            json.dumps({"type": "message", "text": f"load test {client_id[:8]}", "client_id": client_id})
        )

    def receive_forever(self) -> None:
        while self.socket is not None and self.socket.connected:
            try:
                raw = self.socket.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception:  # the socket closed: on_stop, or the server went away
                return
            if raw:
                self.on_frame(raw)

    def on_frame(self, raw: str | bytes) -> None:
        frame = json.loads(raw)
        if frame.get("type") == "message" and frame.get("client_id") in self.pending:
            started = self.pending.pop(frame["client_id"])
            self.report("WS", "round-trip (send until echoed)", started, len(raw), None)
        elif frame.get("type") == "error":
            started = time.perf_counter()
            error = RuntimeError(f"{frame.get('code')}: {frame.get('detail')}")
            self.report("WS", f"error frame {frame.get('code')}", started, len(raw), error)

    def expire_lost_messages(self) -> None:
        now = time.perf_counter()
        for client_id, started in list(self.pending.items()):
            if now - started > ROUND_TRIP_TIMEOUT_SECONDS:
                del self.pending[client_id]
                self.report("WS", "round-trip (send until echoed)", started, 0, TimeoutError("no echo"))
