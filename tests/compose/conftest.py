"""The compose tests need a Docker engine with Compose v2 (.ci/run sets one up with
deploy/docker/engine.sh) and the images docker-compose.yml names, built as local stand-ins when
they cannot be pulled."""

from collections.abc import Iterator

import pytest

from tests.compose.project import ComposeProject, build_missing_stand_ins, docker_answers
from tests.conftest import skip_unless


@pytest.fixture(scope="session")
def docker_engine() -> None:
    skip_unless(
        docker_answers(),
        "no Docker engine with Compose v2 answers (as root: deploy/docker/engine.sh sets one up)",
    )
    build_missing_stand_ins()


@pytest.fixture(scope="module")
def dev_project(docker_engine, server_logs) -> Iterator[ComposeProject]:
    """`docker compose up` as a new user runs it: no .env, no variable but free host ports."""
    project = ComposeProject(server_logs)
    try:
        project.up()
        yield project
    finally:
        project.down()
