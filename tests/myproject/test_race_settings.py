"""The race page's settings: which stacks the driver races and which origins may call the probes.

Each case imports the settings in a fresh interpreter, as a server process would at start-up."""

import json

import pytest

from tests.myproject.fresh_settings import load_settings

pytestmark = pytest.mark.live

RACE = """{
    "wsgi": settings.RACE_WSGI_URL,
    "asgi": settings.RACE_ASGI_URL,
    "origins": settings.CORS_ALLOWED_ORIGINS,
}"""


def race_settings(**environment: str | None) -> dict:
    result = load_settings(RACE, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_make_runs_ports_give_both_stacks_and_their_origins():
    loaded = race_settings(WSGI_PORT="8001", ASGI_PORT="8002", RACE_WSGI_URL=None, RACE_ASGI_URL=None)

    assert loaded["wsgi"] == "http://127.0.0.1:8001"
    assert loaded["asgi"] == "http://127.0.0.1:8002"
    assert set(loaded["origins"]) == {
        "http://localhost:8001",
        "http://localhost:8002",
        "http://127.0.0.1:8001",
        "http://127.0.0.1:8002",
    }


def test_without_ports_or_urls_no_stack_is_configured_and_no_origin_allowed():
    loaded = race_settings(WSGI_PORT=None, ASGI_PORT=None, RACE_WSGI_URL=None, RACE_ASGI_URL=None)

    assert loaded == {"wsgi": "", "asgi": "", "origins": []}


def test_urls_win_over_ports_and_origins_can_be_named():
    loaded = race_settings(
        WSGI_PORT="8001",
        RACE_WSGI_URL="http://wsgi:8001/",
        RACE_ASGI_URL="http://asgi:8002",
        RACE_BROWSER_ORIGINS="http://127.0.0.1:8000",
    )

    assert loaded == {
        "wsgi": "http://wsgi:8001",
        "asgi": "http://asgi:8002",
        "origins": ["http://127.0.0.1:8000"],
    }


@pytest.mark.parametrize(
    "url", ["wsgi:8001", "ftp://wsgi:8001", "http://wsgi:8001/demo/", "http://", "http://wsgi:port"]
)
def test_a_race_url_that_is_not_a_stacks_address_refuses_to_start(url):
    result = load_settings(RACE, RACE_WSGI_URL=url)

    assert result.returncode != 0
    assert "RACE_WSGI_URL must look like http://host:port" in result.stderr
