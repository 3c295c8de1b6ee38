"""Settings for the project: every value that varies between machines comes from the environment,
read here and nowhere else (the README's "Configuration" lists the variables). Development gets safe
defaults; a production start (debug off) refuses to run without what it needs.

Which variable feeds which setting, and why; how a value is read and when it is refused is in
myproject/environment.py. The demo's settings are the last section, fenced off.
"""

import sys
from datetime import timedelta
from pathlib import Path

from myproject.environment import (
    Environment,
    channel_layers,
    check_pool_headroom,
    database,
    redis_hosts,
    secret_key,
    shared_cache,
    stack_origins,
    stack_url,
)
from myproject.log_filters import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
env = Environment()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = secret_key(env, debug=DEBUG)  # required with debug off; a development-only key with it on
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

# WSGI and ASGI (docs/architecture.md) ------------------------------------------------------------
# Set by the entry point the server loads (myproject/wsgi.py "wsgi"; asgi.py and runserver "asgi").
SERVER_INTERFACE = env.choice("SERVER_INTERFACE", ("wsgi", "asgi"), default="wsgi")
# What an ASGI process runs for HTTP (docs/asgi-tax.md): Django's handler and middleware as shipped,
# or the opt-in async_native/ subclasses, which myproject/asgi.py puts in place of those MIDDLEWARE
# names (Django's checks look for them). WSGI has no thread hops to cut.
ASGI_STACKS = ("stock", "async-native")
ASGI_STACK = env.choice("DJANGO_ASGI_STACK", ASGI_STACKS, default="stock")
# Off in deploy/start-daphne.sh and start-gunicorn-asgi.sh: neither server can bound what a client
# that pings and never reads makes it hold (docs/reliability.md), so every handshake is refused.
SERVE_WEBSOCKETS = env.bool("DJANGO_WEBSOCKETS", default=True)
# Where the other stack is, for each page's link to it and the socket of pages Gunicorn serves
# (myproject/which_stack/layout.py). `make run` sets both; unset (behind nginx), the page's own origin.
WSGI_STACK_PORT = env.port("WSGI_STACK_PORT")
ASGI_STACK_PORT = env.port("ASGI_STACK_PORT") or env.port("CHAT_WEBSOCKET_PORT")  # its earlier name
RUNSERVER = sys.argv[1:2] == ["runserver"]  # one process (Daphne's, ASGI) serves it all: no other stack

INSTALLED_APPS = [
    "daphne",  # first, so that `manage.py runserver` serves HTTP and WebSockets through ASGI
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # intcomma: every count on a page is written one way, 20,000
    "servestatic",  # its system checks only; it serves nothing by itself
    "axes",  # counts failed logins in the database, which both stacks share
    "corsheaders",  # demo-only: CORS headers on the probes (the demo section)
    "chat",
    "reports",
    "demo",
]

# The project's, CORS's and Axes' middleware are async-capable: under ASGI they run on the event
# loop; each of Django's and WhiteNoise's costs a hop to a thread and back (docs/asgi-tax.md).
MIDDLEWARE = [
    "metrics.middleware.RequestMetricsMiddleware",  # outermost: times every request; answers /metrics
    "myproject.middleware.InterfaceHeaderMiddleware",  # every response names its interface
    # Demo-only. Before anything that may answer early (CommonMiddleware's redirects), so that every
    # probe answer gets its CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # right after SecurityMiddleware, as WhiteNoise asks
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as Axes asks: it turns a refused login into a lockout
]
# For `make compare` only (what Django's middleware costs each interface): the X-Interface header and
# nothing else, sessions, logins and CSRF included. Never on a real site.
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

