#!/bin/sh
# Gunicorn as the process manager of the ASGI application: GUNICORN_WORKER_CLASS is `asgi`
# (Gunicorn's own asyncio worker, new in Gunicorn 27) or `uvicorn_worker.UvicornWorker` (Uvicorn's
# event loop and HTTP parser inside Gunicorn's worker management). Used by the comparison harness
# (make compare); takes the same variables as deploy/start-asgi.sh.
#
# Each worker runs one event loop that interleaves many connections, so one worker per core.
set -eu
cd "$(dirname "$0")/.."
# Refuse a configuration the settings reject with its one-line message, before the server imports
# the application in each worker and reports it as a traceback (myproject/preflight.py).
python -m myproject.preflight asgi
workers="${WEB_CONCURRENCY:-$(nproc)}"
# --asgi-lifespan off: the application is Channels' ProtocolTypeRouter (myproject/asgi.py), which
# has no `lifespan` route and raises on that scope, so the worker is told not to send it.
# --websocket-max-message-size: as deploy/start-asgi.sh's --ws-max-size (the reasoning is there).
# Gunicorn's default is 16 MB, held in memory until a message's last fragment arrives.
# No option bounds what the asgi worker writes back: it answers each ping with a pong whether or not
# the client reads, so one client that sends pings and never reads grows a worker without end
# (32 MB in 10 s, docs/reliability.md). The project starts this server only for `make compare`,
# which measures HTTP probes on loopback; serve WebSockets to the internet with deploy/start-asgi.sh.
# --forwarded-allow-ips: X-Forwarded-Proto and -For are believed only from these addresses, the
# proxy in front (docker-compose.yml names nginx's). Empty by default: a server reached directly
# trusts nobody, or any client could claim HTTPS or another address.
exec gunicorn myproject.asgi:application \
    --bind "${HOST:-127.0.0.1}:${ASGI_PORT:-8002}" \
    --workers "$workers" \
    --worker-class "${GUNICORN_WORKER_CLASS:-asgi}" \
    --asgi-lifespan off \
    --websocket-max-message-size "${WS_MAX_SIZE:-32768}" \
    --graceful-timeout "${GRACEFUL_TIMEOUT:-30}" \
    --access-logfile - \
    --no-control-socket \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-}"
