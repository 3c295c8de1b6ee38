"""Settings for the project: every value that varies between machines comes from the environment,
read here and nowhere else (the README's "Configuration" lists them; docs/deployment.md says how
production sets them).

Development gets safe defaults; a production start (debug off) refuses to run without what it needs.
"""

import os
import sys
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from myproject.client_address import trusted_networks
from myproject.redis_clients import layer_hosts

BASE_DIR = Path(__file__).resolve().parent.parent


class _Environment(environ.Env):
    """A value that does not parse as its type (DJANGO_HSTS_SECONDS=soon) is refused naming its
    variable, like every other configuration error here; django-environ raises a bare ValueError."""

    def get_value(self, var: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().get_value(var, *args, **kwargs)
        except ValueError as error:
            raise ImproperlyConfigured(f"{var} cannot be read ({error}).") from None


# A variable set to an empty string counts as unset. Compose files and CI templates pass variables
# through as `${NAME:-}`, which sets them empty when the user set nothing; an empty
# DJANGO_SECRET_KEY must still mean "no key" (refused in production, the dev-only key in debug),
# never an empty key, and an empty DATABASE_URL or REDIS_URL must mean the default.
env = _Environment()
env.ENVIRON = {name: value for name, value in os.environ.items() if value != ""}

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="django-insecure-dev-only-never-use-in-production")
else:
    try:
        SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    except ImproperlyConfigured:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. It is required when DJANGO_DEBUG is off; set it to a long "
            "random string, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'` "
            "(or set DJANGO_DEBUG=1 for local development)."
        ) from None

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

# Which interface this process serves, set by the entry point the server loads before Django reads
# this file: myproject/wsgi.py sets "wsgi", myproject/asgi.py "asgi", manage.py "asgi" for runserver
# (Daphne's). They set it outright, so a value inherited from a parent process never wins. Anything
# else (tests, management commands) runs synchronously, like a WSGI worker, unless told otherwise.
SERVER_INTERFACE = env.str("SERVER_INTERFACE", default="wsgi")
if SERVER_INTERFACE not in {"wsgi", "asgi"}:
    raise ImproperlyConfigured(f"SERVER_INTERFACE must be 'wsgi' or 'asgi', not {SERVER_INTERFACE!r}.")

INSTALLED_APPS = [
    # First, so that `manage.py runserver` is Daphne's: one development server for HTTP and
    # WebSockets, running the ASGI application.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # intcomma: every count on a page is written one way, 20,000
    # ServeStatic's system checks (its settings, STATIC_URL); it serves nothing by itself.
    "servestatic",
    # Counts failed logins in the database, which both stacks share (see "Login and sign-up
    # throttling" below).
    "axes",
    # CORS headers on the demo probes only, for the race page's browser-direct mode (CORS_* below).
    "corsheaders",
    "chat",
    "reports",
    "demo",
]

# The ASGI stack ----------------------------------------------------------------------------------
# DJANGO_ASGI_STACK picks what an ASGI process runs for HTTP (docs/asgi-tax.md):
# - "stock" (the default): Django's ASGIHandler and the middleware below, as Django ships them.
# - "async-native" (opt-in): the async_native package's handler, which loads its own subclasses in
#   place of Django's middleware classes (and ServeStatic in place of WhiteNoise), so that their hooks
#   run on the event loop, and reuses request threads. myproject/asgi.py builds it; MIDDLEWARE still
#   names Django's classes, which Django's system checks look for.
# WSGI processes ignore it: their middleware calls are plain function calls, with no tax to cut.
ASGI_STACKS = ("stock", "async-native")
ASGI_STACK = env.str("DJANGO_ASGI_STACK", default="stock")
if ASGI_STACK not in ASGI_STACKS:
    raise ImproperlyConfigured(f"DJANGO_ASGI_STACK must be 'stock' or 'async-native', not {ASGI_STACK!r}.")

