"""How myproject/settings.py reads the environment: the rules for each kind of value (a port, a
Redis URL, a list of trusted addresses, a database URL...) and what each setting is built from.

The settings module says which variable feeds which setting, and why; this module says how a value
is read and when it is refused. A value the project cannot use stops the start with
ImproperlyConfigured naming the variable and what it should be (myproject/preflight.py prints that
one line instead of a traceback). tests/myproject/test_environment.py tests each rule.
"""

import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, overload
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from myproject.client_address import trusted_networks
from myproject.redis_clients import layer_hosts

DEVELOPMENT_SECRET_KEY = "django-insecure-dev-only-never-use-in-production"
DATABASE_ENGINES = {"django.db.backends.sqlite3", "django.db.backends.postgresql"}


class Environment(environ.Env):
    """django-environ's reader, with the project's rules.

    A variable set to an empty string counts as unset. Compose files and CI templates pass variables
    through as `${NAME:-}`, which sets them empty when the user set nothing; an empty
    DJANGO_SECRET_KEY must still mean "no key" (refused in production, the dev-only key in debug),
    never an empty key, and an empty DATABASE_URL or REDIS_URL must mean the default.
    """

    def __init__(self, variables: Mapping[str, str] = os.environ) -> None:
        super().__init__()
        self.ENVIRON = {name: value for name, value in variables.items() if value != ""}

    def get_value(self, var: str, *args: Any, **kwargs: Any) -> Any:
        """A value that does not parse as its type (DJANGO_HSTS_SECONDS=soon) is refused naming its
        variable, like every other configuration error here; django-environ raises a bare ValueError."""
        try:
            return super().get_value(var, *args, **kwargs)
        except ValueError as error:
            raise ImproperlyConfigured(f"{var} cannot be read ({error}).") from None

    def choice(self, var: str, choices: Iterable[str], default: str, expected: str = "") -> str:
        """One of `choices`; anything else is refused, naming them (or saying `expected`)."""
        value: str = self.str(var, default=default)
        if value not in choices:
            expected = expected or " or ".join(repr(choice) for choice in choices)
            raise ImproperlyConfigured(f"{var} must be {expected}, not {value!r}.")
        return value

    @overload
    def at_least(self, var: str, minimum: int, default: int, expected: str) -> int: ...
    @overload
    def at_least(self, var: str, minimum: int, default: None, expected: str) -> int | None: ...
    def at_least(self, var: str, minimum: int, default: int | None, expected: str) -> int | None:
        """A whole number no smaller than `minimum` (or the default, None included)."""
        value: int | None = self.int(var, default=default)
        if value is not None and value < minimum:
            raise ImproperlyConfigured(f"{var} must be {expected}.")
        return value

    def port(self, var: str) -> int | None:
        """A TCP port number, or None when unset."""
        port: int | None = self.int(var, default=None)
        if port is not None and not 0 < port < 65536:
            raise ImproperlyConfigured(f"{var} must be a port number from 1 to 65535, not {port}.")
        return port

    def entries(self, var: str) -> list[str]:
        """A comma-separated list; empty entries (a trailing comma, a variable set to "") are
        ignored, never read as a value."""
        return [entry.strip() for entry in self.list(var, default=[]) if entry.strip()]

    def addresses(self, var: str) -> list[str]:
        """Addresses or networks (CIDRs) of trusted proxies, as Gunicorn and Uvicorn read the same
        variable: the list as given, once every entry is an address."""
        addresses: list[str] = self.list(var, default=[])
        try:
            trusted_networks(addresses)
        except ValueError as error:
            raise ImproperlyConfigured(f"{var} is not a list of addresses ({error}).") from None
        return addresses

    def networks(self, var: str) -> list[str]:
        """Addresses or networks (CIDRs) a request may come from; never "*", which would let anyone."""
        networks = self.entries(var)
        if "*" in networks:
            raise ImproperlyConfigured(f"{var} must name the scraper's networks, not '*'.")
        try:
            trusted_networks(networks)
        except ValueError as error:
            raise ImproperlyConfigured(f"{var} is not a list of networks ({error}).") from None
        return networks


def secret_key(env: Environment, debug: bool) -> str:
    """The key for signing sessions and tokens: a development-only one in debug, required otherwise."""
    if debug:
        return str(env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY))
    try:
        return str(env.str("DJANGO_SECRET_KEY"))
    except ImproperlyConfigured:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. It is required when DJANGO_DEBUG is off; set it to a long "
            "random string, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'` "
            "(or set DJANGO_DEBUG=1 for local development)."
        ) from None


# Database ---------------------------------------------------------------------------------------


