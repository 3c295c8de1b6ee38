"""Configuration comes from the environment; a production start refuses what it cannot use.

Each case imports the settings in a fresh interpreter, as a server process would at start-up."""

import json
import subprocess
import sys

import pytest

from stacks.environment import base_environment
from stacks.processes import ROOT

# Each case runs a child Python, as a server process would start.
pytestmark = pytest.mark.live

PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "ENGINE": db["ENGINE"],
    "CONN_MAX_AGE": db["CONN_MAX_AGE"],
    "CONN_HEALTH_CHECKS": db.get("CONN_HEALTH_CHECKS", False),
    "OPTIONS": db.get("OPTIONS", {}),
    "LAYER": settings.CHANNEL_LAYERS["default"]["BACKEND"],
}))
"""


def load_settings(**environment: str | None) -> subprocess.CompletedProcess:
    env = base_environment(DJANGO_SETTINGS_MODULE="myproject.settings")
    for name in ("DJANGO_DEBUG", "DATABASE_URL", "REDIS_URL", "SERVER_INTERFACE", "DJANGO_ALLOWED_HOSTS"):
        env.pop(name, None)
    for name, value in environment.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def settings_for(**environment: str | None) -> dict:
    result = load_settings(**environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_is_off_by_default():
    assert settings_for()["DEBUG"] is False


def test_debug_off_without_a_secret_key_refuses_to_start_naming_the_variable():
    result = load_settings(DJANGO_SECRET_KEY=None)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_on_runs_without_a_secret_key():
    assert settings_for(DJANGO_DEBUG="1", DJANGO_SECRET_KEY=None)["DEBUG"] is True


def test_allowed_hosts_default_to_loopback_names_and_read_a_comma_separated_list():
    assert settings_for()["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]
    assert settings_for(DJANGO_ALLOWED_HOSTS="example.com,www.example.com")["ALLOWED_HOSTS"] == [
        "example.com",
        "www.example.com",
    ]


def test_without_database_url_sqlite_runs_in_wal_mode_with_immediate_transactions():
    settings = settings_for()

    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in settings["OPTIONS"]["init_command"]
    assert settings["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_wsgi_processes_keep_connections_with_health_checks():
    settings = settings_for(SERVER_INTERFACE="wsgi", DATABASE_URL="postgres://postgres@127.0.0.1:5432/test")

    assert settings["CONN_MAX_AGE"] > 0
    assert settings["CONN_HEALTH_CHECKS"] is True
    assert "pool" not in settings["OPTIONS"]


def test_asgi_processes_close_connections_and_pool_them_on_postgresql():
    settings = settings_for(SERVER_INTERFACE="asgi", DATABASE_URL="postgres://postgres@127.0.0.1:5432/test")

    assert settings["CONN_MAX_AGE"] == 0
    assert settings["OPTIONS"]["pool"]["max_size"] >= settings["OPTIONS"]["pool"]["min_size"]


def test_redis_url_selects_the_redis_channel_layer():
    assert settings_for(REDIS_URL="redis://127.0.0.1:6379/0")["LAYER"].startswith("channels_redis.")


def test_without_redis_url_the_layer_is_in_memory():
    assert settings_for()["LAYER"] == "channels.layers.InMemoryChannelLayer"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "postgres://user@host:notaport/db"),
        ("DATABASE_URL", "mysql://user@host/db"),
        ("DATABASE_URL", "postgres://user@host:5432"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("REDIS_URL", "redis://127.0.0.1:notaport/0"),
        ("REDIS_URL", "127.0.0.1:6379"),
        ("SERVER_INTERFACE", "cgi"),
    ],
)
def test_an_unusable_value_refuses_to_start_naming_the_variable(variable, value):
    result = load_settings(**{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]
