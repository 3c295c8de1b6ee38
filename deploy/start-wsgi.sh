#!/bin/sh
# The WSGI stack: Gunicorn with sync workers serving myproject.wsgi:application.
# Used as-is by `make run`, docker-compose.yml and the tests.
#
# A sync worker handles one request at a time and blocks while it waits, so Gunicorn's rule of
# thumb is 2 x cores + 1 workers: enough to keep every core busy while some workers wait on I/O.
# It also blocks while a slow client trickles its request in, and Gunicorn has no timeout for
# reading one: a handful of slow clients hold every worker. In production this stack must sit
# behind a buffering proxy such as the project's nginx (docs/reliability.md).
set -eu
cd "$(dirname "$0")/.."
# Refuse a configuration the settings reject with its one-line message, before the server imports
# the application in each worker and reports it as a traceback (myproject/preflight.py).
python -m myproject.preflight wsgi
workers="${WEB_CONCURRENCY:-$((2 * $(nproc) + 1))}"
# Prometheus' client keeps each worker's numbers in files in this directory, and /metrics adds them
# up (metrics/instruments.py). One directory per server, never shared with another; emptied here at
# every start, because the files of a previous run would be counted again.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/myproject-metrics-wsgi-${WSGI_PORT:-8001}}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
# --worker-class: the sync worker, changed to serve the connections the kernel had already
# accepted before a graceful stop, instead of resetting them, and to tell the application how many
# requests it holds at once, for the race page (myproject/gunicorn_worker.py).
# --no-control-socket: Gunicorn 27's control socket (for `gunicornc`) sits at one path per user,
# so several Gunicorns on one machine (make run, the tests, the comparison harness) would share it.
# --timeout: a sync worker tells the arbiter it is alive only between requests, so a response that
# takes longer than this (a streamed CSV export of a million rows takes ~20 s here) is killed
# halfway. Gunicorn's default of 30 s is too close; an async server has no such limit.
# --graceful-timeout: on SIGTERM, how long workers may take to finish what they accepted before
# they are killed. Docker's stop_grace_period (or any supervisor's) must be longer.
# --limit-request-*: Gunicorn's own defaults, written out because they are the stack's only
# defence against oversized request heads: a 4 KB request line, 100 header fields of 8 KB each.
# --config python:metrics.gunicorn_hooks: Gunicorn's child_exit hook, which forgets a dead worker's
# gauges in /metrics.
# exec: Gunicorn replaces this shell, so SIGTERM/SIGINT from honcho or Docker reach it directly.
# --forwarded-allow-ips: X-Forwarded-Proto and -For are believed only from these addresses, the
# proxy in front (docker-compose.yml names nginx's). Empty by default: a server reached directly
# trusts nobody, or any client could claim HTTPS or another address.
exec gunicorn myproject.wsgi:application \
    --config python:metrics.gunicorn_hooks \
    --bind "${HOST:-127.0.0.1}:${WSGI_PORT:-8001}" \
    --workers "$workers" \
    --worker-class "${GUNICORN_WORKER_CLASS:-myproject.gunicorn_worker.DrainingSyncWorker}" \
    --timeout "${GUNICORN_TIMEOUT:-120}" \
    --graceful-timeout "${GRACEFUL_TIMEOUT:-30}" \
    --limit-request-line 4094 \
    --limit-request-fields 100 \
    --limit-request-field_size 8190 \
    --access-logfile - \
    --no-control-socket \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-}"
