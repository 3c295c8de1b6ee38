"""Login lockout (django-axes) and sign-up throttling (django-ratelimit) on real Gunicorn and Uvicorn
sharing one database and one Redis, with small limits so the tests stay short."""

from __future__ import annotations

import pytest
import requests

from demo.seeding import DEMO_PASSWORD
from testbed.login import csrf_token
from tests.conftest import isolated_stacks

pytestmark = pytest.mark.live

FAILURE_LIMIT = 3
SIGNUPS_PER_HOUR = 3


@pytest.fixture(scope="module")
def throttled_stacks(tmp_path_factory, server_logs):
    yield from isolated_stacks(
        tmp_path_factory.mktemp("throttle-db"),
        server_logs,
        AXES_FAILURE_LIMIT=str(FAILURE_LIMIT),
        SIGNUP_RATE_LIMIT=f"{SIGNUPS_PER_HOUR}/h",
    )


def post_form(base_url: str, path: str, fields: dict[str, str]) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    page = session.get(f"{base_url}{path}", timeout=30)
    token = csrf_token(page.text)
    response = session.post(
        f"{base_url}{path}", data={**fields, "csrfmiddlewaretoken": token}, allow_redirects=False, timeout=30
    )
    return session, response


def log_in(base_url: str, username: str, password: str) -> tuple[requests.Session, requests.Response]:
    return post_form(base_url, "/accounts/login/", {"username": username, "password": password})


def signed_in(session: requests.Session, base_url: str) -> bool:
    return 'data-testid="username"' in session.get(f"{base_url}/", timeout=30).text


@pytest.mark.parametrize(("stack", "username"), [("wsgi", "alice"), ("asgi", "bob")])
def test_after_too_many_wrong_passwords_even_the_right_one_is_refused(throttled_stacks, stack, username):
    url = getattr(throttled_stacks, stack).url
    wrong = [log_in(url, username, "not-the-password")[1] for _ in range(FAILURE_LIMIT)]

    session, right = log_in(url, username, DEMO_PASSWORD)

    assert [response.status_code for response in wrong[:-1]] == [200] * (FAILURE_LIMIT - 1)  # the form again
    assert right.status_code == 429
    assert not signed_in(session, url)


def test_a_lockout_made_on_one_stack_holds_on_the_other(throttled_stacks):
    for _ in range(FAILURE_LIMIT):
        log_in(throttled_stacks.wsgi.url, "carol", "not-the-password")

    session, right = log_in(throttled_stacks.asgi.url, "carol", DEMO_PASSWORD)

    assert right.status_code == 429
    assert not signed_in(session, throttled_stacks.asgi.url)


def test_a_right_password_before_the_limit_signs_in_and_clears_the_count(throttled_stacks):
    url = throttled_stacks.asgi.url
    for _ in range(FAILURE_LIMIT - 1):
        log_in(url, "admin", "not-the-password")
    session, right = log_in(url, "admin", DEMO_PASSWORD)
    assert right.status_code == 302
    assert signed_in(session, url)

    for _ in range(FAILURE_LIMIT - 1):
        log_in(url, "admin", "not-the-password")
    session, again = log_in(url, "admin", DEMO_PASSWORD)

    assert again.status_code == 302  # the success reset the count: 2 + 2 failures never reached 3


def sign_up(base_url: str, username: str) -> requests.Response:
    password = "a-long-passphrase-42"
    fields = {"username": username, "password1": password, "password2": password}
    return post_form(base_url, "/accounts/signup/", fields)[1]


def test_sign_ups_are_throttled_per_address_across_both_stacks(throttled_stacks):
    wsgi, asgi = throttled_stacks.wsgi.url, throttled_stacks.asgi.url
    allowed = [sign_up(url, f"newcomer{n}") for n, url in enumerate([wsgi, asgi, wsgi][:SIGNUPS_PER_HOUR])]

    refused = [sign_up(asgi, "one-too-many"), sign_up(wsgi, "one-more")]

    assert [response.status_code for response in allowed] == [302] * SIGNUPS_PER_HOUR
    assert [response.status_code for response in refused] == [429, 429]
    assert 'data-testid="signup-throttled"' in refused[0].text
    assert log_in(asgi, "one-too-many", "a-long-passphrase-42")[1].status_code == 200  # no such account
