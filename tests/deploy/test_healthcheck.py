"""The containers' health check (deploy/healthcheck.py), against a real Gunicorn that names its own
site in DJANGO_ALLOWED_HOSTS, as a production deployment does."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.healthcheck import host_to_ask
from testbed.environment import base_environment
from testbed.processes import free_port
from testbed.web import WebServer, gunicorn_server

SITE = "shop.example.com"
SCRIPT = str(Path(__file__).resolve().parents[2] / "deploy" / "healthcheck.py")


@pytest.mark.parametrize(
    ("allowed_hosts", "asked"),
    [
        ("localhost,127.0.0.1", "localhost"),
        ("shop.example.com,www.example.com", "shop.example.com"),
        (" .example.com", "example.com"),  # the domain and its subdomains
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_the_check_asks_for_a_host_the_site_allows(allowed_hosts, asked):
    assert host_to_ask(allowed_hosts) == asked


def run_check(port: int, allowed_hosts: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, SCRIPT, str(port)],
        env={"DJANGO_ALLOWED_HOSTS": allowed_hosts},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def production_site(live_database, shared_redis_url, server_logs) -> Iterator[WebServer]:
    env = base_environment(
        DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url, DJANGO_ALLOWED_HOSTS=SITE
    )
    server = gunicorn_server(env, server_logs, workers=1)
    server.launch()  # not start(): its readiness probe asks for 127.0.0.1, which this site refuses
    try:
        deadline = time.monotonic() + 60
        while run_check(server.port, SITE).returncode != 0:
            assert server.running(), server.log_tail()
            assert time.monotonic() < deadline, server.log_tail()
            time.sleep(0.3)
        yield server
    finally:
        server.stop()


@pytest.mark.live
def test_a_site_that_names_its_own_host_is_healthy(production_site):
    assert run_check(production_site.port, SITE).returncode == 0
    # What the check asked before: 127.0.0.1, which the site refuses, so the container never
    # became healthy and nginx never started.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{production_site.url}/healthz", timeout=10)
    refused.value.close()
    assert refused.value.code == 400


@pytest.mark.live
def test_a_server_that_does_not_answer_is_unhealthy_and_says_why():
    result = run_check(free_port(), SITE)
    assert result.returncode == 1
    assert "/healthz did not answer" in result.stderr


def test_a_missing_port_is_a_usage_error():
    result = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "usage" in result.stderr
