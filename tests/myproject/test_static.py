"""Static files: WhiteNoise (WSGI, ASGI stock) and ServeStatic (ASGI async-native) answer alike."""

import pytest
import requests
from asgiref.sync import async_to_sync
from django.templatetags.static import static
from django.test import AsyncClient, Client

from async_native import middleware_in_place_of
from testbed.environment import base_environment
from testbed.web import uvicorn_server
from tests.conftest import start_stacks

STYLESHEET = "/static/css/site.css"
# WhiteNoise's and ServeStatic's "forever" (base.py FOREVER: ten years) for a name with a hash in it.
IMMUTABLE = "max-age=315360000, public, immutable"
# What a browser or a CDN caches by: these must not depend on the stack.
CACHING_HEADERS = ["Cache-Control", "ETag", "Last-Modified", "Content-Type", "Content-Length", "Vary"]


def static_get(
    stack: str, settings, path: str = STYLESHEET, **headers
) -> tuple[int, dict[str, str | None], bytes]:
    if stack == "wsgi":
        response = Client().get(path, headers=headers)
        body = b"".join(response.streaming_content) if response.status_code == 200 else b""
        return response.status_code, {name: response.get(name) for name in CACHING_HEADERS}, body

    if stack == "asgi-async-native":
        settings.MIDDLEWARE = middleware_in_place_of(settings.MIDDLEWARE)

    async def get():
        response = await AsyncClient().get(path, headers=headers)
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
def test_the_hashed_name_a_page_links_to_is_cached_for_ever(stack, settings):
    hashed = static("css/site.css")  # with debug off, as in production: from the manifest

    status, headers, body = static_get(stack, settings, hashed)

    assert hashed != STYLESHEET
    assert hashed.startswith("/static/css/site.")
    assert status == 200
    assert headers["Cache-Control"] == IMMUTABLE
    assert headers["Content-Type"].startswith("text/css;")
    assert body == (settings.BASE_DIR / "static" / "css" / "site.css").read_bytes()


@pytest.mark.parametrize("stack", ["wsgi", "asgi-stock", "asgi-async-native"])
def test_a_hashed_name_that_was_never_collected_is_not_found(stack, settings):
    status, _, _ = static_get(stack, settings, "/static/css/site.0123456789ab.css")

    assert status == 404


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


@pytest.mark.live
@pytest.mark.parametrize("asgi_stack", ["stock", "async-native"])
def test_with_debug_on_a_missing_static_file_is_not_found_on_both_stacks(
    live_database, shared_redis_url, server_logs, asgi_stack
):
    env = base_environment(
        DATABASE_URL=live_database.url,
        REDIS_URL=shared_redis_url,
        DJANGO_DEBUG="1",
        DJANGO_ASGI_STACK=asgi_stack,
        # As under `make run`: no collection at all.
        DJANGO_STATIC_ROOT=str(server_logs / "never-collected"),
    )
    stacks = start_stacks(env, server_logs)
    try:
        answers = {
            server.name: requests.get(f"{server.url}/static/css/missing.css", timeout=10).status_code
            for server in (stacks.wsgi, stacks.asgi)
        }
        plain = requests.get(f"{stacks.asgi.url}{STYLESHEET}", timeout=10)
    finally:
        stacks.wsgi.stop()
        stacks.asgi.stop()

    assert answers == {"gunicorn": 404, "uvicorn": 404}
    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == "max-age=0, public"
