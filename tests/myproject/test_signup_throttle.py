"""The sign-up throttle in process: its count per address, and what happens when its cache is gone.
Live, on both stacks sharing Redis: tests/myproject/test_login_throttle.py."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches

from testbed.processes import free_port

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase-42"


@pytest.fixture(autouse=True)
def fresh_count():
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


def sign_up(client, username: str):
    response = client.post(
        "/accounts/signup/", {"username": username, "password1": PASSWORD, "password2": PASSWORD}
    )
    client.logout()  # each new account signs its maker in, and a signed-in visitor is sent home
    return response


def test_past_the_rate_a_sign_up_gets_429_and_creates_no_account(client, settings):
    settings.SIGNUP_RATE_LIMIT = "2/h"
    allowed = [sign_up(client, "first"), sign_up(client, "second")]

    refused = sign_up(client, "third")

    assert [response.status_code for response in allowed] == [302, 302]
    assert refused.status_code == 429
    assert 'data-testid="signup-throttled"' in refused.content.decode()
    assert not get_user_model().objects.filter(username="third").exists()


def test_invalid_attempts_count_too(client, settings):
    settings.SIGNUP_RATE_LIMIT = "2/h"
    client.post("/accounts/signup/", {"username": "x", "password1": "a", "password2": "b"})
    client.post("/accounts/signup/", {"username": "x", "password1": "a", "password2": "b"})

    assert sign_up(client, "patient").status_code == 429


def test_with_its_redis_gone_sign_ups_go_through(client, settings):
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        },
    }

    assert sign_up(client, "undeterred").status_code == 302
