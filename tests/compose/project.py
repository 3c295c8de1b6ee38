"""A Compose project of this repository's docker-compose.yml, driven through the real `docker
compose` CLI: up, stop, down, ports, logs, commands inside a container."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import requests

from testbed.processes import ROOT

STAND_IN_SCRIPT = ROOT / "deploy" / "docker" / "build-stand-ins.sh"
# The images docker-compose.yml and the Dockerfile name, which build-stand-ins.sh stands in for.
BASE_IMAGES = ("python:3.11-slim", "postgres:16", "redis:7", "nginx:1.27-alpine", "prom/prometheus:v2.53.0")
# What `docker compose` needs from this process's environment; nothing else passes, so the project
# runs as it would for a user who set no variable (no DJANGO_*, DATABASE_URL or REDIS_URL).
PASSED_VARIABLES = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT")
# nginx's port and the stacks' ranges, as in docker-compose.yml (8000-8009).
SPARE_PORTS = 10


def docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    checks = (["docker", "info"], ["docker", "compose", "version"])
    return all(subprocess.run(c, capture_output=True, timeout=30).returncode == 0 for c in checks)


def build_missing_stand_ins() -> None:
    """Machines that cannot pull images get local stand-ins (deploy/docker/build-stand-ins.sh)."""
    missing = [
        image
        for image in BASE_IMAGES
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0
    ]
    if missing:
        subprocess.run([str(STAND_IN_SCRIPT)], check=True, timeout=900)


def free_port_range(size: int) -> str:
    """`first-last` of `size` consecutive free loopback ports, below the kernel's ephemeral range.

    Docker binds a published port only when a container starts (again after a restart), and fails
    if something else took it meanwhile. Ports the kernel hands out (other tests' servers,
    outgoing connections) come from the ephemeral range, so ports below it stay free."""
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    high = ephemeral_low - size if ephemeral_low - size > 10000 else 65536 - size
    for _ in range(200):
        first = random.randrange(10000, high)
        if all(_port_is_free(port) for port in range(first, first + size)):
            return f"{first}-{first + size - 1}"
    raise RuntimeError(f"no {size} consecutive free ports")


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class ComposeProject:
    def __init__(self, log_dir: Path, env_file: Path | None = None):
        self.name = f"wsgiasgi-{uuid.uuid4().hex[:8]}"
        self.log_dir = log_dir
        self.env_file = env_file
        self.variables = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
        # Host ports laid out as docker-compose.yml's defaults are (8000, then ranges from 8001 and
        # 8002 to 8009), shifted to free ones.
        first = int(free_port_range(SPARE_PORTS).split("-")[0])
        last = first + SPARE_PORTS - 1
        self.nginx_port = first
        self.first_ports = {"wsgi": first + 1, "asgi": first + 2}
        self.variables.update(
            NGINX_HOST_PORT=str(first),
            WSGI_HOST_PORT=f"{first + 1}-{last}",
            ASGI_HOST_PORT=f"{first + 2}-{last}",
        )
        # A network of its own, so that a project a developer runs alongside does not collide
        # with this one (docker-compose.yml fixes nginx's address, which the stacks trust).
        subnet = random.randrange(81, 255)
        self.nginx_address = f"172.29.{subnet}.80"
        self.variables.update(COMPOSE_SUBNET=f"172.29.{subnet}.0/24", NGINX_ADDRESS=self.nginx_address)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    def compose(
        self, *arguments: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess:
        command = ["docker", "compose", "--project-name", self.name, "--project-directory", str(ROOT)]
        if self.env_file is not None:
            command += ["--env-file", str(self.env_file)]
        result = subprocess.run(
            [*command, *arguments], env=self.variables, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"docker compose {' '.join(arguments)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{self.logs()}"
            )
        return result

    def up(self, *arguments: str) -> None:
        self.compose("up", "--build", "--wait", "--detach", *arguments, timeout=900)
        self.wait_for_nginx()

    def wait_for_nginx(self, timeout: float = 60) -> None:
        # nginx has no health check of its own: it is up once it answers for a stack.
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not answer /readyz within {timeout} s\n{self.logs()}")
            time.sleep(0.5)

    def ports(self, service: str, container_port: int) -> list[int]:
        """The host port of every replica of `service`."""
        ports = []
        replicas = len(self.compose("ps", "--quiet", service).stdout.split())
        for index in range(1, replicas + 1):
            address = self.compose("port", "--index", str(index), service, str(container_port)).stdout
            ports.append(int(address.strip().rsplit(":", 1)[1]))
        return ports

    def run_in(self, service: str, *command: str) -> subprocess.CompletedProcess:
        return self.compose("exec", "-T", service, *command, check=False)

    def logs(self, *services: str) -> str:
        result = subprocess.run(
            [
                "docker",
                "compose",
                "--project-name",
                self.name,
                "--project-directory",
                str(ROOT),
                "logs",
                "--no-color",
                *services,
            ],
            env=self.variables,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout[-20000:]

    def down(self) -> None:
        """Remove the containers, the network and the volumes, whatever state they are in; the
        logs are kept beside the other servers' logs first."""
        (self.log_dir / f"{self.name}.log").write_text(self.logs())
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "10", timeout=300, check=False)
