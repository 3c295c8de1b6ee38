"""DJANGO_ASGI_STACK: one switch, read once in settings, picking what an ASGI process runs for HTTP.
Django's own handler and middleware by default; the async_native package only when asked.

Each case imports the settings, or the ASGI entry point, in a fresh interpreter, as a server
process would at start-up."""

import json
import subprocess

import pytest

from tests.myproject.fresh_settings import load_settings, run_python

DJANGOS_CLASSES = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


def run_settings(**environment: str) -> subprocess.CompletedProcess:
    return load_settings('{"stack": settings.ASGI_STACK, "middleware": settings.MIDDLEWARE}', **environment)


def stack_for(**environment: str) -> dict:
    result = run_settings(**environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Imports the entry point as a server does, recording each middleware path Django's loader imports
# (django.core.handlers.base imports nothing else by path) and each handler that loads middleware.
ENTRY_POINT = """
import collections, json
import django.core.handlers.base as base

built, loads = collections.Counter(), []
load_middleware, import_string = base.BaseHandler.load_middleware, base.import_string

def counted_load(self, *args, **kwargs):
    loads.append(type(self).__name__)
    load_middleware(self, *args, **kwargs)

def counted_import(path):
    built[path] += 1
    return import_string(path)

base.BaseHandler.load_middleware, base.import_string = counted_load, counted_import

from myproject.asgi import django_asgi_app
handler = type(django_asgi_app).__module__ + "." + type(django_asgi_app).__qualname__
print(json.dumps({"handler": handler, "loads": loads, "built": built}))
"""


def asgi_entry_point(**environment: str) -> dict:
    """What myproject.asgi builds for HTTP: its handler, how many times middleware was loaded, and
    how many of each middleware class were built."""
    result = run_python(ENTRY_POINT, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_asgi_process_runs_djangos_stack_by_default():
    loaded = stack_for(SERVER_INTERFACE="asgi")

    assert loaded["stack"] == "stock"
    assert all(path in loaded["middleware"] for path in DJANGOS_CLASSES)
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in loaded["middleware"]


@pytest.mark.parametrize("stack", ["stock", "async-native"])
def test_the_middleware_setting_names_djangos_classes_on_either_stack(stack):
    loaded = stack_for(SERVER_INTERFACE="asgi", DJANGO_ASGI_STACK=stack)

    assert all(path in loaded["middleware"] for path in DJANGOS_CLASSES)
    assert not any(path.startswith("async_native") for path in loaded["middleware"])


def test_by_default_the_entry_point_builds_djangos_handler_and_loads_the_middleware_once():
    loaded = asgi_entry_point()

    assert loaded["handler"] == "django.core.handlers.asgi.ASGIHandler"
    assert loaded["loads"] == ["ASGIHandler"]
    assert {path: loaded["built"].get(path) for path in DJANGOS_CLASSES} == dict.fromkeys(DJANGOS_CLASSES, 1)


def test_async_native_builds_the_packages_handler_and_loads_its_middleware_once():
    loaded = asgi_entry_point(DJANGO_ASGI_STACK="async-native")

    assert loaded["handler"] == "async_native.handler.PooledThreadASGIHandler"
    assert loaded["loads"] == ["PooledThreadASGIHandler"]
    assert loaded["built"]["async_native.middleware.SessionMiddleware"] == 1
    assert loaded["built"]["async_native.static_files.ServeStaticMiddleware"] == 1
    assert not any(path.startswith("django.") for path in loaded["built"])


def test_an_unknown_stack_refuses_to_start_naming_the_variable():
    result = run_settings(SERVER_INTERFACE="asgi", DJANGO_ASGI_STACK="fast")

    assert result.returncode != 0
    assert "DJANGO_ASGI_STACK must be 'stock' or 'async-native'" in result.stderr
