#!/bin/sh
# The official image's Redis is built with protected mode off, so other containers reach it
# without a password; Debian's is not, so this stand-in turns it off at start.
set -e
if [ "$1" = redis-server ]; then
    shift
    exec redis-server "$@" --protected-mode no
fi
exec "$@"
