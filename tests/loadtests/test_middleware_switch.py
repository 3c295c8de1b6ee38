"""DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE, the switch behind the harness's middleware question."""

import json
import subprocess
import sys

import pytest

from testbed.environment import base_environment
from testbed.processes import ROOT

# Each case runs a child Python, as a server process would start.
pytestmark = pytest.mark.live

PRINT_MIDDLEWARE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps(settings.MIDDLEWARE))
"""


def middleware_with(**environment: str) -> list[str]:
    # The child environment never inherits the switch; only `environment` sets it.
    env = base_environment(DJANGO_SETTINGS_MODULE="myproject.settings", **environment)
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


# The stack a server runs, in its order: the request metrics outermost (every request counted and
# timed), the interface header next (every response names its interface), CORS next (its headers on
# every answer of a probe, even a refused one), WhiteNoise right after SecurityMiddleware (as
# WhiteNoise asks), sessions before authentication and messages, Axes last (as Axes asks). The
# benchmarks' "with middleware" side measures exactly this.
FULL_STACK = [
    "metrics.middleware.RequestMetricsMiddleware",
    "myproject.middleware.InterfaceHeaderMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]


def test_the_full_middleware_stack_is_the_default():
    assert middleware_with() == FULL_STACK


def test_the_switch_keeps_only_the_interface_header():
    assert middleware_with(DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE="1") == [
        "myproject.middleware.InterfaceHeaderMiddleware"
    ]


def test_the_switch_off_keeps_the_full_stack():
    assert middleware_with(DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE="0") == FULL_STACK