def database_from_url(url: str) -> dict[str, Any]:
    """DATABASE_URL as Django's DATABASES entry: SQLite or PostgreSQL, the two the project runs on."""
    try:
        with warnings.catch_warnings():  # an unknown scheme is reported below, as an error
            warnings.simplefilter("ignore")
            config: dict[str, Any] = environ.Env.db_url_config(url)
    except Exception as error:  # django-environ raises KeyError, ValueError... for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL ({error!r}).") from None
    engine = config.get("ENGINE", "")
    if engine not in DATABASE_ENGINES:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a sqlite:/// or postgres:// URL, "
            f"not {urlsplit(url).scheme or 'a URL without a scheme'!r}."
        )
    if engine.endswith("postgresql") and not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL names no database (postgres://user@host:port/NAME).")
    return config


def database(url: str, interface: str) -> dict[str, Any]:
    """The default database for a process serving `interface`: how it keeps its connections."""
    config = database_from_url(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Two server processes (Gunicorn and Uvicorn) share one file. WAL lets readers and one writer
        # work at once; IMMEDIATE takes the write lock at BEGIN, so a writer waits out `timeout`
        # instead of failing with "database is locked" halfway through a transaction.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }

    if interface == "wsgi":
        # A WSGI worker handles one request at a time on one thread, so keeping that thread's
        # connection between requests is safe and saves a connect per request. Health checks drop a
        # connection the database closed before it is reused.
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
    else:
        # Under ASGI, sync ORM work runs on executor threads that come and go with the event loop's
        # needs; a persistent connection per thread would pile up idle connections. Close each one at
        # the end of the request and, on PostgreSQL, borrow it from psycopg's pool instead.
        config["CONN_MAX_AGE"] = 0
        if config["ENGINE"] == "django.db.backends.postgresql":
            config.setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 10, "timeout": 10}
    return config


def check_pool_headroom(export_concurrency: int, database: dict[str, Any]) -> None:
    """Each running export holds one pooled connection until its last row: as many exports as the
    pool has connections would leave none for pages, and the next export would wait out the pool's
    timeout after its 200 header had gone out."""
    pool = database.get("OPTIONS", {}).get("pool")
    if pool and pool["max_size"] <= export_concurrency:
        raise ImproperlyConfigured(
            f"REPORTS_EXPORT_CONCURRENCY ({export_concurrency}) must be below the database "
            f"pool's max_size ({pool['max_size']})."
        )


# Redis ------------------------------------------------------------------------------------------


def check_redis_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise ImproperlyConfigured(f"REDIS_URL is not a usable Redis URL ({error}).") from None
    if parts.scheme not in {"redis", "rediss", "unix"} or (parts.scheme != "unix" and not parts.hostname):
        raise ImproperlyConfigured(
            f"REDIS_URL must look like redis://host:port/db (or rediss://, unix://), not {url!r}."
        )
    return url


def sentinel_address(entry: str) -> tuple[str, int]:
    host, _, port = entry.rpartition(":")
    if not host or not port.isascii() or not port.isdecimal() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(
            f"REDIS_SENTINELS must be a comma-separated list of host:port, not {entry!r}."
        )
    return host.strip("[]"), int(port)  # [::1]:26379 names an IPv6 address


def redis_hosts(
    redis_url: str, sentinels: list[str], sentinel_master: str, sentinel_timeout: float
) -> list[str | dict[str, Any]]:
    """The channel layer's Redis hosts, in channels-redis's own format: one entry per shard.

    Several comma-separated URLs in REDIS_URL shard the layer: each group and channel lives on one
    of them, chosen by a hash of its name, so every process must list the same URLs in the same
    order. With REDIS_SENTINELS, each shard is a master that the sentinels name (several
    comma-separated names in REDIS_SENTINEL_MASTER shard over several masters): a process asks the
    sentinels where the master is whenever it connects, so after a failover it finds the promoted
    replica by itself.
    """
    if sentinels:
        if redis_url:
            raise ImproperlyConfigured(
                "REDIS_URL and REDIS_SENTINELS are both set: the sentinels say where the master is, "
                "so unset REDIS_URL (or REDIS_SENTINELS)."
            )
        addresses = [sentinel_address(entry) for entry in sentinels]
        masters = [name.strip() for name in sentinel_master.split(",")]
        if not all(masters):
            raise ImproperlyConfigured(
                f"REDIS_SENTINEL_MASTER must name the master(s) the sentinels watch, not {sentinel_master!r}."
            )
        timeouts = {"socket_timeout": sentinel_timeout, "socket_connect_timeout": sentinel_timeout}
        return [
            {"sentinels": addresses, "master_name": name, "sentinel_kwargs": timeouts} for name in masters
        ]
    return [check_redis_url(url.strip()) for url in redis_url.split(",") if url.strip()]


def channel_layers(hosts: list[str | dict[str, Any]], backend: str) -> dict[str, Any]:
    """CHANNEL_LAYERS: `backend` on the Redis `hosts`, or, with none, a layer in this process's memory
    only: fine for runserver and unit tests, useless between processes."""
    if not hosts:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Each host with a retry for connections a Redis restart broke (myproject/redis_clients.py).
    return {"default": {"BACKEND": backend, "CONFIG": {"hosts": layer_hosts(hosts)}}}


def shared_cache(name: str, redis_url: str) -> dict[str, Any]:
    """A cache every process of both stacks shares: Redis when REDIS_URL is set, else this process's
    memory (runserver, unit tests: one process).

    The first REDIS_URL only: with several (shards), Django's RedisCache would write to the first and
    read from the others, which hold no copy of its keys.
    """
    if not redis_url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url.split(",")[0],
        # Short socket timeouts: a Redis that hangs must not hang the page that asked it.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }


# The race (demo-only) ---------------------------------------------------------------------------


def stack_url(env: Environment, url_variable: str, port_variable: str) -> str:
    """Where the race's driver reaches a stack: `url_variable` (http://host:port), else loopback on
    `port_variable`, else "" (that stack is not raced)."""
    url: str = env.str(url_variable, default="")
    if not url and port_variable in env:
        url = f"http://127.0.0.1:{env.int(port_variable)}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = urlsplit("")
    if url and (parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}):
        raise ImproperlyConfigured(f"{url_variable} must look like http://host:port, not {url!r}.")
    return url.rstrip("/")


def stack_origins(allowed_hosts: list[str], stack_urls: Iterable[str]) -> list[str]:
    """The origins a page of either stack has: each allowed host name (not a pattern) on each
    stack's port."""
    ports = sorted({urlsplit(url).port or 80 for url in stack_urls if url})
    return [
        f"http://{host}:{port}" for host in allowed_hosts if not host.startswith((".", "*")) for port in ports
    ]
