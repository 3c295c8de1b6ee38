#!/bin/sh
# Gunicorn as the process manager of the ASGI application: GUNICORN_WORKER_CLASS is `asgi`
# (Gunicorn's own asyncio worker, new in Gunicorn 24 as a beta) or `uvicorn_worker.UvicornWorker` (Uvicorn's
# event loop and HTTP parser inside Gunicorn's worker management). Used by the comparison harness
# (make compare); takes the same variables as deploy/start-asgi.sh.
#
# Each worker runs one event loop that interleaves many connections, so one worker per core.
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
workers="${WEB_CONCURRENCY:-$(nproc)}"
# Prometheus' client keeps each worker's numbers in files in this directory, and /metrics adds them
# up (metrics/instruments.py). One directory per server, never shared with another; emptied here at
# every start, because the files of a previous run would be counted again.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/myproject-metrics-asgi-${ASGI_PORT:-8002}}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
# --asgi-lifespan off: the application is Channels' ProtocolTypeRouter (myproject/asgi.py), which
# has no `lifespan` route and raises on that scope, so the worker is told not to send it.
# --websocket-max-message-size: as deploy/start-asgi.sh's --ws-max-size (the reasoning is there).
# Gunicorn's default is 16 MB, held in memory until a message's last fragment arrives.
# No option bounds what the asgi worker writes back: it answers each ping with a pong whether or not
# the client reads, so one client that sends pings and never reads grows a worker without end
# (32 MB in 10 s, docs/reliability.md). The project starts this server only for `make compare`,
# which measures HTTP probes on loopback; serve WebSockets to the internet with deploy/start-asgi.sh.
# --config python:metrics.gunicorn_hooks: Gunicorn's child_exit hook, which forgets a dead worker's
# gauges in /metrics.
# --forwarded-allow-ips: X-Forwarded-Proto and -For are believed only from these addresses, the
# proxy in front (docker-compose.yml names nginx's). Empty by default: a server reached directly
# trusts nobody, or any client could claim HTTPS or another address.
exec gunicorn myproject.asgi:application \
    --config python:metrics.gunicorn_hooks \
    --bind "${HOST:-127.0.0.1}:${ASGI_PORT:-8002}" \
    --workers "$workers" \
    --worker-class "${GUNICORN_WORKER_CLASS:-asgi}" \
    --asgi-lifespan off \
    --websocket-max-message-size "${WS_MAX_SIZE:-32768}" \
    --graceful-timeout "${GRACEFUL_TIMEOUT:-30}" \
    --access-logfile - \
    --no-control-socket \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-}"
