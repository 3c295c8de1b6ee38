"""Both ASGI stacks on a real Uvicorn: logins, CSRF and client disconnects behave the same.

The rest of the live suite runs on the default stack; these run on each (DJANGO_ASGI_STACK)."""

import socket
import time

import pytest
import requests

from testbed.environment import base_environment
from testbed.login import log_in
from testbed.web import uvicorn_server


@pytest.fixture(scope="module", params=["stock", "async-native"])
def asgi_stack(request, live_database, shared_redis_url, server_logs):
    env = base_environment(
        DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url, DJANGO_ASGI_STACK=request.param
    )
    server = uvicorn_server(env, server_logs)
    server.start()
    yield server
    server.stop()


def test_a_login_through_the_form_is_valid_on_the_wsgi_stack_too(asgi_stack, live_stacks):
    session = requests.Session()

    log_in(session, asgi_stack.url, "alice")

    assert 'data-testid="username">alice<' in session.get(f"{asgi_stack.url}/", timeout=10).text
    assert 'data-testid="username">alice<' in session.get(f"{live_stacks.wsgi.url}/", timeout=10).text


def test_a_post_without_the_csrf_token_is_refused(asgi_stack):
    session = requests.Session()
    session.get(f"{asgi_stack.url}/accounts/login/", timeout=10)

    response = session.post(
        f"{asgi_stack.url}/accounts/login/", data={"username": "alice", "password": "x"}, timeout=10
    )

    assert response.status_code == 403


def test_a_client_that_disconnects_mid_request_leaves_the_worker_serving(asgi_stack):
    with socket.create_connection(("127.0.0.1", asgi_stack.port), timeout=10) as client:
        client.sendall(b"GET /demo/async/sleep/?ms=3000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        time.sleep(0.2)  # the view is waiting when the client goes

    after = requests.get(f"{asgi_stack.url}/demo/sync/hello/", timeout=10)

    assert after.status_code == 200
    assert "Traceback" not in asgi_stack.log()
