#!/usr/bin/env bash
# Stand-in images for machines that cannot pull from a registry (this project's CI and test
# machines). A normal machine never needs this: `docker compose up` pulls the official images.
#
# Each image that docker-compose.yml and the Dockerfile name is built here from Debian's own
# packages, tagged with the official name, and only when that name is missing locally:
#   debian:bookworm-slim  debootstrap --variant=minbase, imported with `docker import`
#   python:3.11-slim      Debian's python3 in a virtualenv on PATH, trusting this machine's CAs
#   postgres:16           Debian's PostgreSQL 15, honouring POSTGRES_DB and POSTGRES_PASSWORD
#   redis:7               Debian's redis-server
#   nginx:1.27-alpine     Debian's nginx, rendering /etc/nginx/templates/*.template at start
#   prom/prometheus:v2.53.0  Debian's Prometheus 2.42 (docker-compose.yml's `metrics` profile)
# They behave like the official images as far as this project uses them, no further. About three
# minutes the first time; `docker image rm` one to rebuild it.
set -euo pipefail
cd "$(dirname "$0")/stand-ins"

have() { docker image inspect "$1" >/dev/null 2>&1; }

if ! have debian:bookworm-slim; then
    echo "Building the stand-in debian:bookworm-slim with debootstrap"
    root="$(mktemp -d)"
    trap 'rm -rf "$root"' EXIT
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | docker import - debian:bookworm-slim
fi

# pip inside `docker build` reaches PyPI only if the CAs this machine trusts (an egress proxy's,
# for one) are trusted in the image too.
mkdir -p python/ca
rm -f python/ca/*.crt
cp /usr/local/share/ca-certificates/*.crt python/ca/ 2>/dev/null || true

for image in python:3.11-slim postgres:16 redis:7 nginx:1.27-alpine prom/prometheus:v2.53.0; do
    if ! have "$image"; then
        echo "Building the stand-in $image"
        # The folder is the image's name without its tag and its registry namespace.
        folder="${image%%:*}"
        docker build --quiet --tag "$image" "${folder##*/}"
    fi
done
