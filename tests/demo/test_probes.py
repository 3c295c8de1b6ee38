"""The demo probes in process: Django's test Client goes through the WSGI handler and AsyncClient
through the ASGI handler, so every probe is checked as a `def` and an `async def` view on both."""

import asyncio
import threading
import time

import pytest
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client

from demo.probes import DB_PROBE_ROWS, MAX_CPU_MS, MAX_WAIT_MS
from myproject.asgi import application
from tests.conftest import fetch

pytestmark = pytest.mark.django_db(transaction=True)

PROBES = ["hello", "sleep?ms=1", "fanout?n=2&ms=1", "db", "cpu?ms=1"]
PROBE_ROUTES = [
    *[(kind, probe) for probe in PROBES for kind in ("sync", "async")],
    ("async", "blocking?ms=1"),
]


def probe_url(kind: str, probe: str) -> str:
    name, _, query = probe.partition("?")
    return f"/demo/{kind}/{name}/" + (f"?{query}" if query else "")


@pytest.mark.parametrize(("kind", "probe"), PROBE_ROUTES)
def test_probe_names_its_interface_and_view_kind(interface, kind, probe):
    response = fetch(interface, probe_url(kind, probe))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["probe"] == probe.partition("?")[0]
    assert body["interface"] == interface
    assert body["view_kind"] == kind
    assert response["X-Interface"] == interface


async def test_under_asgi_a_def_view_runs_on_another_thread_than_the_event_loop():
    loop_thread = threading.current_thread().name

    sync_body = (await AsyncClient().get("/demo/sync/hello/")).json()
    async_body = (await AsyncClient().get("/demo/async/hello/")).json()

    assert async_body["thread"] == loop_thread
    assert sync_body["thread"] != loop_thread


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_sleep_waits_at_least_the_milliseconds_asked(interface, kind):
    body = (fetch(interface, f"/demo/{kind}/sleep/?ms=60")).json()

    assert body["ms"] == 60
    assert body["elapsed_ms"] >= 60


def test_sync_fanout_waits_one_after_another(interface):
    body = (fetch(interface, "/demo/sync/fanout/?n=4&ms=50")).json()

    assert body["elapsed_ms"] >= 4 * 50


def test_async_fanout_waits_concurrently(interface):
    body = (fetch(interface, "/demo/async/fanout/?n=5&ms=200")).json()

    # Concurrent waits take about 200 ms; one after another they would take 1000 ms.
    assert 200 <= body["elapsed_ms"] < 800


# Long enough to tell a stalled neighbour (it waits all of it) from one served meanwhile (a hello
# takes milliseconds in process, more on a loaded machine, but far less than this).
NEIGHBOUR_WAIT_MS = 600


async def get(path: str) -> dict:
    """GET through the project's whole ASGI application, as a server calls it. (AsyncClient skips
    the handler's per-request thread context, so there every request's sync middleware would queue
    for one shared thread, and requests would wait for each other where Uvicorn's do not.)"""
    path, _, query = path.partition("?")
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query.encode()}
    communicator = ApplicationCommunicator(application, {**scope, "headers": [(b"host", b"localhost")]})
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=10)
    await communicator.receive_output(timeout=10)  # the body
    await communicator.wait(timeout=10)  # the handler closes what it opened for the request
    return start


async def neighbour_latencies(probe_path: str) -> list[float]:
    """Run `probe_path` and, on the same event loop meanwhile, hello requests back to back: the
    seconds each hello took. One is always in flight, so if the loop stops, one of them waits."""
    await get("/demo/async/hello/")  # the first request pays for imports and URL resolution
    probe = asyncio.create_task(get(probe_path))
    latencies = []
    while not probe.done():
        started = time.perf_counter()
        await get("/demo/async/hello/")
        latencies.append(time.perf_counter() - started)
    assert (await probe)["status"] == 200
    return latencies


async def test_blocking_probe_stalls_a_concurrent_request_on_its_event_loop():
    latencies = await neighbour_latencies(f"/demo/async/blocking/?ms={NEIGHBOUR_WAIT_MS}")

    # time.sleep() held the loop: the neighbour in flight waited the whole sleep.
    assert max(latencies) >= NEIGHBOUR_WAIT_MS / 1000


async def test_async_sleep_probe_serves_concurrent_requests_while_it_waits():
    latencies = await neighbour_latencies(f"/demo/async/sleep/?ms={NEIGHBOUR_WAIT_MS}")

    # await asyncio.sleep() left the loop free: neighbours were answered during the wait, and
    # none waited for it to end.
    assert len(latencies) >= 3, latencies
    assert max(latencies) < NEIGHBOUR_WAIT_MS / 1000


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_db_probe_reads_a_few_users(interface, kind):
    User = get_user_model()
    User.objects.bulk_create([User(username=f"user{number}") for number in range(12)])

    body = (fetch(interface, f"/demo/{kind}/db/")).json()

    assert body["rows"] == DB_PROBE_ROWS


