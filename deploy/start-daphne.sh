#!/bin/sh
# The ASGI stack on Daphne instead of Uvicorn: the same myproject.asgi:application, HTTP and
# WebSockets. Used by the comparison harness and the chat tests; takes the same variables as
# deploy/start-asgi.sh.
#
# Daphne (Twisted) runs one process with no --workers option: to use more cores, run several
# behind a proxy. It is also `manage.py runserver`'s server, because "daphne" is first in
# INSTALLED_APPS.
set -eu
cd "$(dirname "$0")/.."
# Refuse a configuration the settings reject with its one-line message, before the server imports
# the application in each worker and reports it as a traceback (myproject/preflight.py).
python -m myproject.preflight asgi
# WebSockets off unless DJANGO_WEBSOCKETS=1: this server has no option that bounds what one client
# that never reads makes it hold (below, and docs/reliability.md), so by default every handshake is
# refused (myproject/asgi.py) and no such client gets a socket. The project serves WebSockets with
# deploy/start-asgi.sh (Uvicorn, bounded); the tests that compare servers turn them on here.
export DJANGO_WEBSOCKETS="${DJANGO_WEBSOCKETS:-0}"
# Prometheus' client keeps the process's numbers in files in this directory (as in
# deploy/start-asgi.sh, where the reasoning is); emptied at every start.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/myproject-metrics-daphne-${ASGI_PORT:-8002}}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
# The WebSocket size limits match deploy/start-asgi.sh (see the reasoning there). Daphne checks a
# whole message and each frame of it separately, so both are set.
# No option bounds what Daphne holds for one client: it reads every frame as it arrives, queues each
# message for the application without limit, and answers each ping with a pong whether or not the
# client reads. One client flooding text frames grew it by 190 MB in 10 s (docs/reliability.md). The
# project runs Daphne for `manage.py runserver` (development, loopback), the chat tests and the
# comparison harness; serve WebSockets to the internet with deploy/start-asgi.sh.
# No --proxy-headers: Daphne would trust X-Forwarded-For from any client, unlike Uvicorn's
# --forwarded-allow-ips, so it is left off for a server that may be reached directly.
exec daphne myproject.asgi:application \
    --bind "${HOST:-127.0.0.1}" \
    --port "${ASGI_PORT:-8002}" \
    --websocket-max-message-size "${WS_MAX_SIZE:-32768}" \
    --websocket-max-frame-size "${WS_MAX_SIZE:-32768}" \
    --access-log -