# Database ----------------------------------------------------------------------------------------
# SQLite or PostgreSQL; a WSGI worker keeps its connection, an ASGI process closes it after each
# request (pooled on PostgreSQL): database() says why.
DEFAULT_SQLITE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": database(env.str("DATABASE_URL", default=DEFAULT_SQLITE_URL), SERVER_INTERFACE)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channel layer and chat (docs/chat.md, docs/reliability.md) --------------------------------------
# REDIS_URL: one URL, or several comma-separated ones to shard the layer; or REDIS_SENTINELS
# (host:port, ...) and the master name(s) they watch, for a layer that survives a failover.
REDIS_URL = env.str("REDIS_URL", default="").strip()
REDIS_SENTINELS = env.entries("REDIS_SENTINELS")
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="mymaster")
REDIS_SENTINEL_TIMEOUT_SECONDS = 1.0  # a dead sentinel must not hold up the failover it exists for
REDIS_HOSTS = redis_hosts(REDIS_URL, REDIS_SENTINELS, REDIS_SENTINEL_MASTER, REDIS_SENTINEL_TIMEOUT_SECONDS)
# Pub/Sub by default: half the server CPU and a lower p99 in the chat's fan-out benchmark; the chat
# makes up for its lack of a queue by storing first and resuming from the database.
REDIS_CHANNEL_LAYERS = {
    "RedisChannelLayer": "channels_redis.core.RedisChannelLayer",
    "RedisPubSubChannelLayer": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
REDIS_CHANNEL_LAYER = env.choice(
    "REDIS_CHANNEL_LAYER",
    REDIS_CHANNEL_LAYERS,
    "RedisPubSubChannelLayer",
    f"one of {', '.join(REDIS_CHANNEL_LAYERS)}",
)
# What joins the two stacks (a Gunicorn worker publishes, Uvicorn's consumers hear it); without Redis,
# this process's memory only, which myproject/checks.py warns a real server about.
CHANNEL_LAYERS = channel_layers(REDIS_HOSTS, REDIS_CHANNEL_LAYERS[REDIS_CHANNEL_LAYER])
# Per connection (chat/consumers.py): 5 frames a second, bursts of 10; past that rate_limited, and
# closed past 20 of those (one forgiven a second).
CHAT_RATE_LIMIT_PER_SECOND = 5
CHAT_RATE_LIMIT_BURST = 10
CHAT_FLOOD_STRIKES = 20
# How long a server that died without a goodbye still shows its users as present (renewed every third).
CHAT_PRESENCE_TTL_SECONDS = env.float("CHAT_PRESENCE_TTL_SECONDS", default=15.0)

# Logins and sign-ups (docs/reliability.md says why each limit is where it is) --------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"  # shared: a login on one stack holds on the other
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: a locked-out login is refused before its password is checked. It locks out a username
# from an address (REMOTE_ADDR: a client writes X-Forwarded-For), not either alone; it keeps failures only.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_DISABLE_ACCESS_LOG = True
# Sign-ups per client address ("N/period": s, m, h or d), counted in the "throttle" cache, which
# every process of both stacks shares when REDIS_URL is set.
SIGNUP_RATE_LIMIT = env.str("SIGNUP_RATE_LIMIT", default="5/h")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": shared_cache("throttle", REDIS_URL),
    "wire": shared_cache("wire", REDIS_URL),  # demo-only: the wire page's traces, read by any process
}
RATELIMIT_USE_CACHE = "throttle"
RATELIMIT_FAIL_OPEN = True  # a cache that cannot count lets sign-ups through: a brake, not a lock

# Report exports (docs/reports.md) ----------------------------------------------------------------
# An export holds a sync worker (WSGI) or a database connection (ASGI) for as long as the client
# takes to read it; past CONCURRENCY exports at once on a stack, 503 with Retry-After.
REPORTS_EXPORT_LOGIN_REQUIRED = env.bool("REPORTS_EXPORT_LOGIN_REQUIRED", default=True)
REPORTS_EXPORT_RETRY_AFTER_SECONDS = env.int("REPORTS_EXPORT_RETRY_AFTER_SECONDS", default=30)
REPORTS_EXPORT_CONCURRENCY = env.at_least("REPORTS_EXPORT_CONCURRENCY", 1, default=2, expected="at least 1")
check_pool_headroom(REPORTS_EXPORT_CONCURRENCY, DATABASES["default"])

