#!/bin/sh
# The WSGI stack: Gunicorn with sync workers serving myproject.wsgi:application.
# Used as-is by `make run`, docker-compose.yml and the tests.
#
# A sync worker handles one request at a time and blocks while it waits, so Gunicorn's rule of
# thumb is 2 x cores + 1 workers: enough to keep every core busy while some workers wait on I/O.
set -eu
cd "$(dirname "$0")/.."
workers="${WEB_CONCURRENCY:-$((2 * $(nproc) + 1))}"
# --no-control-socket: Gunicorn 27's control socket (for `gunicornc`) sits at one path per user,
# so several Gunicorns on one machine (make run, the tests, the comparison harness) would share it.
# --timeout: a sync worker tells the arbiter it is alive only between requests, so a response that
# takes longer than this (a streamed CSV export of a million rows takes ~20 s here) is killed
# halfway. Gunicorn's default of 30 s is too close; an async server has no such limit.
# exec: Gunicorn replaces this shell, so SIGTERM/SIGINT from honcho or Docker reach it directly.
# --forwarded-allow-ips: X-Forwarded-Proto and -For are believed only from these addresses, the
# proxy in front (docker-compose.yml names nginx's). Empty by default: a server reached directly
# trusts nobody, or any client could claim HTTPS or another address.
exec gunicorn myproject.wsgi:application \
    --bind "${HOST:-127.0.0.1}:${WSGI_PORT:-8001}" \
    --workers "$workers" \
    --worker-class "${GUNICORN_WORKER_CLASS:-sync}" \
    --timeout "${GUNICORN_TIMEOUT:-120}" \
    --access-logfile - \
    --no-control-socket \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-}"
