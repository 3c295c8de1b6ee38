#!/bin/sh
# The ASGI stack: Uvicorn serving myproject.asgi:application (HTTP and WebSockets).
# Used as-is by `make run`, the Procfile's web process, docker-compose.yml and the tests.
#
# One process runs one event loop that interleaves many connections, so one worker per core
# is enough; more would only compete for the same cores.
set -eu
cd "$(dirname "$0")/.."
# Refuse a configuration the settings reject with its one-line message, before the server imports
# the application in each worker and reports it as a traceback (myproject/preflight.py).
python -m myproject.preflight asgi
workers="${WEB_CONCURRENCY:-$(nproc)}"
# Prometheus' client keeps each worker's numbers in files in this directory, and /metrics adds them
# up (metrics/instruments.py). One directory per server, never shared with another; emptied here at
# every start, because the files of a previous run would be counted again.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/myproject-metrics-asgi-${ASGI_PORT:-8002}}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
# --lifespan off: the application is Channels' ProtocolTypeRouter (myproject/asgi.py), which has no
# `lifespan` route and raises on that scope, so Uvicorn is told not to send it.
# --ws-max-size: refuse (close with 1009) WebSocket messages larger than a chat message could ever
# need, instead of buffering whatever a client sends. The largest valid one is 2000 characters,
# each escaped by the client's JSON encoder as a \uXXXX surrogate pair (12 bytes): about 24 KB.
# --ws websockets: the WebSocket implementation that pushes back. Uvicorn 0.54's default (`auto`, its
# websockets-sansio protocol) answers every ping with a pong written to the socket whether or not
# the client reads: one client sending pings and never reading grew a worker by 120 MB in 10 s
# (docs/reliability.md, `make hostile`). `websockets` (the websockets library's own protocol) waits
# until each pong is sent before it reads the next frame, and queues at most --ws-max-queue (32)
# messages for the application before it stops reading: TCP then slows the client down, and a
# worker grows by under 2 MB whatever frames arrive. Uvicorn prints a deprecation warning for it at
# start, and says `--ws websockets` will point at websockets-sansio in a future release: the
# real-server test (tests/deploy/test_frame_floods.py) fails the day an upgrade does that.
# UVICORN_WS picks another implementation, for comparison.
# --timeout-graceful-shutdown: on SIGTERM Uvicorn stops accepting, lets running requests finish,
# and cancels what is still running after this many seconds. Without it, one client reading a CSV
# export slowly (or never) would keep the process alive forever.
# --timeout-keep-alive: Uvicorn's default, written out: an idle keep-alive connection is closed
# after 5 s. Uvicorn has no timeout for reading a request's head and, with httptools (the parser
# `auto` picks, installed by uvicorn[standard]), no limit on its size: a 1 MiB head is served.
# --h11-max-incomplete-event-size applies only with UVICORN_HTTP=h11 (the pure-Python parser, which
# costs throughput), and only to a head still incomplete past 16 KB: a bigger one that arrives
# whole still gets through. Behind the project's nginx none of this matters: nginx reads the whole
# request first and refuses a header line over 8 KB.
# Proxy headers: X-Forwarded-Proto and -For are believed only from FORWARDED_ALLOW_IPS, the proxy in
# front (docker-compose.yml names nginx's). Unset, nobody is: a server reached directly must not let
# a client claim HTTPS or another address (Uvicorn's own default trusts every loopback client).
if [ -n "${FORWARDED_ALLOW_IPS:-}" ]; then
    set -- --proxy-headers --forwarded-allow-ips "$FORWARDED_ALLOW_IPS"
else
    set -- --no-proxy-headers
fi
exec uvicorn myproject.asgi:application \
    --host "${HOST:-127.0.0.1}" \
    --port "${ASGI_PORT:-8002}" \
    --workers "$workers" \
    --lifespan off \
    --ws "${UVICORN_WS:-websockets}" \
    --ws-max-size "${WS_MAX_SIZE:-32768}" \
    --timeout-graceful-shutdown "${GRACEFUL_TIMEOUT:-30}" \
    --timeout-keep-alive 5 \
    --http "${UVICORN_HTTP:-auto}" \
    --h11-max-incomplete-event-size 16384 \
    "$@"