MIDDLEWARE = [
    # Outermost: counts and times every request, and answers /metrics (metrics/). Async-capable.
    "metrics.middleware.RequestMetricsMiddleware",
    # So that every response (errors and static files included) names its interface.
    "myproject.middleware.InterfaceHeaderMiddleware",
    # Before anything that may answer early (CommonMiddleware's redirects), so that a preflight
    # OPTIONS and every probe answer get their CORS headers. Async-capable: no thread hop.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (STATIC_ROOT below), right after SecurityMiddleware as WhiteNoise asks.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as Axes asks: it turns a refused login into its lockout response. It is async-capable,
    # so under ASGI it adds no thread hop of its own.
    "axes.middleware.AxesMiddleware",
]

# For benchmarks only: `make compare` sets it to measure what Django's middleware costs each
# interface. It keeps the X-Interface header (async-capable, so no thread hop under ASGI) and drops
# everything else; sessions, logins, CSRF and messages stop working. Never set it on a real site.
if env.bool("DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE", default=False):
    MIDDLEWARE = ["myproject.middleware.InterfaceHeaderMiddleware"]

ROOT_URLCONF = "myproject.urls"
WSGI_APPLICATION = "myproject.wsgi.application"
ASGI_APPLICATION = "myproject.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "myproject.context_processors.stack",
            ],
        },
    },
]


# Database ---------------------------------------------------------------------------------------

DEFAULT_SQLITE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"


def _database_from_url(url: str) -> dict:
    try:
        with warnings.catch_warnings():  # an unknown scheme is reported below, as an error
            warnings.simplefilter("ignore")
            config = environ.Env.db_url_config(url)
    except Exception as error:  # django-environ raises KeyError, ValueError... for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL ({error!r}).") from None
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.sqlite3", "django.db.backends.postgresql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a sqlite:/// or postgres:// URL, "
            f"not {urlsplit(url).scheme or 'a URL without a scheme'!r}."
        )
    if engine.endswith("postgresql") and not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL names no database (postgres://user@host:port/NAME).")
    return config


DATABASES = {"default": _database_from_url(env.str("DATABASE_URL", default=DEFAULT_SQLITE_URL))}
_db = DATABASES["default"]

if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Two server processes (Gunicorn and Uvicorn) share one file. WAL lets readers and one writer
    # work at once; IMMEDIATE takes the write lock at BEGIN, so a writer waits out `timeout`
    # instead of failing with "database is locked" halfway through a transaction.
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

if SERVER_INTERFACE == "wsgi":
    # A WSGI worker handles one request at a time on one thread, so keeping that thread's
    # connection between requests is safe and saves a connect per request. Health checks drop a
    # connection the database closed before it is reused.
    _db["CONN_MAX_AGE"] = 60
    _db["CONN_HEALTH_CHECKS"] = True
else:
    # Under ASGI, sync ORM work runs on executor threads that come and go with the event loop's
    # needs; a persistent connection per thread would pile up idle connections. Close each one at
    # the end of the request and, on PostgreSQL, borrow it from psycopg's pool instead.
    _db["CONN_MAX_AGE"] = 0
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db.setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 10, "timeout": 10}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Channel layer ----------------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="").strip()
# Empty entries (a trailing comma, a variable set to "") are ignored, never read as a host.
REDIS_SENTINELS = [entry.strip() for entry in env.list("REDIS_SENTINELS", default=[]) if entry.strip()]
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="") or "mymaster"
# How long a process waits for one sentinel before asking the next: the sentinels answer a
# one-line question, and a dead one must not hold up the failover it exists for.
REDIS_SENTINEL_TIMEOUT_SECONDS = 1.0


def _check_redis_url(url: str) -> str:
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


def _sentinel_address(entry: str) -> tuple[str, int]:
    host, _, port = entry.rpartition(":")
    if not host or not port.isascii() or not port.isdecimal() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(
            f"REDIS_SENTINELS must be a comma-separated list of host:port, not {entry!r}."
        )
    return host.strip("[]"), int(port)  # [::1]:26379 names an IPv6 address


