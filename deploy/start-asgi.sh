#!/bin/sh
# The ASGI stack: Uvicorn serving myproject.asgi:application (HTTP and WebSockets).
# Used as-is by `make run`, the Procfile's web process, docker-compose.yml and the tests.
#
# One process runs one event loop that interleaves many connections, so one worker per core
# is enough; more would only compete for the same cores.
set -eu
cd "$(dirname "$0")/.."
workers="${WEB_CONCURRENCY:-$(nproc)}"
# --lifespan off: Django's ASGI handler does not implement the lifespan protocol.
# --ws-max-size: refuse WebSocket frames larger than a chat message could ever need (2000
# characters of JSON, at most 4 bytes each) instead of buffering whatever a client sends.
exec uvicorn myproject.asgi:application \
    --host "${HOST:-127.0.0.1}" \
    --port "${ASGI_PORT:-8002}" \
    --workers "$workers" \
    --lifespan off \
    --ws-max-size "${WS_MAX_SIZE:-65536}" \
    --proxy-headers \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
