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
# --ws-max-size: refuse (close with 1009) WebSocket messages larger than a chat message could ever
# need, instead of buffering whatever a client sends. The largest valid one is 2000 characters,
# each escaped by the client's JSON encoder as a \uXXXX surrogate pair (12 bytes): about 24 KB.
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
    --ws-max-size "${WS_MAX_SIZE:-32768}" \
    "$@"
