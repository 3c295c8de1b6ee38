"""What the async-native handler checks as it starts (async_native/checks.py): the Django release it
was ported from, and middleware that would put the request back on a thread."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from async_native import middleware_in_place_of
from async_native.checks import refuse_unported_django, sync_only_middleware
from async_native.handler import PooledThreadASGIHandler

SYNC_ONLY = "tests.async_native.overriding_middleware.SyncOnlyMiddleware"


def test_the_installed_django_release_is_the_one_the_handler_was_ported_from():
    refuse_unported_django()


def test_another_django_release_is_refused_in_one_line_naming_the_way_out():
    with pytest.raises(ImproperlyConfigured) as refusal:
        refuse_unported_django((6, 0, 0, "final", 0))

    message = str(refusal.value)
    assert "\n" not in message
    assert "Django 6.0 is installed" in message
    assert "DJANGO_ASGI_STACK=stock" in message


def test_the_projects_middleware_is_async_capable_throughout_with_the_packages_classes(settings):
    assert sync_only_middleware(middleware_in_place_of(settings.MIDDLEWARE)) == []


def test_a_sync_only_middleware_is_named_in_a_warning_as_the_handler_starts(settings, caplog):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, SYNC_ONLY]

    with caplog.at_level(logging.WARNING, logger="async_native"):
        PooledThreadASGIHandler()

    assert [record.getMessage().split(" ")[1] for record in caplog.records] == [SYNC_ONLY]