def _redis_hosts() -> list[str | dict[str, Any]]:
    """The channel layer's Redis hosts, in channels-redis's own format: one entry per shard.

    Several comma-separated URLs in REDIS_URL shard the layer: each group and channel lives on one
    of them, chosen by a hash of its name, so every process must list the same URLs in the same
    order. With REDIS_SENTINELS, each shard is a master that the sentinels name (several
    comma-separated names in REDIS_SENTINEL_MASTER shard over several masters): a process asks the
    sentinels where the master is whenever it connects, so after a failover it finds the promoted
    replica by itself.
    """
    if REDIS_SENTINELS:
        if REDIS_URL:
            raise ImproperlyConfigured(
                "REDIS_URL and REDIS_SENTINELS are both set: the sentinels say where the master is, "
                "so unset REDIS_URL (or REDIS_SENTINELS)."
            )
        sentinels = [_sentinel_address(entry) for entry in REDIS_SENTINELS]
        masters = [name.strip() for name in REDIS_SENTINEL_MASTER.split(",")]
        if not all(masters):
            raise ImproperlyConfigured(
                "REDIS_SENTINEL_MASTER must name the master(s) the sentinels watch, "
                f"not {REDIS_SENTINEL_MASTER!r}."
            )
        timeouts = {
            "socket_timeout": REDIS_SENTINEL_TIMEOUT_SECONDS,
            "socket_connect_timeout": REDIS_SENTINEL_TIMEOUT_SECONDS,
        }
        return [
            {"sentinels": sentinels, "master_name": name, "sentinel_kwargs": timeouts} for name in masters
        ]
    return [_check_redis_url(url.strip()) for url in REDIS_URL.split(",") if url.strip()]


REDIS_HOSTS = _redis_hosts()

# channels-redis has two layers. RedisChannelLayer queues each event in Redis until a process
# takes it; RedisPubSubChannelLayer publishes it to whichever processes are subscribed right now.
# The chat's fan-out benchmark (docs/chat.md) measured both: Pub/Sub delivered the same messages
# with half the server CPU and a lower p99 latency in every round, so it is the default. What Pub/Sub
# gives up (no queueing for a process that is briefly cut off) the chat makes up for by storing
# first and resuming from the database. REDIS_CHANNEL_LAYER picks the other one to compare.
REDIS_CHANNEL_LAYERS = {
    "RedisChannelLayer": "channels_redis.core.RedisChannelLayer",
    "RedisPubSubChannelLayer": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
REDIS_CHANNEL_LAYER = env.str("REDIS_CHANNEL_LAYER", default="RedisPubSubChannelLayer")
if REDIS_CHANNEL_LAYER not in REDIS_CHANNEL_LAYERS:
    raise ImproperlyConfigured(
        f"REDIS_CHANNEL_LAYER must be one of {', '.join(REDIS_CHANNEL_LAYERS)}, not {REDIS_CHANNEL_LAYER!r}."
    )

if REDIS_HOSTS:
    # The layer that joins the two stacks: a Gunicorn worker publishes, Uvicorn's consumers hear it.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": REDIS_CHANNEL_LAYERS[REDIS_CHANNEL_LAYER],
            # Each host with a retry for connections a Redis restart broke (myproject/redis_clients.py).
            "CONFIG": {"hosts": layer_hosts(REDIS_HOSTS)},
        }
    }
else:
    # Lives in this process's memory only: fine for runserver and unit tests, useless between
    # processes (myproject/checks.py warns when a real server starts with it).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Chat limits (chat/consumers.py); docs/chat.md says why each is where it is.
# Per connection: 5 frames a second on average, bursts of 10; past that each frame is answered
# rate_limited, and a connection that earns more than 20 of those (one forgiven a second) is closed.
CHAT_RATE_LIMIT_PER_SECOND = 5
CHAT_RATE_LIMIT_BURST = 10
CHAT_FLOOD_STRIKES = 20
# A server's presence entries live this long unless its heartbeat (every third of it) renews them:
# how long a server that died without a goodbye can still show its users as present.
CHAT_PRESENCE_TTL_SECONDS = env.float("CHAT_PRESENCE_TTL_SECONDS", default=15.0)


