"""A client gone before the view starts gets no view: its work would be for nobody. Django's stack
sees the disconnect during its middleware's hops to a thread; the async-native one, whose middleware
runs on the loop, looks for it before dispatching."""

import asyncio
import time

import pytest
from django.http import HttpResponse
from django.urls import path

from tests.async_native.asgi_calls import http_scope

views_started: list[str] = []


def slow(request):
    views_started.append(request.path)
    time.sleep(0.5)
    return HttpResponse("done")


urlpatterns = [path("slow/", slow)]


@pytest.fixture
def this_urlconf(settings):
    settings.ROOT_URLCONF = __name__
    views_started.clear()


async def test_a_def_view_does_not_start_for_a_client_already_gone(stack, this_urlconf):
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])
    sent: list[dict] = []

    async def receive() -> dict:
        # As Uvicorn answers once the connection is lost: at once, without waiting.
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict) -> None:
        sent.append(message)

    async with asyncio.timeout(10):
        await stack(scope=http_scope("/slow/"), receive=receive, send=send)

    assert views_started == []
    assert sent == []
