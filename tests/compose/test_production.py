"""Production mode: `docker compose up` with an .env made from .env.example (debug off, a real
secret, HTTPS settings). Django's deployment checks pass inside the container, plain HTTP is sent
to HTTPS, and the demo accounts, whose password is published, do not exist."""

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from testbed.processes import ROOT
from tests.compose.project import ComposeProject

pytestmark = [pytest.mark.compose, pytest.mark.timeout(1200)]


def production_env_file(folder: Path, **changed: str) -> Path:
    """.env.example with the blanks a deployer fills in: the secrets, and this machine's name."""
    filled = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        **changed,
    }
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.partition("=")[0]
        lines.append(f"{name}={filled[name]}" if name in filled else line)
    env_file = folder / ".env"
    env_file.write_text("\n".join(lines) + "\n")
    return env_file


@pytest.fixture(scope="module")
def production_project(docker_engine, server_logs, tmp_path_factory) -> Iterator[ComposeProject]:
    project = ComposeProject(server_logs, env_file=production_env_file(tmp_path_factory.mktemp("prod")))
    try:
        project.compose("up", "--build", "--wait", "--detach", timeout=900)
        yield project
    finally:
        project.down()


@pytest.mark.parametrize("service", ["wsgi", "asgi"])
def test_django_deployment_checks_pass_inside_each_stack(production_project, service):
    result = production_project.run_in(
        service, "python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_demo_accounts_are_not_created(production_project):
    result = production_project.run_in(
        "wsgi",
        "python",
        "manage.py",
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth.models import User; print(User.objects.count())",
    )

    assert result.stdout.strip() == "0", result.stderr


def test_plain_http_through_nginx_is_redirected_to_https(production_project):
    response = requests.get(f"{production_project.url}/reports/", allow_redirects=False, timeout=10)

    assert response.status_code == 301
    assert response.headers["Location"] == f"https://127.0.0.1:{production_project.nginx_port}/reports/"


def test_a_direct_client_claiming_https_is_still_redirected(production_project):
    (wsgi_port,) = production_project.ports("wsgi", 8001)

    response = requests.get(
        f"http://127.0.0.1:{wsgi_port}/reports/",
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
        timeout=10,
    )

    assert response.status_code == 301


def test_the_health_probes_answer_over_plain_http_for_the_orchestrator(production_project):
    response = requests.get(f"{production_project.url}/readyz", allow_redirects=False, timeout=10)

    assert response.status_code == 200


# Static files --------------------------------------------------------------------------------------
# Pages and files fetched through nginx over plain HTTP, which DJANGO_HTTPS=1 would redirect: the
# same production .env with HTTPS off (TLS would end in front of nginx).

# A link a page renders to a hashed name: collectstatic's 12 hex digits before the extension.
HASHED_LINK = re.compile(r'"(/static/[^"]+\.[0-9a-f]{12}\.(css|js))"')
CONTENT_TYPES = {"css": "text/css", "js": "text/javascript"}


@pytest.fixture(scope="module")
def production_over_http(docker_engine, server_logs, tmp_path_factory) -> Iterator[ComposeProject]:
    env_file = production_env_file(tmp_path_factory.mktemp("prod-http"), DJANGO_HTTPS="0")
    project = ComposeProject(server_logs, env_file=env_file)
    try:
        project.up()
        yield project
    finally:
        project.down()


@pytest.mark.parametrize(("page", "interface"), [("/reports/", "wsgi"), ("/chat/", "asgi")])
def test_the_hashed_files_a_page_links_to_are_cached_for_ever_through_nginx(
    production_over_http, page, interface
):
    response = requests.get(f"{production_over_http.url}{page}", timeout=10)
    links = HASHED_LINK.findall(response.text)

    assert response.headers["X-Interface"] == interface
    assert links, response.text
    for link, extension in links:
        static = requests.get(f"{production_over_http.url}{link}", timeout=10)
        assert static.status_code == 200, link
        assert static.headers["Cache-Control"] == "max-age=315360000, public, immutable", link
        assert static.headers["Content-Type"].startswith(CONTENT_TYPES[extension]), link


def test_a_static_file_that_was_never_collected_is_not_found_through_nginx(production_over_http):
    response = requests.get(f"{production_over_http.url}/static/css/site.0123456789ab.css", timeout=10)

    assert response.status_code == 404