# Where the stacks are ---------------------------------------------------------------------------
# myproject/stack_layout.py reads these for every page's header (a link to the same page on the
# other stack) and for the WebSocket address of the pages Gunicorn serves (it cannot hold a socket).


def _port(variable: str) -> int | None:
    port: int | None = env.int(variable, default=None)
    if port is not None and not 0 < port < 65536:
        raise ImproperlyConfigured(f"{variable} must be a port number from 1 to 65535, not {port}.")
    return port


# The ports browsers reach each stack on when the two run side by side on one host, with no proxy
# in front: `make run` sets both. Unset (the containers behind nginx, a platform), a page links to
# no other stack and opens its socket on its own origin, where the proxy routes /ws/ to ASGI.
# CHAT_WEBSOCKET_PORT is ASGI_STACK_PORT's earlier name, from when only the chat needed it.
WSGI_STACK_PORT = _port("WSGI_STACK_PORT")
ASGI_STACK_PORT = _port("ASGI_STACK_PORT") or _port("CHAT_WEBSOCKET_PORT")
# `manage.py runserver` serves the whole site from one process (Daphne's, ASGI): no other stack.
# The same test manage.py makes to set SERVER_INTERFACE.
RUNSERVER = sys.argv[1:2] == ["runserver"]


# The race page (/demo/race/, docs/race.md) ------------------------------------------------------
# Where the race's server-side driver (demo/racing.py, on the ASGI stack) sends its requests: the
# stacks' own addresses, never one a client names. `make run` exports WSGI_PORT and ASGI_PORT, so
# both stacks are raced on loopback; docker-compose.yml names its services. Unset, a stack is not
# raced, except the ASGI stack the race's socket arrived on (runserver: one stack, Daphne's).


def _stack_url(url_variable: str, port_variable: str) -> str:
    url = env.str(url_variable, default="")
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


RACE_WSGI_URL = _stack_url("RACE_WSGI_URL", "WSGI_PORT")
RACE_ASGI_URL = _stack_url("RACE_ASGI_URL", "ASGI_PORT")
# The race page's browser-direct mode calls the other stack's probes from the page's origin, which
# the browser allows only if the probes answer with CORS headers for that origin. Only the probes:
# every other path (pages, forms, the admin) stays same-origin. By default the allowed origins are
# the stacks' ports on each allowed host name, which covers `make run`'s two origins.
CORS_URLS_REGEX = r"^/demo/(sync|async)/"
_race_ports = sorted({urlsplit(url).port or 80 for url in (RACE_WSGI_URL, RACE_ASGI_URL) if url})
CORS_ALLOWED_ORIGINS = env.list(
    "RACE_BROWSER_ORIGINS",
    default=[
        f"http://{host}:{port}"
        for host in ALLOWED_HOSTS
        if not host.startswith((".", "*"))
        for port in _race_ports
    ],
)


# Auth, sessions, static files -------------------------------------------------------------------

# Sessions live in the shared database, so a login made on one stack is valid on the other.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login and sign-up throttling ------------------------------------------------------------------
# docs/reliability.md says why each limit is where it is.

# Axes' backend goes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is refused
# for AXES_COOLOFF_MINUTES, right password or not. Counting the pair, not the address alone, keeps
# one client behind a shared address (or a proxy that hides addresses) from locking everyone out;
# counting the pair, not the username alone, keeps a stranger from locking a user out everywhere.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The address is REMOTE_ADDR only: a client can write any X-Forwarded-For it likes.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Failures are all Axes needs to keep; a row per successful login would only grow.
AXES_DISABLE_ACCESS_LOG = True

# Sign-ups per client address (django-ratelimit's "N/period": s, m, h or d), counted in the
# "throttle" cache. With REDIS_URL set that is Redis, shared by every process of both stacks; without
# it (runserver, unit tests: one process) it is this process's memory.
SIGNUP_RATE_LIMIT = env.str("SIGNUP_RATE_LIMIT", default="5/h")


