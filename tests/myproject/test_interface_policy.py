"""Each entry point runs its own database policy in a real server, observed from outside.

myproject/settings.py chooses the connection policy (database() in myproject/environment.py) from
SERVER_INTERFACE, which the entry point sets: a Gunicorn worker (wsgi.py) keeps its connection
between requests (CONN_MAX_AGE 60, with health checks); a Uvicorn process (asgi.py) closes it when
each request ends (CONN_MAX_AGE 0), borrowing from psycopg's pool on PostgreSQL.

The policy is observed the way an operator would, through the serving process's open handles
(psutil): the SQLite file it holds open, or its TCP connections to PostgreSQL. Each stack is run
twice: as the session's live tests start it, and started with the *other* interface's
SERVER_INTERFACE in its environment, which the entry point must override.
"""

import os
from urllib.parse import urlsplit

import psutil
import pytest
import requests

from testbed.database import LiveDatabase, psycopg_url
from testbed.environment import base_environment
from testbed.processes import wait_until
from testbed.web import WebServer, gunicorn_server, uvicorn_server
from tests.myproject.test_settings import settings_for

pytestmark = pytest.mark.live

ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
# A connection closes within milliseconds of the response; room for a shared 2-core machine.
CLOSE_DEADLINE_SECONDS = 5.0


@pytest.fixture(scope="module", params=["as the live tests start them", "given the wrong SERVER_INTERFACE"])
def stacks(request, live_database, shared_redis_url, server_logs):
    """One Gunicorn worker and one Uvicorn process, so every request reaches the process watched."""
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url)
    wrong = request.param == "given the wrong SERVER_INTERFACE"
    wsgi_env = {**env, "SERVER_INTERFACE": "asgi"} if wrong else env
    asgi_env = {**env, "SERVER_INTERFACE": "wsgi"} if wrong else env
    servers = {
        "wsgi": gunicorn_server(wsgi_env, server_logs, workers=1),
        "asgi": uvicorn_server(asgi_env, server_logs, workers=1),
    }
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


def database_read(server: WebServer, view_kind: str) -> int:
    """One ORM read through the db probe; the pid of the process that served it."""
    response = requests.get(f"{server.url}/demo/{view_kind}/db/", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["pid"]


def database_handles(pid: int, database: LiveDatabase) -> list[int]:
    """What `pid` holds open on the database: file descriptors of the SQLite file, or the local
    ports of its connections to the PostgreSQL server."""
    process = psutil.Process(pid)
    if database.vendor == "sqlite":
        path = database.url.removeprefix("sqlite:///")
        return sorted(file.fd for file in process.open_files() if file.path == path)
    server_port = urlsplit(database.url).port or 5432
    return sorted(
        connection.laddr.port
        for connection in process.net_connections(kind="tcp")
        if connection.raddr and connection.raddr.port == server_port
    )


def test_gunicorn_worker_keeps_one_connection_across_requests(stacks, live_database):
    gunicorn = stacks["wsgi"]
    worker = database_read(gunicorn, "sync")
    # A sync worker serves one request at a time: once this answers, the last request has ended
    # (and with CONN_MAX_AGE 0 its connection would be closed by now).
    requests.get(f"{gunicorn.url}/healthz", timeout=10).raise_for_status()
    after_first = database_handles(worker, live_database)

    assert database_read(gunicorn, "sync") == worker
    requests.get(f"{gunicorn.url}/healthz", timeout=10).raise_for_status()

    assert len(after_first) == 1
    assert database_handles(worker, live_database) == after_first


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has no server to drop a connection")
def test_gunicorn_worker_replaces_a_connection_the_server_dropped(stacks, live_database):
    import psycopg

    gunicorn = stacks["wsgi"]
    worker = database_read(gunicorn, "sync")
    [port] = database_handles(worker, live_database)
    with psycopg.connect(psycopg_url(live_database.url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE client_port = %s", [port])

    # Without CONN_HEALTH_CHECKS the worker would reuse the dead connection and answer 500.
    assert database_read(gunicorn, "sync") == worker
    assert database_handles(worker, live_database) not in ([port], [])


@pytest.mark.skipif(ON_POSTGRESQL, reason="on PostgreSQL the connection goes back to the pool instead")
@pytest.mark.parametrize("view_kind", ["sync", "async"])
def test_uvicorn_closes_the_connection_when_the_request_ends(stacks, live_database, view_kind):
    process = database_read(stacks["asgi"], view_kind)

    wait_until(
        lambda: database_handles(process, live_database) == [],
        CLOSE_DEADLINE_SECONDS,
        "Uvicorn to close the SQLite connection after the request",
    )


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the pool is PostgreSQL's (psycopg)")
def test_uvicorn_borrows_connections_from_the_pool(stacks, live_database):
    pool = settings_for(SERVER_INTERFACE="asgi", DATABASE_URL=live_database.url)["OPTIONS"]["pool"]
    process = database_read(stacks["asgi"], "async")

    # The pool opens min_size connections and keeps them after the request; a request (its
    # middleware and view may each take one) borrows and gives back, growing it up to max_size.
    wait_until(
        lambda: len(database_handles(process, live_database)) >= pool["min_size"],
        CLOSE_DEADLINE_SECONDS,
        f"Uvicorn's pool to open its {pool['min_size']} connections",
    )
    assert len(database_handles(process, live_database)) <= pool["max_size"]
