"""Import the settings in a fresh interpreter, as a server process does at start-up, with only the
configuration a test names: every project variable the test runner's own environment might carry
is dropped first, so a case sees the defaults unless it sets a variable itself (None unsets one)."""

import subprocess
import sys

from testbed.environment import base_environment
from testbed.processes import ROOT

PRINT_JSON = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({expression}))
"""
KEPT = {"DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY"}


def load_settings(expression: str, **environment: str | None) -> subprocess.CompletedProcess:
    """Runs the settings, then prints `expression` (Python, with `settings` in scope) as JSON."""
    return run_python(PRINT_JSON.format(expression=expression), **environment)


def run_python(code: str, **environment: str | None) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter in the project's folder, with that environment."""
    env = base_environment(DJANGO_SETTINGS_MODULE="myproject.settings")
    for name in list(env):
        if (name.startswith(("DJANGO_", "REDIS_")) and name not in KEPT) or name in {
            "DATABASE_URL",
            "SERVER_INTERFACE",
        }:
            env.pop(name)
    for name, value in environment.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
