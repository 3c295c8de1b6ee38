"""CORS on the probes only (settings.CORS_URLS_REGEX): the race page's browser-direct mode reads the
other stack's probe answers; every other path stays same-origin. Checked through the WSGI handler
and through the ASGI handler with each middleware list (the `interface` fixture)."""

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_STACK = "http://127.0.0.1:8002"
PROBES = ["/demo/sync/hello/", "/demo/async/hello/", "/demo/sync/sleep/?ms=1", "/demo/async/blocking/?ms=1"]
NOT_PROBES = ["/", "/demo/", "/demo/race/", "/healthz", "/accounts/login/", "/reports/", "/chat/"]


@pytest.fixture(autouse=True)
def allowed_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [OTHER_STACK]


def request(interface: str, method: str, path: str, **headers: str):
    if interface == "asgi":
        return async_to_sync(getattr(AsyncClient(), method))(path, headers=headers)
    return getattr(Client(), method)(path, headers=headers)


@pytest.mark.parametrize("path", PROBES)
def test_a_probe_answers_the_other_stacks_origin(interface, path):
    response = request(interface, "get", path, Origin=OTHER_STACK)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == OTHER_STACK
    assert response["X-Interface"] == interface


@pytest.mark.parametrize("path", NOT_PROBES)
def test_no_other_path_answers_another_origin(interface, path):
    response = request(interface, "get", path, Origin=OTHER_STACK)

    assert "Access-Control-Allow-Origin" not in response


def test_a_probe_does_not_answer_an_origin_not_allowed(interface):
    response = request(interface, "get", "/demo/async/hello/", Origin="https://evil.example")

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_a_preflight_to_a_probe_is_answered(interface):
    response = request(
        interface, "options", "/demo/sync/sleep/", Origin=OTHER_STACK, Access_Control_Request_Method="GET"
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == OTHER_STACK
    assert "GET" in response["Access-Control-Allow-Methods"]
