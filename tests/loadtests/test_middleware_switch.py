"""DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE, the switch behind the harness's middleware question."""

import json
import subprocess
import sys

from tests.servers import ROOT, base_environment

PRINT_MIDDLEWARE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps(settings.MIDDLEWARE))
"""


def middleware_with(**environment: str) -> list[str]:
    env = base_environment(DJANGO_SETTINGS_MODULE="myproject.settings")
    # SERVER_INTERFACE and DJANGO_ASGI_STACK pick the list too; a WSGI process's is checked here.
    for name in ("DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE", "SERVER_INTERFACE", "DJANGO_ASGI_STACK"):
        env.pop(name, None)
    env.update(environment)
    result = subprocess.run(
        [sys.executable, "-c", PRINT_MIDDLEWARE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_full_middleware_stack_is_the_default():
    middleware = middleware_with()

    assert "django.contrib.sessions.middleware.SessionMiddleware" in middleware
    assert len(middleware) > 5


def test_the_switch_keeps_only_the_interface_header():
    assert middleware_with(DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE="1") == [
        "myproject.middleware.InterfaceHeaderMiddleware"
    ]


def test_the_switch_off_keeps_the_full_stack():
    assert middleware_with(DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE="0") == middleware_with()
