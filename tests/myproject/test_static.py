"""Static files: WhiteNoise (WSGI, ASGI stock) and ServeStatic (ASGI async-native) answer alike."""

import pytest
import requests
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from async_native import middleware_in_place_of
from stacks.environment import base_environment
from stacks.web import uvicorn_server

STYLESHEET = "/static/css/site.css"
MISSING = "/static/css/no-such-file.css"
# What a browser or a CDN caches by: these must not depend on the stack.
CACHING_HEADERS = ["Cache-Control", "ETag", "Last-Modified", "Content-Type", "Content-Length", "Vary"]


def static_get(stack: str, settings, **headers) -> tuple[int, dict[str, str | None], bytes]:
    if stack == "wsgi":
        response = Client().get(STYLESHEET, headers=headers)
        body = b"".join(response.streaming_content) if response.status_code == 200 else b""
        return response.status_code, {name: response.get(name) for name in CACHING_HEADERS}, body

    if stack == "asgi-async-native":
        settings.MIDDLEWARE = middleware_in_place_of(settings.MIDDLEWARE)

    async def get():
        response = await AsyncClient().get(STYLESHEET, headers=headers)
        if response.status_code != 200:
            body = b""
        elif response.is_async:
            body = b"".join([chunk async for chunk in response.streaming_content])
        else:
            body = b"".join(response.streaming_content)
        return response.status_code, {name: response.get(name) for name in CACHING_HEADERS}, body

    return async_to_sync(get)()


@pytest.mark.parametrize("stack", ["asgi-stock", "asgi-async-native"])
def test_a_static_file_has_the_same_body_and_caching_headers_as_under_wsgi(stack, settings):
    wsgi = static_get("wsgi", settings)

    asgi = static_get(stack, settings)

    assert wsgi[0] == 200
    assert wsgi[1]["Cache-Control"] == "max-age=60, public"
    assert asgi == wsgi


@pytest.mark.parametrize("stack", ["wsgi", "asgi-stock", "asgi-async-native"])
def test_a_static_file_the_client_has_is_not_modified(stack, settings):
    _, headers, _ = static_get(stack, settings)

    status, _, _ = static_get(stack, settings, if_none_match=headers["ETag"])

    assert status == 304


@pytest.mark.live
@pytest.mark.parametrize(("stack", "warns"), [("stock", True), ("async-native", False)])
def test_only_the_stock_asgi_stack_buffers_static_files_through_a_sync_iterator(
    live_database, shared_redis_url, server_logs, stack, warns
):
    env = base_environment(
        DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url, DJANGO_ASGI_STACK=stack
    )
    uvicorn = uvicorn_server(env, server_logs)
    uvicorn.start()
    try:
        response = requests.get(f"{uvicorn.url}{STYLESHEET}", timeout=10)
        # A later response that must arrive: the warning, if any, is logged by then.
        assert requests.get(f"{uvicorn.url}/healthz", timeout=10).status_code == 200
    finally:
        uvicorn.stop()

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=60, public"
    assert ("StreamingHttpResponse must consume synchronous iterators" in uvicorn.log()) is warns


@pytest.mark.parametrize("stack", ["wsgi", "asgi-stock", "asgi-async-native"])
def test_a_missing_static_file_is_a_404_on_every_stack_in_debug_mode(stack, settings):
    # ServeStatic raises MissingFileError in debug mode: a 500 and a traceback, for any client.
    settings.DEBUG = True
    if stack == "wsgi":
        status = Client().get(MISSING).status_code
    else:
        native = stack == "asgi-async-native"
        settings.MIDDLEWARE = settings.ASYNC_NATIVE_MIDDLEWARE if native else settings.STOCK_MIDDLEWARE

        async def get() -> int:
            return (await AsyncClient(raise_request_exception=False).get(MISSING)).status_code

        status = async_to_sync(get)()

    assert status == 404
