"""The one environment every child process (a server, Redis, `manage.py`) starts from.

A child gets this process's environment minus what belongs to the parent alone, so a server runs
as its start script and its own entry point configure it, not as the test session or the shell
that launched it happened to be configured.
"""

from __future__ import annotations

import os

from testbed.processes import VENV_BIN
from testbed.static_root import collected_static_root

# Each one is set by the parent for itself, and would silently change what the child is.
PARENT_ONLY = {
    # Each entry point owns its interface (wsgi.py: wsgi, asgi.py: asgi); a value inherited from a
    # parent that imported the other one would make Gunicorn run the ASGI database policy.
    "SERVER_INTERFACE",
    # Debug off, as in production, unless a caller asks for it.
    "DJANGO_DEBUG",
    # The benchmarks' middleware switch is per server start, never inherited.
    "DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE",
    # `make` exports the default ports; each starter sets the port and worker count it chose.
    "WSGI_PORT",
    "ASGI_PORT",
    "EMBEDDED_REDIS_PORT",
    "WEB_CONCURRENCY",
    # `make run` tells each stack where the browser finds the other; a test says so per start.
    "WSGI_STACK_PORT",
    "ASGI_STACK_PORT",
    "CHAT_WEBSOCKET_PORT",
    # ...and the race driver's port (`make run`'s third process): inherited from `make test`, it sent
    # every race page the tests open to a port where nothing listens.
    "RACE_DRIVER_PORT",
    # Each start script gives its server a metrics directory of its own (deploy/start-*.sh): one
    # inherited by two servers would mix their numbers.
    "PROMETHEUS_MULTIPROC_DIR",
}
# pytest's own variables, and options a shell may carry for Gunicorn (GUNICORN_CMD_ARGS) or Granian.
PARENT_ONLY_PREFIXES = ("PYTEST_", "GUNICORN_", "GRANIAN_")
# Only ever a placeholder: a child never needs a real secret to serve loopback traffic.
CHILD_SECRET_KEY = "local-only-secret-key-not-for-production"


def base_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without the parent-only variables, with the virtualenv's tools
    first on PATH and unbuffered Python output (logs arrive as they happen), then `overrides`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in PARENT_ONLY and not key.startswith(PARENT_ONLY_PREFIXES)
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DJANGO_SECRET_KEY", CHILD_SECRET_KEY)
    env["PYTHONUNBUFFERED"] = "1"
    # The demo is off in production by default (DJANGO_DEMO); the servers the tests and benchmarks
    # start run with debug off but measure its probes, so it is on for them unless a caller says not.
    env["DJANGO_DEMO"] = "1"
    env.update(overrides)
    if "DJANGO_STATIC_ROOT" not in env:
        # Debug is off: pages need collectstatic's manifest, which a fresh checkout does not have.
        env["DJANGO_STATIC_ROOT"] = str(collected_static_root(env))
    return env
