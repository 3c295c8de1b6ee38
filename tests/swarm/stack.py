"""deploy/swarm/stack.yml on a real single-node Docker Swarm, driven through the docker CLI: build
the image, deploy, wait, update, kill a replica, remove."""

from __future__ import annotations

import os
import random
import subprocess
import time
import uuid
from pathlib import Path

import requests

from testbed.processes import ROOT
from tests.compose.project import PASSED_VARIABLES, free_port_range

STACK_FILE = ROOT / "deploy" / "swarm" / "stack.yml"
# A tag of the tests' own: `docker stack deploy` never builds, and the compose tests' image stays theirs.
IMAGE = "swarm-django-wsgi-asgi-reference:test"


def run(*command: str, timeout: float = 120, check: bool = True, env: dict | None = None):
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def swarm_is_active() -> bool:
    return run("docker", "info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip() == "active"


def ensure_swarm() -> None:
    """A single-node swarm; 127.0.0.1 because nothing joins it from elsewhere."""
    if not swarm_is_active():
        run("docker", "swarm", "init", "--advertise-addr", "127.0.0.1")


def build_image() -> float:
    """The project's image from its Dockerfile; seconds taken (a few once the layers are cached)."""
    started = time.monotonic()
    run("docker", "build", "--quiet", "--tag", IMAGE, str(ROOT), timeout=900)
    return time.monotonic() - started


class SwarmStack:
    def __init__(self, log_dir: Path):
        self.name = f"swarmtest-{uuid.uuid4().hex[:8]}"
        self.log_dir = log_dir
        self.port = int(free_port_range(1).split("-")[0])
        # An edge subnet of its own, away from Swarm's default pool (10.0.x.0/24 upwards).
        self.edge_subnet = f"10.{random.randrange(100, 250)}.{random.randrange(0, 256)}.0/24"
        self.variables = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
        self.variables.update(
            DJANGO_IMAGE=IMAGE, NGINX_HOST_PORT=str(self.port), EDGE_SUBNET=self.edge_subnet
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def service(self, name: str) -> str:
        return f"{self.name}_{name}"

    def deploy(self) -> None:
        run(
            "docker",
            "stack",
            "deploy",
            "--resolve-image",
            "never",  # no registry to ask: the images are local
            "--compose-file",
            str(STACK_FILE),
            self.name,
            env=self.variables,
        )

    def replicas(self) -> dict[str, str]:
        """Each service's REPLICAS column, e.g. {"wsgi": "2/2", "migrate": "0/1 (1/1 completed)"}."""
        lines = run(
            "docker",
            "service",
            "ls",
            "--filter",
            f"label=com.docker.stack.namespace={self.name}",
            "--format",
            "{{.Name}}\t{{.Replicas}}",
        ).stdout.splitlines()
        return {
            name.removeprefix(f"{self.name}_"): value for name, value in (line.split("\t") for line in lines)
        }

    def wait_until_ready(self, timeout: float = 300) -> None:
        """Every service at its replica count, the migration job complete, /readyz green through nginx."""
        deadline = time.monotonic() + timeout
        while True:
            replicas = self.replicas()
            settled = bool(replicas) and all(
                "(1/1 completed)" in value if name == "migrate" else _full(value)
                for name, value in replicas.items()
            )
            if settled and _answers(f"{self.url}/readyz"):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not settle within {timeout} s: {replicas}\n{self.logs()}")
            time.sleep(2)

    def containers(self, service: str, healthy: bool = False) -> set[str]:
        """The IDs of the service's running containers (only those whose health check passes)."""
        filters = ["--filter", f"label=com.docker.swarm.service.name={self.service(service)}"]
        if healthy:
            filters += ["--filter", "health=healthy"]
        return set(run("docker", "ps", "--quiet", "--no-trunc", *filters).stdout.split())

    def update(self, service: str, replicas: int, timeout: float = 300) -> set[str]:
        """A rolling restart with the service's own update_config: `--detach=false` returns once the
        update has converged (and fails if Swarm rolled it back); then wait for the replaced
        containers to finish their graceful stop. The containers running at the end."""
        command = ("docker", "service", "update", "--force", "--detach=false", "--quiet")
        run(*command, self.service(service), timeout=timeout)
        return self.wait_for_replicas(service, replicas)

    def wait_for_replicas(self, service: str, replicas: int, timeout: float = 120) -> set[str]:
        """Wait until exactly `replicas` containers of the service run, every one healthy."""
        deadline = time.monotonic() + timeout
        while True:
            running = self.containers(service)
            if len(running) == replicas and self.containers(service, healthy=True) == running:
                return running
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service} did not settle at {replicas} healthy replicas in {timeout} s")
            time.sleep(1)

    def kill_one(self, service: str) -> str:
        """SIGKILL one replica's container, as a crash or the kernel's OOM killer would."""
        victim = sorted(self.containers(service))[0]
        run("docker", "kill", victim)
        return victim

    def wait_for_replacement(self, service: str, gone: str, replicas: int, timeout: float = 120) -> set[str]:
        """Wait until Swarm has replaced the container `gone`: `replicas` healthy ones, without it."""
        deadline = time.monotonic() + timeout
        while True:
            running = self.wait_for_replicas(service, replicas, timeout)
            if gone not in running:
                return running
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service}: {gone[:12]} was not replaced in {timeout} s")
            time.sleep(1)

    def logs(self, *services: str) -> str:
        """The last lines of every container of the stack (or of `services`), stopped ones included:
        read container by container, since `docker service logs` goes through the managers and
        takes minutes for a busy service."""
        label = f"label=com.docker.stack.namespace={self.name}"
        containers = run("docker", "ps", "--all", "--quiet", "--filter", label).stdout.split()
        parts = []
        for container in containers:
            name = run("docker", "inspect", "--format", "{{.Name}}", container, check=False).stdout.strip()
            if services and not any(name.startswith(f"/{self.service(service)}.") for service in services):
                continue
            result = run("docker", "logs", "--tail", "500", container, check=False, timeout=60)
            parts.append(f"==== {name}\n{result.stdout}{result.stderr}")
        return "\n".join(parts)[-50000:]

    def remove(self) -> None:
        """Remove the stack, its containers, networks, config and volume, whatever state it is in;
        the logs are kept beside the other servers' logs first."""
        try:
            (self.log_dir / f"{self.name}.log").write_text(self.logs())
        finally:
            self._remove()

    def _remove(self) -> None:
        run("docker", "stack", "rm", self.name, check=False)
        label = f"label=com.docker.stack.namespace={self.name}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            # Swarm removes its services' containers, but leaves a finished job's (the migration).
            exited = run("docker", "ps", "--all", "--quiet", "--filter", label, "--filter", "status=exited")
            if exited.stdout.split():
                run("docker", "rm", *exited.stdout.split(), check=False)
            containers = run("docker", "ps", "--all", "--quiet", "--filter", label).stdout.split()
            networks = run("docker", "network", "ls", "--quiet", "--filter", label).stdout.split()
            if not containers and not networks:
                break
            time.sleep(1)
        run("docker", "volume", "rm", f"{self.name}_pgdata", check=False)


def _full(replicas: str) -> bool:
    running, wanted = replicas.split()[0].split("/")
    return running == wanted and wanted != "0"


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False
