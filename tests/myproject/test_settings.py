"""Configuration comes from the environment; a production start refuses what it cannot use.

Each case imports the settings in a fresh interpreter, as a server process would at start-up."""

import json
import os
import secrets
import subprocess
import sys

import pytest

from testbed.environment import base_environment
from testbed.processes import ROOT
from tests.myproject.fresh_settings import load_settings as load_settings_printing

# Each case runs a child Python, as a server process would start.
pytestmark = pytest.mark.live

SETTINGS = """{
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "CONN_MAX_AGE": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "CONN_HEALTH_CHECKS": settings.DATABASES["default"].get("CONN_HEALTH_CHECKS", False),
    "OPTIONS": settings.DATABASES["default"].get("OPTIONS", {}),
    "LAYER": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "SECRET_KEY": settings.SECRET_KEY,
    "SECURE_PROXY_SSL_HEADER": getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "CACHE_LOCATIONS": {name: cache.get("LOCATION") for name, cache in settings.CACHES.items()},
    "STATIC_ROOT": str(settings.STATIC_ROOT),
    "STATICFILES_STORAGE": settings.STORAGES["staticfiles"]["BACKEND"],
}"""


def load_settings(**environment: str | None) -> subprocess.CompletedProcess:
    return load_settings_printing(SETTINGS, **environment)


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


def test_static_files_are_collected_into_staticfiles_unless_django_static_root_names_a_folder(tmp_path):
    assert settings_for(DJANGO_STATIC_ROOT=None)["STATIC_ROOT"] == str(ROOT / "staticfiles")
    assert settings_for(DJANGO_STATIC_ROOT=str(tmp_path))["STATIC_ROOT"] == str(tmp_path)


