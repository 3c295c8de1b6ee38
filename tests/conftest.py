"""Fixtures shared by the whole suite. Real servers come from the toolkit in testbed/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient, Client

from testbed.database import LiveDatabase
from testbed.environment import base_environment
from testbed.redis_server import RedisServer, redis_url
from testbed.web import WebServer, gunicorn_server, uvicorn_server

# Under CI every test must run: a missing browser or service is a failure, not a skip.
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def skip_unless(condition: bool, reason: str) -> None:
    """Skip with a printed reason on a developer's machine; fail under CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (a skip is not allowed under CI)")
    pytest.skip(reason)


# Fixtures that start a process (a server, Redis, `manage.py`): a test that uses one is live.
PROCESS_FIXTURES = {
    "server_logs",
    "live_database",
    "shared_redis_url",
    "redis_server",
    "live_stacks",
    "two_uvicorns",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `live` every test that starts a process through a fixture, so that `make test-fast`
    (-m "not live") never starts one, whoever wrote the test."""
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)


# With debug off, as in production, {% static %} reads the manifest and the static files middleware
# reads STATIC_ROOT once, when myproject.asgi or .wsgi builds it: set here, before any test module
# or conftest below this one imports those, for this process and every server the suite starts.
os.environ["DJANGO_STATIC_ROOT"] = base_environment()["DJANGO_STATIC_ROOT"]  # testbed/static_root.py
settings.STATIC_ROOT = Path(os.environ["DJANGO_STATIC_ROOT"])


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def live_database(tmp_path_factory) -> Iterator[LiveDatabase]:
    database = LiveDatabase(tmp_path_factory.mktemp("live-db"))
    database.create()
    yield database
    database.drop()


@pytest.fixture(scope="session")
def shared_redis_url(server_logs) -> Iterator[str]:
    """REDIS_URL when the run was given one (CI's second pass), else an embedded Redis."""
    with redis_url(server_logs) as url:
        yield url


@pytest.fixture
def redis_server(server_logs) -> Iterator[RedisServer]:
    """A Redis of this test's own, which the test may stop and restart."""
    redis = RedisServer(server_logs)
    redis.start()
    yield redis
    redis.stop()


@dataclass
class Stacks:
    wsgi: WebServer
    asgi: WebServer
    env: dict[str, str]


def start_stacks(env: dict[str, str], log_dir: Path, *, side_by_side: bool = False) -> Stacks:
    """Both stacks; `side_by_side` tells each the other's port, as `make run` does (the header's
    link to the other stack, the ASGI port for the WebSockets of pages Gunicorn serves)."""
    stacks = Stacks(gunicorn_server(env, log_dir), uvicorn_server(env, log_dir), env)
    if side_by_side:
        ports = {"WSGI_STACK_PORT": str(stacks.wsgi.port), "ASGI_STACK_PORT": str(stacks.asgi.port)}
        for server in (stacks.wsgi, stacks.asgi):
            server.env = {**server.env, **ports}
    stacks.wsgi.start()
    try:
        stacks.asgi.start()
    except Exception:
        stacks.wsgi.stop()
        raise
    return stacks


def isolated_stacks(database_dir: Path, log_dir: Path, **extra: str) -> Iterator[Stacks]:
    """Both stacks on a database and a Redis of their own, for a module's fixture: lockouts and
    sign-up counts (every live test comes from 127.0.0.1) must not leak into other tests."""
    database = LiveDatabase(database_dir)
    database.create()
    redis = RedisServer(log_dir)
    redis.start()
    stacks = start_stacks(base_environment(DATABASE_URL=database.url, REDIS_URL=redis.url, **extra), log_dir)
    yield stacks
    stacks.wsgi.stop()
    stacks.asgi.stop()
    redis.stop()
    database.drop()


@pytest.fixture(scope="session")
def live_stacks(live_database, shared_redis_url, server_logs) -> Iterator[Stacks]:
    """Gunicorn (WSGI) and Uvicorn (ASGI) sharing one database and one Redis, for the session."""
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url)
    stacks = start_stacks(env, server_logs)
    yield stacks
    stacks.wsgi.stop()
    stacks.asgi.stop()


@pytest.fixture(params=["wsgi", "asgi-stock", "asgi-async-native"])
def interface(request) -> str:
    """Run the test once through Django's WSGI handler and once through its ASGI handler with each
    stack's middleware (DJANGO_ASGI_STACK: Django's, or the async_native package's classes in their
    place); returns the interface, "wsgi" or "asgi"."""
    if request.param == "asgi-async-native":
        from async_native import middleware_in_place_of

        settings = request.getfixturevalue("settings")
        settings.MIDDLEWARE = middleware_in_place_of(settings.MIDDLEWARE)
    return request.param.partition("-")[0]


def fetch(interface: str, path: str):
    """GET `path` in process through the WSGI handler (the test Client) or the ASGI handler
    (AsyncClient, on an event loop of its own; its sync parts, the ORM included, come back to this
    thread, whose database connection pytest-django manages)."""
    response = async_to_sync(_get_through_asgi)(path) if interface == "asgi" else Client().get(path)
    if response.streaming and not response.is_async:
        # A file response (a static file) holds its file open until it is read to the end, as a
        # server reads it; the headers are what the tests look at.
        b"".join(response.streaming_content)
    return response


async def _get_through_asgi(path: str):
    response = await AsyncClient().get(path)
    if response.streaming and response.is_async:
        # ServeStatic streams a file through an async iterator: read it on the loop that opened it.
        [chunk async for chunk in response.streaming_content]
    return response
