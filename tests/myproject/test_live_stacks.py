"""Both stacks as real processes: Gunicorn and Uvicorn on loopback, one database, one Redis."""

import re
import time
from importlib.metadata import version

import pytest
import requests

from testbed.environment import base_environment
from testbed.login import log_in
from testbed.web import runserver
from tests.conftest import start_stacks

pytestmark = pytest.mark.live

# /readyz gives each check 2 s; this leaves room for a slow, shared machine.
READYZ_DEADLINE_SECONDS = 8.0


def interface_named_on_home_page(html: str) -> str:
    match = re.search(r'data-testid="interface">(\w+)<', html)
    assert match, "the home page does not name its interface"
    return match.group(1)


def signed_in_user(html: str) -> str | None:
    match = re.search(r'data-testid="username">([^<]+)<', html)
    return match.group(1) if match else None


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_healthz_answers_ok_on_both_stacks(live_stacks, stack):
    response = requests.get(f"{getattr(live_stacks, stack).url}/healthz", timeout=10)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["X-Interface"] == stack


@pytest.mark.parametrize(
    ("stack", "interface", "server"),
    # Gunicorn names itself in the WSGI environ's SERVER_SOFTWARE; for ASGI the page names the
    # server whose modules are loaded, with its installed version.
    [("wsgi", "WSGI", f"gunicorn/{version('gunicorn')}"), ("asgi", "ASGI", f"Uvicorn {version('uvicorn')}")],
)
def test_home_page_names_the_interface_and_server_that_served_it(live_stacks, stack, interface, server):
    response = requests.get(f"{getattr(live_stacks, stack).url}/", timeout=10)

    assert response.status_code == 200
    assert response.headers["X-Interface"] == stack
    assert interface_named_on_home_page(response.text) == interface
    assert server in re.search(r'data-testid="server">([^<]+)<', response.text).group(1)


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_readyz_is_ok_when_database_and_redis_answer(live_stacks, stack):
    response = requests.get(f"{getattr(live_stacks, stack).url}/readyz", timeout=10)

    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "channel_layer": "ok"}


@pytest.mark.parametrize(("first", "second"), [("wsgi", "asgi"), ("asgi", "wsgi")])
def test_login_on_one_stack_is_recognised_by_the_other(live_stacks, first, second):
    session = requests.Session()
    log_in(session, getattr(live_stacks, first).url, "alice")

    page = session.get(f"{getattr(live_stacks, second).url}/", timeout=10)

    assert page.headers["X-Interface"] == second
    assert signed_in_user(page.text) == "alice"


def test_anonymous_visitor_is_not_signed_in(live_stacks):
    page = requests.get(f"{live_stacks.asgi.url}/", timeout=10)

    assert signed_in_user(page.text) is None


def readyz(server) -> requests.Response:
    started = time.monotonic()
    response = requests.get(f"{server.url}/readyz", timeout=READYZ_DEADLINE_SECONDS)
    assert time.monotonic() - started < READYZ_DEADLINE_SECONDS
    return response


def test_readyz_goes_503_naming_the_channel_layer_while_redis_is_down_and_recovers(
    live_database, redis_server, server_logs
):
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=redis_server.url)
    stacks = start_stacks(env, server_logs)
    try:
        for server in (stacks.wsgi, stacks.asgi):
            assert readyz(server).status_code == 200

        redis_server.stop()
        for server in (stacks.wsgi, stacks.asgi):
            response = readyz(server)
            assert response.status_code == 503, response.text
            assert response.json()["failed"] == ["channel_layer"]
            assert response.json()["checks"]["database"] == "ok"

        redis_server.start()
        for server in (stacks.wsgi, stacks.asgi):
            deadline = time.monotonic() + 15
            while readyz(server).status_code != 200:
                assert time.monotonic() < deadline, f"{server.name} did not recover after Redis came back"
                time.sleep(0.5)
    finally:
        stacks.wsgi.stop()
        stacks.asgi.stop()


def test_servers_without_redis_url_warn_that_the_channel_layer_is_process_local(live_database, server_logs):
    env = base_environment(DATABASE_URL=live_database.url)
    env.pop("REDIS_URL", None)
    stacks = start_stacks(env, server_logs)
    stacks.wsgi.stop()
    stacks.asgi.stop()

    for server in (stacks.wsgi, stacks.asgi):
        assert "REDIS_URL is not set" in server.log(), server.log()


def test_runserver_serves_the_asgi_application_with_debug_on(live_database, server_logs):
    env = base_environment(DATABASE_URL=live_database.url)
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_DEBUG", None)
    env.pop("DJANGO_SECRET_KEY", None)  # runserver turns debug on, so no secret key is needed
    server = runserver(env, server_logs)
    server.start()
    try:
        home = requests.get(f"{server.url}/", timeout=10)
        missing = requests.get(f"{server.url}/no-such-page/", timeout=10)
    finally:
        server.stop()

    assert home.headers["X-Interface"] == "asgi"
    assert "Daphne" in home.text
    assert "REDIS_URL is not set" not in server.log()
    # Debug on: Django's technical 404 page, which production never shows.
    assert "Using the URLconf defined in" in missing.text


def test_readyz_is_503_naming_the_database_when_it_cannot_be_opened(shared_redis_url, server_logs, tmp_path):
    unreachable = f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"
    env = base_environment(DATABASE_URL=unreachable, REDIS_URL=shared_redis_url)
    stacks = start_stacks(env, server_logs)
    try:
        responses = [readyz(server) for server in (stacks.wsgi, stacks.asgi)]
    finally:
        stacks.wsgi.stop()
        stacks.asgi.stop()

    for response in responses:
        assert response.status_code == 503
        assert response.json()["failed"] == ["database"]
        assert response.json()["checks"]["channel_layer"] == "ok"


def subscribed_readiness_channels(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return len(client.pubsub_channels("*readyz.*"))
    finally:
        client.close()


def test_repeated_readiness_checks_leave_no_channel_layer_subscriptions_behind(
    live_database, redis_server, server_logs
):
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=redis_server.url)
    env["REDIS_CHANNEL_LAYER"] = "RedisPubSubChannelLayer"
    stacks = start_stacks(env, server_logs)
    try:
        for _ in range(25):
            for server in (stacks.wsgi, stacks.asgi):
                assert readyz(server).status_code == 200
        left = subscribed_readiness_channels(redis_server.url)
    finally:
        stacks.wsgi.stop()
        stacks.asgi.stop()

    # Uvicorn keeps one reply channel per worker's event loop; Gunicorn's end with each request.
    assert left <= 1


def test_concurrent_readiness_checks_on_one_event_loop_all_succeed(live_stacks):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: readyz(live_stacks.asgi), range(20)))

    assert [response.status_code for response in responses] == [200] * 20
