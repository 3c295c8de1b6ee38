"""Whom the stacks believe about the client's scheme: X-Forwarded-Proto counts only from the
addresses in FORWARDED_ALLOW_IPS (deploy/start-*.sh), and nginx overwrites whatever a client sent.

The probe: a login POST whose Origin is https://host. Django's CSRF check compares the Origin with
the scheme the request arrived on, so it passes (200: the form again, wrong password) only when the
server believed the request came over HTTPS, and is refused (403) otherwise."""

from collections.abc import Iterator

import pytest
import requests

from testbed.environment import base_environment
from testbed.login import csrf_token
from testbed.nginx import NGINX_BINARY, NginxServer
from tests.conftest import Stacks, skip_unless, start_stacks

pytestmark = pytest.mark.live


def login_post_claiming_https(base_url: str) -> requests.Response:
    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login/", timeout=10)
    token = csrf_token(page.text)
    https_origin = base_url.replace("http://", "https://")
    return session.post(
        f"{base_url}/accounts/login/",
        data={"username": "alice", "password": "not-her-password", "csrfmiddlewaretoken": token},
        headers={"X-Forwarded-Proto": "https", "Origin": https_origin},
        timeout=10,
    )


@pytest.fixture(scope="module")
def stacks_trusting_loopback(live_database, shared_redis_url, server_logs) -> Iterator[Stacks]:
    """Both stacks told that a proxy on 127.0.0.1 sits in front of them."""
    env = base_environment(
        DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url, FORWARDED_ALLOW_IPS="127.0.0.1"
    )
    stacks = start_stacks(env, server_logs)
    yield stacks
    stacks.wsgi.stop()
    stacks.asgi.stop()


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_a_client_reaching_a_stack_started_as_make_run_does_cannot_claim_https(live_stacks, stack):
    assert "FORWARDED_ALLOW_IPS" not in live_stacks.env

    response = login_post_claiming_https(getattr(live_stacks, stack).url)

    assert response.status_code == 403


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_a_stack_believes_x_forwarded_proto_from_a_declared_proxy_address(stacks_trusting_loopback, stack):
    response = login_post_claiming_https(getattr(stacks_trusting_loopback, stack).url)

    assert response.status_code == 200


def test_nginx_replaces_a_clients_x_forwarded_proto_with_the_real_scheme(
    stacks_trusting_loopback, server_logs
):
    skip_unless(NGINX_BINARY is not None, "nginx is not installed (apt-get install nginx-light)")
    nginx = NginxServer(stacks_trusting_loopback.wsgi.url, stacks_trusting_loopback.asgi.url, server_logs)
    nginx.start()
    try:
        response = login_post_claiming_https(nginx.url)
    finally:
        nginx.stop()

    assert response.headers["X-Interface"] == "wsgi"
    assert response.status_code == 403