def shared_cache(name: str) -> dict[str, Any]:
    """A cache every process of both stacks shares: Redis when REDIS_URL is set, else this process's
    memory (runserver, unit tests: one process).

    The first REDIS_URL only: with several (shards), Django's RedisCache would write to the first and
    read from the others, which hold no copy of its keys.
    """
    if not REDIS_URL:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL.split(",")[0],
        # Short socket timeouts: a Redis that hangs must not hang the page that asked it.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": shared_cache("throttle"),
    # The /demo/wire/ page's traces (myproject/wire_recorder.py): recorded by whichever process served
    # the capture, read by whichever serves the page's next request, on either stack.
    "wire": shared_cache("wire"),
}
# How many /demo/wire/ captures (each a trace kept a minute in that Redis) one client, and everybody
# together, may make a minute (myproject/wire_budget.py); past either the capture is answered 429.
WIRE_CAPTURES_PER_CLIENT = env.int("WIRE_CAPTURES_PER_CLIENT", default=30)
WIRE_CAPTURES_TOTAL = env.int("WIRE_CAPTURES_TOTAL", default=600)
RATELIMIT_USE_CACHE = "throttle"
# A cache that answers without a count lets sign-ups through (myproject/views.py does the same when
# Redis does not answer at all): the throttle is a brake, not a lock.
RATELIMIT_FAIL_OPEN = True


# Report exports ---------------------------------------------------------------------------------
# docs/reliability.md says why: an export holds a sync worker (WSGI) or a database connection
# (ASGI) for as long as the client takes to read it.

# Report pages are public; their CSV export needs a signed-in user.
REPORTS_EXPORT_LOGIN_REQUIRED = env.bool("REPORTS_EXPORT_LOGIN_REQUIRED", default=True)
# Exports running at once on one stack (all its worker processes together); past it, 503 with
# Retry-After before any byte of the export is sent.
REPORTS_EXPORT_CONCURRENCY = env.int("REPORTS_EXPORT_CONCURRENCY", default=2)
REPORTS_EXPORT_RETRY_AFTER_SECONDS = env.int("REPORTS_EXPORT_RETRY_AFTER_SECONDS", default=30)
if REPORTS_EXPORT_CONCURRENCY < 1:
    raise ImproperlyConfigured("REPORTS_EXPORT_CONCURRENCY must be at least 1.")
_pool = _db.get("OPTIONS", {}).get("pool")
if _pool and _pool["max_size"] <= REPORTS_EXPORT_CONCURRENCY:
    # Each running export holds one pooled connection until its last row: as many exports as the
    # pool has connections would leave none for pages, and the next export would wait out the
    # pool's timeout after its 200 header had gone out.
    raise ImproperlyConfigured(
        f"REPORTS_EXPORT_CONCURRENCY ({REPORTS_EXPORT_CONCURRENCY}) must be below the database "
        f"pool's max_size ({_pool['max_size']})."
    )


# Metrics (/metrics, metrics/; docs/deployment.md, "Metrics") --------------------------------------
# Open with debug on. In production only for a scraper that sends `Authorization: Bearer
# <METRICS_TOKEN>` or whose address is in METRICS_ALLOW_FROM (comma-separated addresses or CIDRs:
# the orchestrator's or scraper's network); anyone else gets the site's 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOW_FROM = [entry.strip() for entry in env.list("METRICS_ALLOW_FROM", default=[]) if entry.strip()]
if "*" in METRICS_ALLOW_FROM:
    raise ImproperlyConfigured("METRICS_ALLOW_FROM must name the scraper's networks, not '*'.")
try:
    trusted_networks(METRICS_ALLOW_FROM)
except ValueError as error:
    raise ImproperlyConfigured(f"METRICS_ALLOW_FROM is not a list of networks ({error}).") from None


