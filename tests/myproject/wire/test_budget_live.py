"""The wire page's capture budget in the real servers: Gunicorn and Uvicorn share it through Redis,
and a capture over it is answered 429 with a message on either stack, never a 500, while the page
itself still opens (myproject/wire/budget.py). A small budget keeps the test short."""

from __future__ import annotations

import time

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from myproject.wire.budget import WINDOW_SECONDS
from myproject.wire.recorders import CAPTURE_PATH, SOCKET_PATH, TRACE_HEADER
from tests.conftest import isolated_stacks

pytestmark = pytest.mark.live

PER_CLIENT = 3


@pytest.fixture(scope="module")
def budgeted_stacks(tmp_path_factory, server_logs):
    yield from isolated_stacks(
        tmp_path_factory.mktemp("wire-budget-db"), server_logs, WIRE_CAPTURES_PER_CLIENT=str(PER_CLIENT)
    )


def capture(base_url: str) -> requests.Response:
    return requests.get(f"{base_url}{CAPTURE_PATH}", timeout=10)


def socket_status(port: int) -> int:
    try:
        with connect(f"ws://127.0.0.1:{port}{SOCKET_PATH}", origin=f"http://127.0.0.1:{port}", proxy=None):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def test_one_client_spends_one_budget_across_both_stacks_then_gets_429_with_a_message(budgeted_stacks):
    wsgi, asgi = budgeted_stacks.wsgi, budgeted_stacks.asgi
    # The budget is per calendar minute: start early in one, so that all of this falls inside it.
    if time.time() % WINDOW_SECONDS > WINDOW_SECONDS - 15:
        time.sleep(WINDOW_SECONDS - time.time() % WINDOW_SECONDS + 0.5)
    allowed = [capture(wsgi.url), capture(asgi.url), capture(wsgi.url)]

    refused = {"wsgi": capture(wsgi.url), "asgi": capture(asgi.url)}

    assert [response.status_code for response in allowed] == [200] * PER_CLIENT
    assert all(TRACE_HEADER in response.headers for response in allowed)
    for interface, response in refused.items():
        assert response.status_code == 429, response.text
        assert response.headers["X-Interface"] == interface
        assert TRACE_HEADER not in response.headers
        assert int(response.headers["Retry-After"]) <= WINDOW_SECONDS
        assert response.json()["error"].startswith("Too many captures: this client has made 3 captures")
    # The echo socket spends from the same budget: Uvicorn lets the recorder answer its handshake 429.
    assert socket_status(asgi.port) == 429
    # The page itself is not a capture.
    assert requests.get(f"{wsgi.url}/demo/wire/", timeout=10).status_code == 200
    assert requests.get(f"{asgi.url}/demo/wire/", timeout=10).status_code == 200
