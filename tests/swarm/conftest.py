"""The swarm tests need what the compose tests need (a Docker engine, the stand-in images where
nothing can be pulled) and an engine in swarm mode, which they set up if it is not."""

from collections.abc import Iterator

import pytest

from tests.compose.project import build_missing_stand_ins, docker_answers
from tests.conftest import skip_unless
from tests.swarm.stack import SwarmStack, build_image, ensure_swarm


@pytest.fixture(scope="session")
def swarm_engine() -> None:
    skip_unless(
        docker_answers(),
        "no Docker engine with Compose v2 answers (as root: deploy/docker/engine.sh sets one up)",
    )
    build_missing_stand_ins()
    # Left in swarm mode afterwards: a swarm changes nothing for `docker compose`.
    ensure_swarm()


@pytest.fixture(scope="module")
def swarm_stack(swarm_engine, server_logs) -> Iterator[SwarmStack]:
    """deploy/swarm/stack.yml deployed from a fresh build of the project's image."""
    seconds = build_image()
    print(f"\nimage built in {seconds:.0f} s")
    stack = SwarmStack(server_logs)
    try:
        stack.deploy()
        stack.wait_until_ready()
        yield stack
    finally:
        stack.remove()
