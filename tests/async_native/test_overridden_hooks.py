"""A subclass that overrides a sync hook runs it where Django runs it: on the request's thread,
where the ORM may be used, on both stacks (tests/async_native/overriding_middleware.py)."""

import pytest
from django.core.handlers.asgi import ASGIHandler

from async_native.handler import PooledThreadASGIHandler
from tests.async_native.asgi_calls import serve, status_of

HANDLERS = {"stock": ASGIHandler, "async-native": PooledThreadASGIHandler}
PREFIX = {"stock": "Djangos", "async-native": "AsyncNative"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stack", ["stock", "async-native"])
@pytest.mark.parametrize("hook", ["OnRequest", "OnResponse"])
async def test_an_overridden_sync_hook_may_use_the_orm(settings, stack, hook, asgi_connection_policy):
    subclass = f"tests.async_native.overriding_middleware.{PREFIX[stack]}Counting{hook}"
    settings.MIDDLEWARE = [
        subclass if path.endswith(".SessionMiddleware") else path for path in settings.MIDDLEWARE
    ]

    sent = await serve(HANDLERS[stack](), "/demo/async/hello/")

    assert status_of(sent) == 200
