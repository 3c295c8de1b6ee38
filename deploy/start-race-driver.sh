#!/bin/sh
# The race page's server-side driver (demo/race_driver.py, /ws/race/): the ASGI application in a
# one-worker Uvicorn process of its own, on RACE_DRIVER_PORT. Used as-is by `make run`,
# docker-compose.yml's `race` service and the tests.
#
# Why not on the ASGI stack it races: there the driver shares a Uvicorn worker's event loop with the
# requests it sends, so each request of the blocking lanes that lands on its worker stops the driver
# too (no lane is sent or read while it sleeps), and every lane competes with it for that worker's
# CPU. In a process of its own, nothing the raced stacks do can hold its loop.
set -eu
cd "$(dirname "$0")/.."
# The demo's switch (DJANGO_DEMO, on with debug) holds here too: with the demo off, /ws/race/ is not
# routed, so this process drives no race. `make run` then leaves it out (the Makefile asks
# `python -m myproject.preflight asgi --race-driver`); docker-compose.yml's `race` service still
# starts, because `docker compose up --wait` counts a service that exits as failed.
# The stacks it races, on loopback as `make run` starts them, unless set (docker-compose.yml names
# its services). Set here, before ASGI_PORT becomes this process's own port below.
if [ -z "${RACE_WSGI_URL:-}" ] && [ -n "${WSGI_PORT:-}" ]; then
    export RACE_WSGI_URL="http://127.0.0.1:$WSGI_PORT"
fi
if [ -z "${RACE_ASGI_URL:-}" ] && [ -n "${ASGI_PORT:-}" ]; then
    export RACE_ASGI_URL="http://127.0.0.1:$ASGI_PORT"
fi
# One event loop is enough: a race is N coroutines waiting on sockets, and the process runs at most
# MAX_RACES_PER_PROCESS of them (demo/race_rules.py). The rest is the ASGI stack's own start script,
# every flag with its reason.
export WEB_CONCURRENCY=1
export ASGI_PORT="${RACE_DRIVER_PORT:-8003}"
exec deploy/start-asgi.sh
