"""DJANGO_ASGI_STACK: one switch, read once in settings, picking what an ASGI process runs for HTTP.

Each case imports the settings in a fresh interpreter, as a server process would at start-up."""

import json
import subprocess

import pytest

from tests.myproject.fresh_settings import load_settings


def run_settings(**environment: str) -> subprocess.CompletedProcess:
    return load_settings('{"stack": settings.ASGI_STACK, "middleware": settings.MIDDLEWARE}', **environment)


def stack_for(**environment: str) -> dict:
    result = run_settings(**environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_asgi_process_runs_the_async_native_stack_by_default():
    loaded = stack_for(SERVER_INTERFACE="asgi")

    assert loaded["stack"] == "async-native"
    assert "myproject.static_files.ServeStaticMiddleware" in loaded["middleware"]
    assert "myproject.middleware.SessionMiddleware" in loaded["middleware"]


def test_stock_gives_an_asgi_process_djangos_middleware_and_whitenoise():
    loaded = stack_for(SERVER_INTERFACE="asgi", DJANGO_ASGI_STACK="stock")

    assert "whitenoise.middleware.WhiteNoiseMiddleware" in loaded["middleware"]
    assert "django.contrib.sessions.middleware.SessionMiddleware" in loaded["middleware"]


@pytest.mark.parametrize("stack", ["stock", "async-native"])
def test_a_wsgi_process_runs_the_stock_list_whatever_the_switch(stack):
    loaded = stack_for(SERVER_INTERFACE="wsgi", DJANGO_ASGI_STACK=stack)

    assert "whitenoise.middleware.WhiteNoiseMiddleware" in loaded["middleware"]
    assert not any(path.startswith("myproject.middleware.Session") for path in loaded["middleware"])


def test_both_lists_hold_the_same_middleware_in_the_same_order():
    from django.conf import settings

    def name(path: str) -> str:
        return path.rsplit(".", 1)[1].replace("WhiteNoise", "ServeStatic")

    assert [name(path) for path in settings.STOCK_MIDDLEWARE] == [
        name(path) for path in settings.ASYNC_NATIVE_MIDDLEWARE
    ]


def test_an_unknown_stack_refuses_to_start_naming_the_variable():
    result = run_settings(SERVER_INTERFACE="asgi", DJANGO_ASGI_STACK="fast")

    assert result.returncode != 0
    assert "DJANGO_ASGI_STACK must be 'stock' or 'async-native'" in result.stderr