def test_db_probe_answers_on_an_empty_database(interface):
    body = (fetch(interface, "/demo/sync/db/")).json()

    assert body["rows"] == 0


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_cpu_probe_does_work(interface, kind):
    body = (fetch(interface, f"/demo/{kind}/cpu/?ms=20")).json()

    assert body["ms"] == 20
    assert body["rounds"] > 0


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/demo/sync/sleep/", {"ms": 100}),
        ("/demo/async/blocking/", {"ms": 100}),
        ("/demo/sync/fanout/", {"n": 5, "ms": 50}),
        ("/demo/async/cpu/", {"ms": 10}),
    ],
)
def test_missing_parameters_take_their_defaults(interface, path, expected, monkeypatch):
    # Stand-ins for the waits and the work, so the defaults are checked without waiting for them.
    monkeypatch.setattr("demo.views.time.sleep", lambda seconds: None)
    monkeypatch.setattr("demo.views.burn_cpu", lambda ms: 1)

    async def no_wait(*args, **kwargs):
        return None

    monkeypatch.setattr("demo.views.asyncio.sleep", no_wait)

    body = (fetch(interface, path)).json()

    assert {key: body[key] for key in expected} == expected


BAD_QUERIES = [
    ("sleep", "ms=-1", "ms"),
    ("sleep", f"ms={MAX_WAIT_MS + 1}", "ms"),
    ("sleep", "ms=abc", "ms"),
    ("sleep", "ms=", "ms"),
    ("sleep", "ms=1.5", "ms"),
    ("sleep", "ms=%205", "ms"),
    ("sleep", "ms=%2B5", "ms"),
    ("sleep", "ms=1_000", "ms"),
    ("sleep", "ms=%D9%A5", "ms"),  # an Arabic-Indic five, which int() would accept
    ("sleep", "ms=99999999999999999999", "ms"),
    ("fanout", "n=0", "n"),
    ("fanout", "n=51", "n"),
    ("fanout", "n=x", "n"),
    ("fanout", "ms=-5", "ms"),
    ("fanout", "n=50&ms=201", "ms"),
    ("cpu", f"ms={MAX_CPU_MS + 1}", "ms"),
    ("cpu", "ms=ten", "ms"),
]


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(("probe", "query", "parameter"), BAD_QUERIES)
def test_bad_parameter_gets_400_with_a_json_error_naming_it(interface, kind, probe, query, parameter):
    response = fetch(interface, f"/demo/{kind}/{probe}/?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["parameter"] == parameter
    assert parameter in response.json()["error"]


@pytest.mark.parametrize("query", ["ms=-1", f"ms={MAX_WAIT_MS + 1}", "ms=soon"])
def test_blocking_probe_rejects_a_bad_wait(interface, query):
    response = fetch(interface, f"/demo/async/blocking/?{query}")

    assert response.status_code == 400
    assert response.json()["parameter"] == "ms"


def test_fanout_accepts_the_largest_total_wait(interface, monkeypatch):
    monkeypatch.setattr("demo.views.time.sleep", lambda seconds: None)

    response = fetch(interface, f"/demo/sync/fanout/?n=50&ms={MAX_WAIT_MS // 50}")

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/demo/sync/blocking/", "/demo/sync/nope/", "/demo/async/nope/"])
def test_unknown_probe_is_404(interface, path):
    response = fetch(interface, path)

    assert response.status_code == 404


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_probes_refuse_other_methods_than_get_and_head(kind):
    response = Client().post(f"/demo/{kind}/hello/")

    assert response.status_code == 405


def test_index_links_every_probe_both_ways(interface):
    response = fetch(interface, "/demo/")

    html = response.content.decode()
    assert response.status_code == 200
    for kind, probe in PROBE_ROUTES:
        assert f'href="/demo/{kind}/{probe.partition("?")[0]}/' in html


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_probe_answer_carries_when_the_server_began_and_ended_it(interface, kind):
    before_ms = time.time() * 1000
    body = fetch(interface, f"/demo/{kind}/sleep/?ms=50").json()
    after_ms = time.time() * 1000

    assert before_ms <= body["began_ms"] <= body["ended_ms"] <= after_ms + 1
    assert body["ended_ms"] - body["began_ms"] >= 50
    assert body["ended_ms"] - body["began_ms"] == pytest.approx(body["elapsed_ms"], abs=1)


def test_outside_gunicorn_a_probe_reports_no_worker_pool(interface):
    assert fetch(interface, "/demo/async/hello/").json()["worker_pool"] is None
