#!/bin/sh
# Granian, a Rust HTTP server, serving the project over either interface: GRANIAN_INTERFACE=wsgi
# (myproject.wsgi, on WSGI_PORT) or asgi (myproject.asgi, on ASGI_PORT). The comparison harness
# (make compare) runs it as the outside challenger. Granian reads its other GRANIAN_* variables
# itself (GRANIAN_BLOCKING_THREADS: the threads that run WSGI requests, per worker).
set -eu
cd "$(dirname "$0")/.."
case "${GRANIAN_INTERFACE:-asgi}" in
    wsgi)
        port="${WSGI_PORT:-8001}"
        # Like Gunicorn's sync workers: a thread waits with its request, so more workers than cores.
        set -- myproject.wsgi:application --interface wsgi --port "$port" \
            --workers "${WEB_CONCURRENCY:-$((2 * $(nproc) + 1))}"
        ;;
    asgi)
        port="${ASGI_PORT:-8002}"
        # asginl: ASGI without the lifespan protocol: Channels' ProtocolTypeRouter (myproject/asgi.py)
        # has no `lifespan` route and raises on that scope.
        # WebSockets off unless GRANIAN_WEBSOCKETS=1 (Granian reads it itself): Granian has no
        # option that bounds what one client makes it hold. It answers each ping with a pong whether
        # or not the client reads, and has no message size limit: one client sending pings and never
        # reading grew it by 440 MB in 10 s (docs/reliability.md). The comparison harness races its
        # HTTP only; serve WebSockets with deploy/start-asgi.sh.
        export GRANIAN_WEBSOCKETS="${GRANIAN_WEBSOCKETS:-0}"
        set -- myproject.asgi:application --interface asginl --port "$port" \
            --workers "${WEB_CONCURRENCY:-$(nproc)}"
        ;;
    *)
        echo "GRANIAN_INTERFACE must be wsgi or asgi, not '${GRANIAN_INTERFACE}'." >&2
        exit 2
        ;;
esac
# Refuse a configuration the settings reject with its one-line message, before Granian imports
# the application in each worker and reports it as a traceback (myproject/preflight.py).
python -m myproject.preflight "${GRANIAN_INTERFACE:-asgi}"
# Prometheus' client keeps each worker's numbers in files in this directory, and /metrics adds them
# up (metrics/instruments.py). One directory per server, never shared with another; emptied here at
# every start, because the files of a previous run would be counted again.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/myproject-metrics-granian-$port}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
exec granian "$@" --host "${HOST:-127.0.0.1}" --access-log