# HTTPS --------------------------------------------------------------------------------------------
# Whether a request came over HTTPS is the server's call, not the client's: Gunicorn and Uvicorn
# honour X-Forwarded-Proto (and -For) only from the addresses in FORWARDED_ALLOW_IPS (the proxy in
# front; deploy/start-*.sh), and tell Django through wsgi.url_scheme / the ASGI scope. A server that
# cannot be told whom to trust needs Django to read the header itself, and that is safe only when
# every request passes through a proxy that overwrites it: DJANGO_TRUSTED_PROXY declares such a
# proxy. Trusting the header from anyone would let any client claim HTTPS (and pass the CSRF
# Origin check for an https:// origin).
# The same list the start scripts hand to Gunicorn and Uvicorn; myproject/wsgi.py also takes the
# client's address from it, which Gunicorn (unlike Uvicorn) leaves to the application.
FORWARDED_ALLOW_IPS = env.list("FORWARDED_ALLOW_IPS", default=[])
try:
    trusted_networks(FORWARDED_ALLOW_IPS)
except ValueError as error:
    raise ImproperlyConfigured(f"FORWARDED_ALLOW_IPS is not a list of addresses ({error}).") from None
if env.bool("DJANGO_TRUSTED_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# DJANGO_HTTPS: the site is served over HTTPS only. Plain-HTTP requests are redirected, and the
# session and CSRF cookies never travel without TLS. Exempt: the health probes, which an
# orchestrator checks over plain HTTP from inside the network (a redirect would fail its probe), and
# the demo probes, which the race page's driver calls the same way (they set and read no cookie).
_https_only = env.bool("DJANGO_HTTPS", default=False)
SECURE_SSL_REDIRECT = _https_only
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^demo/(sync|async)/"]
SESSION_COOKIE_SECURE = _https_only
CSRF_COOKIE_SECURE = _https_only
# HSTS tells browsers to use HTTPS only, for this long; a promise that cannot be taken back before
# it expires, so it starts at 0 (off) and a deployment raises it on purpose (docs/deployment.md).
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
# Origins allowed to POST besides the page's own host, e.g. https://example.com when a proxy
# changes the host name on the way.
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` gathers every app's files, each also under a name that carries a hash of its
# content (css/site.eba38c647425.css), with compressed copies beside them (gzip; Brotli too where the
# brotli package is installed). The image runs it at build time (Dockerfile), so a production
# container serves the files it was built with.
# DJANGO_STATIC_ROOT is for a collection made elsewhere (the test suite collects into a temporary
# folder).
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # {% static %} names the hashed file, which WhiteNoise and ServeStatic send with a ten-year,
    # immutable Cache-Control: a new deployment changes the name, never the file behind a name.
    # With debug on, {% static %} names the plain file and no collection is needed (make run,
    # runserver); with debug off, a page that names a file missing from the collection is an error.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Static files are served by the stacks themselves, under WSGI by WhiteNoise's middleware (and on
# the stock ASGI stack, where Django runs it on a thread), on the async-native ASGI stack by
# ServeStatic, a fork of WhiteNoise with an async path that reads the same settings under its own
# prefix; the tests check that both send the same headers. With debug off both serve STATIC_ROOT
# only; with debug on both look files up through the finders, at each request, as runserver does.
# nginx passes /static/ on to the WSGI stack like any other path (docs/deployment.md says why it
# does not serve them itself).
# Files served at the site's root rather than under STATIC_URL: /favicon.ico, which browsers ask
# for on pages that name no icon (the admin, JSON answers, error pages).
WHITENOISE_ROOT = SERVESTATIC_ROOT = BASE_DIR / "static" / "root"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # The Pub/Sub layer logs a full traceback a second while Redis is down, in every process: one
    # line when Redis goes, one when it is back (myproject/realtime/layer_log.py).
    "filters": {"one_line_per_outage": {"()": "myproject.realtime.layer_log.OneLinePerLayerOutage"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"level": env.str("DJANGO_LOG_LEVEL", default="INFO"), "propagate": True},
        "channels_redis.pubsub": {"filters": ["one_line_per_outage"]},
        # Axes logs four INFO lines per login; its warnings (failures, lockouts) are the news.
        "axes": {"level": "WARNING"},
    },
}
