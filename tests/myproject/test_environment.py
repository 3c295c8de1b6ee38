"""Each rule for reading the environment, in process (myproject/environment.py). The settings built
from them are tested end to end, in a fresh interpreter, by test_settings.py and its neighbours."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from myproject.environment import (
    DEVELOPMENT_SECRET_KEY,
    Environment,
    check_pool_headroom,
    database,
    database_from_url,
    redis_hosts,
    secret_key,
    shared_cache,
    stack_origins,
    stack_url,
)

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(ImproperlyConfigured) as refused:
        call(*args, **kwargs)
    return str(refused.value)


# Environment -------------------------------------------------------------------------------------


def test_an_empty_variable_counts_as_unset():
    assert Environment({"NAME": ""}).str("NAME", default="the default") == "the default"


def test_a_value_that_is_not_its_type_is_refused_naming_the_variable():
    message = refusal(Environment({"DJANGO_HSTS_SECONDS": "soon"}).int, "DJANGO_HSTS_SECONDS")

    assert message.startswith("DJANGO_HSTS_SECONDS cannot be read (")


def test_a_choice_outside_the_choices_is_refused_naming_them():
    env = Environment({"SERVER_INTERFACE": "http"})

    assert refusal(env.choice, "SERVER_INTERFACE", ("wsgi", "asgi"), default="wsgi") == (
        "SERVER_INTERFACE must be 'wsgi' or 'asgi', not 'http'."
    )


def test_a_choice_can_say_what_it_expects_in_its_own_words():
    env = Environment({"LAYER": "Other"})

    assert refusal(env.choice, "LAYER", ("A", "B"), default="A", expected="one of A, B") == (
        "LAYER must be one of A, B, not 'Other'."
    )


def test_an_unset_choice_is_its_default():
    assert Environment({}).choice("SERVER_INTERFACE", ("wsgi", "asgi"), default="wsgi") == "wsgi"


def test_a_number_below_its_minimum_is_refused_saying_what_it_should_be():
    env = Environment({"SLOTS": "-1"})

    assert refusal(env.at_least, "SLOTS", 0, default=None, expected="0 (no bound) or more") == (
        "SLOTS must be 0 (no bound) or more."
    )


def test_a_number_at_its_minimum_or_unset_is_taken():
    assert Environment({"SLOTS": "0"}).at_least("SLOTS", 0, default=None, expected="") == 0
    assert Environment({}).at_least("SLOTS", 0, default=None, expected="") is None


@pytest.mark.parametrize("value", ["0", "65536"])
def test_a_port_outside_1_to_65535_is_refused(value):
    assert refusal(Environment({"PORT": value}).port, "PORT") == (
        f"PORT must be a port number from 1 to 65535, not {value}."
    )


def test_a_port_is_read_as_a_number_and_unset_is_none():
    assert Environment({"PORT": "8001"}).port("PORT") == 8001
    assert Environment({}).port("PORT") is None


def test_entries_drop_blanks_and_surrounding_spaces():
    assert Environment({"LIST": " a:1, ,b:2,"}).entries("LIST") == ["a:1", "b:2"]


def test_addresses_are_kept_as_given_once_each_is_an_address():
    assert Environment({"IPS": "127.0.0.1,10.0.0.0/8"}).addresses("IPS") == ["127.0.0.1", "10.0.0.0/8"]


def test_an_address_that_is_not_one_is_refused_naming_the_variable():
    message = refusal(Environment({"IPS": "x.y"}).addresses, "IPS")

    assert message.startswith("IPS is not a list of addresses (")


def test_networks_refuse_a_star():
    assert refusal(Environment({"FROM": "10.0.0.0/8,*"}).networks, "FROM") == (
        "FROM must name the scraper's networks, not '*'."
    )


def test_networks_refuse_an_entry_that_is_not_one():
    message = refusal(Environment({"FROM": "nonsense"}).networks, "FROM")

    assert message.startswith("FROM is not a list of networks (")


# Secret key --------------------------------------------------------------------------------------


def test_debug_without_a_secret_key_gets_the_development_only_key():
    assert secret_key(Environment({}), debug=True) == DEVELOPMENT_SECRET_KEY


def test_production_without_a_secret_key_is_refused_saying_how_to_make_one():
    message = refusal(secret_key, Environment({"DJANGO_SECRET_KEY": ""}), debug=False)

    assert message.startswith("DJANGO_SECRET_KEY is not set.")
    assert "secrets.token_urlsafe(50)" in message


# Database ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://user@host/app", "DATABASE_URL must be a sqlite:/// or postgres:// URL, not 'mysql'."),
        ("nothing", "DATABASE_URL must be a sqlite:/// or postgres:// URL, not 'a URL without a scheme'."),
        ("postgres://user@host:5432", "DATABASE_URL names no database (postgres://user@host:port/NAME)."),
    ],
)
def test_a_database_url_the_project_cannot_use_is_refused(url, message):
    assert refusal(database_from_url, url) == message


def test_a_database_url_with_a_bad_port_is_refused():
    assert refusal(database_from_url, "postgres://user@host:notaport/app").startswith(
        "DATABASE_URL is not a usable database URL ("
    )


def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    options = database("sqlite:////tmp/db.sqlite3", "wsgi")["OPTIONS"]

    assert "journal_mode=WAL" in options["init_command"]
    assert options["transaction_mode"] == "IMMEDIATE"


def test_a_wsgi_process_keeps_its_connection_with_health_checks():
    config = database(POSTGRES_URL, "wsgi")

    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)
    assert "pool" not in config.get("OPTIONS", {})


def test_an_asgi_process_closes_its_connection_and_pools_them_on_postgresql():
    config = database(POSTGRES_URL, "asgi")

    assert config["CONN_MAX_AGE"] == 0
    assert config["OPTIONS"]["pool"]["max_size"] == 10


def test_an_asgi_process_on_sqlite_has_no_pool():
    assert "pool" not in database("sqlite:////tmp/db.sqlite3", "asgi")["OPTIONS"]


def test_as_many_exports_as_the_pool_has_connections_are_refused():
    assert refusal(check_pool_headroom, 10, database(POSTGRES_URL, "asgi")) == (
        "REPORTS_EXPORT_CONCURRENCY (10) must be below the database pool's max_size (10)."
    )


def test_exports_are_not_bounded_by_a_pool_that_does_not_exist():
    check_pool_headroom(10, database(POSTGRES_URL, "wsgi"))


# Redis -------------------------------------------------------------------------------------------


def test_comma_separated_redis_urls_are_shards_in_the_given_order():
    assert redis_hosts(" redis://a:6379/0, redis://b:6379/1,", [], "mymaster", 1.0) == [
        "redis://a:6379/0",
        "redis://b:6379/1",
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:6379", "REDIS_URL must look like redis://host:port/db"),
        ("redis:///0", "REDIS_URL must look like redis://host:port/db"),
        ("redis://127.0.0.1:notaport/0", "REDIS_URL is not a usable Redis URL ("),
    ],
)
def test_a_redis_url_that_is_not_one_is_refused(url, message):
    assert refusal(redis_hosts, url, [], "mymaster", 1.0).startswith(message)


def test_a_unix_socket_url_needs_no_host():
    assert redis_hosts("unix:///tmp/redis.sock", [], "mymaster", 1.0) == ["unix:///tmp/redis.sock"]


def test_sentinels_name_each_master_with_their_timeout():
    hosts = redis_hosts("", ["127.0.0.1:26379", "[::1]:26380"], "m1, m2", 0.5)

    assert [host["master_name"] for host in hosts] == ["m1", "m2"]
    assert hosts[0]["sentinels"] == [("127.0.0.1", 26379), ("::1", 26380)]
    assert hosts[0]["sentinel_kwargs"] == {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}


# Fullwidth "26": digits to str.isdecimal() and int(), but no port.
@pytest.mark.parametrize("entry", ["127.0.0.1", "host:70000", "host:\uff12\uff16", ":26379"])
def test_a_sentinel_that_is_not_host_and_port_is_refused(entry):
    assert refusal(redis_hosts, "", [entry], "mymaster", 1.0) == (
        f"REDIS_SENTINELS must be a comma-separated list of host:port, not {entry!r}."
    )


def test_sentinels_and_a_redis_url_together_are_refused():
    assert refusal(redis_hosts, "redis://a/0", ["a:1"], "mymaster", 1.0).startswith(
        "REDIS_URL and REDIS_SENTINELS are both set"
    )


def test_an_empty_sentinel_master_name_is_refused():
    assert refusal(redis_hosts, "", ["a:1"], "m1,,m2", 1.0) == (
        "REDIS_SENTINEL_MASTER must name the master(s) the sentinels watch, not 'm1,,m2'."
    )


def test_a_shared_cache_is_the_first_redis_url_or_this_processs_memory():
    assert shared_cache("wire", "redis://a/0,redis://b/0")["LOCATION"] == "redis://a/0"
    assert shared_cache("wire", "")["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


# The race ----------------------------------------------------------------------------------------


def test_a_stack_url_wins_over_its_port_and_loses_its_trailing_slash():
    env = Environment({"RACE_WSGI_URL": "http://wsgi:8001/", "WSGI_PORT": "9001"})

    assert stack_url(env, "RACE_WSGI_URL", "WSGI_PORT") == "http://wsgi:8001"


def test_a_port_alone_is_the_stack_on_loopback_and_neither_is_no_stack():
    assert (
        stack_url(Environment({"WSGI_PORT": "9001"}), "RACE_WSGI_URL", "WSGI_PORT") == "http://127.0.0.1:9001"
    )
    assert stack_url(Environment({}), "RACE_WSGI_URL", "WSGI_PORT") == ""


@pytest.mark.parametrize("url", ["ftp://x", "http://x/path", "http://x:port", "http://"])
def test_a_stack_url_that_is_not_an_address_is_refused(url):
    assert refusal(stack_url, Environment({"RACE_ASGI_URL": url}), "RACE_ASGI_URL", "ASGI_PORT") == (
        f"RACE_ASGI_URL must look like http://host:port, not {url!r}."
    )


def test_stack_origins_are_each_host_name_on_each_stack_port_but_no_pattern():
    origins = stack_origins(["a.com", ".b.com", "*", "c"], ["http://wsgi:8001", "https://asgi", ""])

    assert origins == ["http://a.com:80", "http://a.com:8001", "http://c:80", "http://c:8001"]