def test_static_files_are_stored_under_hashed_names_with_compressed_copies():
    assert settings_for()["STATICFILES_STORAGE"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


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
        ("REPORTS_EXPORT_CONCURRENCY", "0"),
        ("WSGI_STACK_PORT", "eight thousand"),
        ("ASGI_STACK_PORT", "70000"),
        ("CHAT_WEBSOCKET_PORT", "-1"),
        # Values that do not parse as their type.
        ("REPORTS_EXPORT_CONCURRENCY", "two"),
        ("DJANGO_HSTS_SECONDS", "soon"),
        ("AXES_FAILURE_LIMIT", "1.5"),
        ("CHAT_PRESENCE_TTL_SECONDS", "long"),
    ],
)
def test_an_unusable_value_refuses_to_start_naming_the_variable(variable, value):
    result = load_settings(**{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_asgi_refuses_as_many_concurrent_exports_as_its_database_pool_has_connections():
    result = load_settings(
        SERVER_INTERFACE="asgi",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        REPORTS_EXPORT_CONCURRENCY="10",
    )

    assert result.returncode != 0
    assert "REPORTS_EXPORT_CONCURRENCY (10) must be below the database pool's max_size (10)" in result.stderr


# A variable set to "" is a variable left unset: compose files pass `${NAME:-}` through.


def test_an_empty_secret_key_with_debug_off_refuses_to_start_naming_the_variable():
    result = load_settings(DJANGO_SECRET_KEY="")

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in result.stderr


def test_an_empty_secret_key_with_debug_on_gets_the_dev_only_key_not_an_empty_one():
    settings = settings_for(DJANGO_DEBUG="1", DJANGO_SECRET_KEY="")

    assert settings["SECRET_KEY"].startswith("django-insecure-")


def test_an_empty_database_url_means_the_sqlite_default():
    assert settings_for(DATABASE_URL="")["ENGINE"] == "django.db.backends.sqlite3"


def test_an_empty_redis_url_means_the_in_memory_layer():
    assert settings_for(REDIS_URL="")["LAYER"] == "channels.layers.InMemoryChannelLayer"


def test_shared_caches_use_the_first_of_several_redis_urls():
    # Given several URLs, Django's RedisCache writes to the first and reads from the others: with
    # shards that would read sign-up counts and wire traces from a server that never saw them.
    locations = settings_for(REDIS_URL="redis://127.0.0.1:6390/0,redis://127.0.0.1:6391/0")["CACHE_LOCATIONS"]
    assert locations["throttle"] == locations["wire"] == "redis://127.0.0.1:6390/0"


def test_empty_allowed_hosts_mean_the_loopback_default_not_no_host_at_all():
    assert settings_for(DJANGO_ALLOWED_HOSTS="")["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]


# HTTPS and the proxy in front


def test_x_forwarded_proto_is_ignored_unless_a_trusted_proxy_is_declared():
    assert settings_for()["SECURE_PROXY_SSL_HEADER"] is None
    assert settings_for(DJANGO_TRUSTED_PROXY="1")["SECURE_PROXY_SSL_HEADER"] == [
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]


def test_https_off_by_default_leaves_cookies_usable_over_plain_http():
    settings = settings_for()

    assert (settings["SECURE_SSL_REDIRECT"], settings["SESSION_COOKIE_SECURE"]) == (False, False)
    assert (settings["CSRF_COOKIE_SECURE"], settings["SECURE_HSTS_SECONDS"]) == (False, 0)


def test_django_https_redirects_plain_http_and_keeps_cookies_to_tls():
    settings = settings_for(DJANGO_HTTPS="1", DJANGO_HSTS_SECONDS="3600")

    assert (settings["SECURE_SSL_REDIRECT"], settings["SESSION_COOKIE_SECURE"]) == (True, True)
    assert (settings["CSRF_COOKIE_SECURE"], settings["SECURE_HSTS_SECONDS"]) == (True, 3600)


def test_django_https_leaves_the_demo_probes_on_plain_http_for_the_race_driver():
    # The race page's driver calls the stacks over plain HTTP inside the network, as an orchestrator
    # calls /healthz; every other page still redirects to HTTPS.
    statuses = """[
        __import__("django.test").test.Client().get(path, HTTP_HOST="127.0.0.1").status_code
        for path in ("/demo/sync/hello/", "/demo/async/sleep/?ms=0", "/reports/", "/demo/race/")
    ]"""
    result = load_settings_printing(statuses, DJANGO_HTTPS="1", DJANGO_DEMO="1")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [200, 200, 301, 301]


def demo_statuses(**environment: str | None) -> list[int]:
    """What a production-like process answers for the home page (which links to the demo when it is
    on) and the demo's pages, and whether /ws/race/ is routed."""
    statuses = """[
        *(__import__("django.test").test.Client().get(path, HTTP_HOST="127.0.0.1").status_code
          for path in ("/", "/demo/", "/demo/async/blocking/?ms=0", "/demo/race/")),
        int(any(
            str(pattern.pattern) == "ws/race/"
            for pattern in __import__("myproject.routing").routing.websocket_urlpatterns
        )),
    ]"""
    # Pages link to hashed static names with debug off: the suite's collection has their manifest.
    environment.setdefault("DJANGO_STATIC_ROOT", os.environ["DJANGO_STATIC_ROOT"])
    result = load_settings_printing(statuses, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_demo_is_off_in_production_unless_switched_on():
    assert demo_statuses() == [200, 404, 404, 404, 0]


def test_django_demo_switches_the_demo_on_in_production():
    assert demo_statuses(DJANGO_DEMO="1") == [200, 200, 200, 200, 1]


def test_the_demo_is_on_with_debug_as_make_run_needs():
    assert demo_statuses(DJANGO_DEBUG="1") == [200, 200, 200, 200, 1]


def test_django_demo_switches_the_demo_off_even_with_debug():
    assert demo_statuses(DJANGO_DEBUG="1", DJANGO_DEMO="0") == [200, 404, 404, 404, 0]


def production_environment() -> dict[str, str]:
    """.env.example's values, with a real secret where it leaves the key for the deployer."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return {**values, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}


def test_the_production_example_passes_every_deployment_check():
    env = base_environment(DJANGO_SETTINGS_MODULE="myproject.settings", **production_environment())
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_stack_ports_are_unset_by_default_and_read_as_numbers():
    read = "[settings.WSGI_STACK_PORT, settings.ASGI_STACK_PORT]"

    assert json.loads(load_settings_printing(read).stdout) == [None, None]
    assert json.loads(
        load_settings_printing(read, WSGI_STACK_PORT="8001", ASGI_STACK_PORT="8002").stdout
    ) == [
        8001,
        8002,
    ]


def test_chat_websocket_port_the_earlier_name_still_sets_the_asgi_stack_port():
    result = load_settings_printing("settings.ASGI_STACK_PORT", CHAT_WEBSOCKET_PORT="8002")

    assert json.loads(result.stdout) == 8002