# Metrics and HTTPS (docs/deployment.md) ----------------------------------------------------------
# /metrics: open with debug on; else only for `Authorization: Bearer <METRICS_TOKEN>` or an address in
# METRICS_ALLOW_FROM (the scraper's networks); anyone else gets the site's 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOW_FROM = env.networks("METRICS_ALLOW_FROM")
# Whether a request came over HTTPS is the server's call: Gunicorn and Uvicorn honour X-Forwarded-Proto
# (and -For) only from these (deploy/start-*.sh); myproject/wsgi.py reads the client's address likewise.
FORWARDED_ALLOW_IPS = env.addresses("FORWARDED_ALLOW_IPS")
# For a server that cannot be told whom to trust: safe only behind a proxy that overwrites the header.
if env.bool("DJANGO_TRUSTED_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only: redirects and secure cookies. The health and demo probes, called over plain HTTP from
# inside the network (an orchestrator, the race's driver), are exempt from the redirect.
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_HTTPS", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^demo/(sync|async)/"]
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)  # a promise browsers keep: off until raised
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files (docs/deployment.md) ---------------------------------------------------------------
# Each stack serves its own: WhiteNoise under WSGI and the stock ASGI stack (on a thread there),
# ServeStatic (its fork with an async path) on the async-native one. Debug off, both serve STATIC_ROOT,
# collected at build time under hashed names cached for ten years; debug on, they use the finders.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# DJANGO_STATIC_ROOT: a collection made elsewhere (the test suite collects into a temporary folder).
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# At the site's root: /favicon.ico, which browsers ask for on pages that name no icon.
WHITENOISE_ROOT = SERVESTATIC_ROOT = BASE_DIR / "static" / "root"

# What a client, or a Redis outage, makes the servers write is one line per event.
LOGGING = logging_config(django_level=env.str("DJANGO_LOG_LEVEL", default="INFO"))

# =================================================================================================
# The demo (off in production: DJANGO_DEMO)
# =================================================================================================
# /demo/'s probes sleep, burn CPU and block an event loop, for anyone: a lesson on a developer's machine,
# a lever for a stranger on a public site. Off, /demo/ and its sockets are not routed (docs/race.md).
# Its apps, its CORS middleware and its "wire" cache are above, each marked demo-only.
DEMO = env.bool("DJANGO_DEMO", default=DEBUG)
# Probes that hold a stack's capacity take one of this many slots per stack (demo/probe_slots.py);
# past it, 503. Unset: half the stack's workers. 0: no bound, for `make compare`.
DEMO_PROBE_SLOTS = env.at_least("DJANGO_DEMO_PROBE_SLOTS", 0, default=None, expected="0 (no bound) or more")
# Where the race's driver sends its requests, never an address a client names (`make run` exports
# the ports; compose names its services). Unset, that stack is not raced, unless the race came in on it.
RACE_WSGI_URL = stack_url(env, "RACE_WSGI_URL", "WSGI_PORT")
RACE_ASGI_URL = stack_url(env, "RACE_ASGI_URL", "ASGI_PORT")
# The driver's own process (deploy/start-race-driver.sh), where the race page opens its socket, so
# the stacks it races cannot stall it. Unset, the page opens it where it opens the others.
RACE_DRIVER_PORT = env.port("RACE_DRIVER_PORT")
# The race page's browser-direct mode calls the other stack's probes: CORS headers for the probes
# only, by default for the stacks' ports on each allowed host name.
CORS_URLS_REGEX = r"^/demo/(sync|async)/"
CORS_ALLOWED_ORIGINS = env.list(
    "RACE_BROWSER_ORIGINS", default=stack_origins(ALLOWED_HOSTS, (RACE_WSGI_URL, RACE_ASGI_URL))
)
# Wire-page captures (each a trace kept a minute in the "wire" cache) one client, and everybody
# together, may make a minute (myproject/wire/budget.py); past either, 429.
WIRE_CAPTURES_PER_CLIENT = env.int("WIRE_CAPTURES_PER_CLIENT", default=30)
WIRE_CAPTURES_TOTAL = env.int("WIRE_CAPTURES_TOTAL", default=600)
