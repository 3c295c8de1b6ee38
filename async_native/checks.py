"""What the handler checks once, as it starts, so that nothing fails per request.

- The Django feature release: `handler.py` repeats Django 5.2's `ASGIHandler.handle()` and
  `__call__()`, and leans on private APIs of that release. On another, it refuses to start, with one
  line saying what to do, rather than serve requests with code ported from another release.
- The middleware list: one middleware that is not async-capable puts itself and its async
  neighbours back on a thread, and the whole saving goes with it. That is allowed, as Django allows
  it, and logged once as a warning naming the class.
"""

import logging

import django
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger("async_native")

# The Django feature release whose handler code handler.py repeats.
PORTED_FROM = (5, 2)


def refuse_unported_django(version: tuple[int | str, ...] = django.VERSION) -> None:
    if tuple(version[:2]) != PORTED_FROM:
        raise ImproperlyConfigured(
            f"async_native repeats Django {PORTED_FROM[0]}.{PORTED_FROM[1]}'s ASGIHandler, and Django "
            f"{version[0]}.{version[1]} is installed: port handler.py to it (async_native/__init__.py "
            "lists what it leans on), or set DJANGO_ASGI_STACK=stock."
        )


def sync_only_middleware(middleware: list[str]) -> list[str]:
    """The entries of `middleware` (dotted paths, as loaded) that cannot run on the event loop."""
    return [path for path in middleware if not getattr(import_string(path), "async_capable", False)]


def warn_about_sync_only_middleware(middleware: list[str]) -> None:
    for path in sync_only_middleware(middleware):
        logger.warning(
            "async_native: %s is not async-capable, so Django runs it, and its neighbours, on a thread "
            "for every request; the async-native stack saves little while it is in MIDDLEWARE.",
            path,
        )
