"""Home, health, readiness and sign-up, in process. Django's test Client goes through the WSGI
handler and AsyncClient through the ASGI handler, so each behaviour is checked on both."""

import socket

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from testbed.processes import free_port
from tests.conftest import fetch

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_says_ok(interface):
    response = fetch(interface, "/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/no-such-page/", "/static/css/site.css"])
def test_every_response_names_the_interface_that_served_it(interface, path):
    response = fetch(interface, path)

    assert response["X-Interface"] == interface


def test_home_page_names_the_interface(interface):
    response = fetch(interface, "/")

    assert f'data-testid="interface">{interface.upper()}<' in response.content.decode()


def test_home_page_names_the_host_that_served_it(interface):
    # Behind a load balancer over several containers, this is what tells the replicas apart.
    response = fetch(interface, "/")

    assert f'data-testid="host">{socket.gethostname()}<' in response.content.decode()


def test_readyz_is_ok_with_a_working_database_and_channel_layer(interface):
    response = fetch(interface, "/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "channel_layer": "ok"}}


def test_readyz_is_503_naming_the_channel_layer_when_redis_is_unreachable(interface):
    nobody_listens = f"redis://127.0.0.1:{free_port()}/0"
    layers = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [nobody_listens]}}
    }
    with override_settings(CHANNEL_LAYERS=layers):
        response = fetch(interface, "/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["channel_layer"]
    assert "ConnectionError" in body["checks"]["channel_layer"]
    assert body["checks"]["database"] == "ok"


def test_readyz_is_never_cached():
    assert "no-cache" in Client().get("/readyz")["Cache-Control"]


def test_signup_creates_the_account_and_signs_in():
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {"username": "dora", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )

    assert response.status_code == 302
    assert get_user_model().objects.filter(username="dora").exists()
    assert 'data-testid="username">dora<' in client.get("/").content.decode()


def test_signup_with_mismatched_passwords_shows_the_form_again_and_creates_nothing():
    response = Client().post(
        "/accounts/signup/",
        {"username": "dora", "password1": "a-long-passphrase-42", "password2": "something-else-42"},
    )

    assert response.status_code == 200
    assert "The two password fields didn" in response.content.decode()
    assert not get_user_model().objects.filter(username="dora").exists()


def test_login_page_is_csrf_protected():
    get_user_model().objects.create_user("erin", password="a-long-passphrase-42")
    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "erin", "password": "a-long-passphrase-42"})

    assert response.status_code == 403


def test_logout_signs_out():
    user = get_user_model().objects.create_user("erin", password="a-long-passphrase-42")
    client = Client()
    client.force_login(user)  # login() would call Axes' backend without a request, which it refuses

    client.post("/accounts/logout/")

    assert 'data-testid="username"' not in client.get("/").content.decode()
