"""The visitor's address behind a trusted proxy: the WSGI wrapper (myproject/client_address.py)
in process, then both real stacks, where login lockouts (counted per username and address) show
which address each server believed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from demo.seeding import DEMO_PASSWORD
from myproject.client_address import ClientAddressFromTrustedProxy, forwarded_client, trusted_networks
from testbed.login import csrf_token
from tests.conftest import Stacks, isolated_stacks

PROXY = trusted_networks(["127.0.0.1", "10.0.0.0/8"])


def test_a_request_from_an_untrusted_peer_keeps_its_own_address_whatever_it_forwards():
    assert forwarded_client("198.51.100.7", "203.0.113.1", PROXY) == "198.51.100.7"


def test_a_request_from_the_proxy_gets_the_address_the_proxy_appended():
    assert forwarded_client("127.0.0.1", "203.0.113.1", PROXY) == "203.0.113.1"


def test_addresses_a_client_wrote_left_of_the_proxys_entry_are_not_believed():
    assert forwarded_client("127.0.0.1", "192.0.2.66, 203.0.113.1", PROXY) == "203.0.113.1"


def test_a_chain_of_trusted_proxies_is_walked_to_the_first_untrusted_address():
    assert forwarded_client("127.0.0.1", "203.0.113.1, 10.1.2.3", PROXY) == "203.0.113.1"


def test_a_request_from_the_proxy_without_the_header_keeps_the_proxys_address():
    assert forwarded_client("127.0.0.1", "", PROXY) == "127.0.0.1"


def test_trusting_everyone_is_refused():
    with pytest.raises(ValueError, match="not '\\*'"):
        trusted_networks(["*"])


def test_the_wrapper_rewrites_remote_addr_before_django_sees_it():
    seen: dict[str, str] = {}

    def application(environ, start_response):
        seen["REMOTE_ADDR"] = environ["REMOTE_ADDR"]
        return [b""]

    wrapped = ClientAddressFromTrustedProxy(application, ["127.0.0.1"])
    wrapped({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.1"}, lambda *args: None)

    assert seen["REMOTE_ADDR"] == "203.0.113.1"


# Live: real Gunicorn and Uvicorn, told that a proxy on 127.0.0.1 is in front of them.

FAILURE_LIMIT = 3


def start_throttled_stacks(tmp_path_factory, server_logs, **extra: str) -> Iterator[Stacks]:
    yield from isolated_stacks(
        tmp_path_factory.mktemp("client-address-db"),
        server_logs,
        AXES_FAILURE_LIMIT=str(FAILURE_LIMIT),
        **extra,
    )


@pytest.fixture(scope="module")
def stacks_behind_a_proxy(tmp_path_factory, server_logs) -> Iterator[Stacks]:
    yield from start_throttled_stacks(tmp_path_factory, server_logs, FORWARDED_ALLOW_IPS="127.0.0.1")


@pytest.fixture(scope="module")
def stacks_reached_directly(tmp_path_factory, server_logs) -> Iterator[Stacks]:
    yield from start_throttled_stacks(tmp_path_factory, server_logs)


def log_in_from(base_url: str, client_address: str, username: str, password: str) -> int:
    session = requests.Session()
    session.headers["X-Forwarded-For"] = client_address
    token = csrf_token(session.get(f"{base_url}/accounts/login/", timeout=30).text)
    response = session.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    return response.status_code


@pytest.mark.live
@pytest.mark.parametrize(("stack", "username"), [("wsgi", "alice"), ("asgi", "bob")])
def test_behind_the_proxy_one_visitors_lockout_does_not_lock_out_another(
    stacks_behind_a_proxy, stack, username
):
    url = getattr(stacks_behind_a_proxy, stack).url
    for _ in range(FAILURE_LIMIT):
        log_in_from(url, "203.0.113.1", username, "not-the-password")

    assert log_in_from(url, "203.0.113.1", username, DEMO_PASSWORD) == 429
    assert log_in_from(url, "203.0.113.2", username, DEMO_PASSWORD) == 302


@pytest.mark.live
@pytest.mark.parametrize(("stack", "username"), [("wsgi", "alice"), ("asgi", "bob")])
def test_reached_directly_a_forwarded_address_cannot_dodge_a_lockout(
    stacks_reached_directly, stack, username
):
    url = getattr(stacks_reached_directly, stack).url
    for _ in range(FAILURE_LIMIT):
        log_in_from(url, "203.0.113.1", username, "not-the-password")

    assert log_in_from(url, "203.0.113.2", username, DEMO_PASSWORD) == 429
