"""Settings for the project: every value that varies between machines comes from the environment,
read here and nowhere else (the README's "Configuration" lists them; docs/deployment.md says how
production sets them). Development gets safe defaults; a production start (debug off) refuses to
run without what it needs.

This module says which variable feeds which setting, and why, in one line each. How a value is read
and when it is refused (ports, URLs, address lists, Redis Sentinels, the database policy for each
interface) is in myproject/environment.py, tested in tests/myproject/test_environment.py.
Where each concern is explained at length:
- WSGI vs ASGI database connections: docs/tour.md, docs/architecture.md;
- the ASGI stack switch (DJANGO_ASGI_STACK): docs/asgi-tax.md;
- the channel layer, Redis and the chat's limits: docs/chat.md, docs/reliability.md;
- throttling, exports and HTTPS: docs/reliability.md, docs/reports.md, docs/deployment.md;
- metrics: docs/deployment.md ("Metrics");
- the demo (probes, race, wire page), on with debug unless DJANGO_DEMO says otherwise: its own
  section below, which holds every demo-only setting, and docs/race.md.
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

BASE_DIR = Path(__file__).resolve().parent.parent

env = Environment()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Required with debug off; a development-only key with it on.
SECRET_KEY = secret_key(env, debug=DEBUG)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

# Which interface this process serves: set outright by the entry point the server loads
# (myproject/wsgi.py "wsgi", asgi.py and manage.py runserver "asgi"); anything else runs like WSGI.
SERVER_INTERFACE = env.choice("SERVER_INTERFACE", ("wsgi", "asgi"), default="wsgi")

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
    # Counts failed logins in the database, which both stacks share ("Login and sign-up throttling").
    "axes",
    # CORS headers on the demo probes only, for the race page's browser-direct mode (CORS_* below).
    "corsheaders",
    "chat",
    "reports",
    "demo",
]

# The ASGI stack ----------------------------------------------------------------------------------
# What an ASGI process runs for HTTP (docs/asgi-tax.md): "stock", Django's ASGIHandler and the
# middleware below as Django ships them, or the opt-in "async-native" handler (async_native/), which
# myproject/asgi.py builds with its own subclasses in place of these classes; MIDDLEWARE still names
# Django's, which its system checks look for. WSGI processes ignore it: no tax to cut.
ASGI_STACKS = ("stock", "async-native")
ASGI_STACK = env.choice("DJANGO_ASGI_STACK", ASGI_STACKS, default="stock")

# Whether an ASGI process serves WebSockets at all. On by default; deploy/start-daphne.sh and
# deploy/start-gunicorn-asgi.sh turn it off unless told otherwise, because neither server has an
# option that bounds what one client that sends pings and never reads makes it hold
# (docs/reliability.md): with it off every handshake is refused, so no such client gets a socket.
SERVE_WEBSOCKETS = env.bool("DJANGO_WEBSOCKETS", default=True)

MIDDLEWARE = [
    # Outermost: counts and times every request, and answers /metrics (metrics/). Async-capable.
    "metrics.middleware.RequestMetricsMiddleware",
    # So that every response (errors and static files included) names its interface.
    "myproject.middleware.InterfaceHeaderMiddleware",
    # Before anything that may answer early (CommonMiddleware's redirects), so that every probe
    # answer gets its CORS headers. Async-capable: no thread hop.
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
    # Last, as Axes asks: it turns a refused login into its lockout response. Async-capable.
    "axes.middleware.AxesMiddleware",
]

# For benchmarks only (`make compare`: what Django's middleware costs each interface): keeps the
# X-Interface header and drops the rest, sessions, logins and CSRF included. Never on a real site.
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
# SQLite or PostgreSQL; a WSGI worker keeps its connection, an ASGI process closes it after each
# request (pooled on PostgreSQL): database() in myproject/environment.py says why.
DEFAULT_SQLITE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": database(env.str("DATABASE_URL", default=DEFAULT_SQLITE_URL), SERVER_INTERFACE)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Channel layer ----------------------------------------------------------------------------------
# REDIS_URL: one URL, or several comma-separated ones to shard the layer; or REDIS_SENTINELS
# (host:port, ...) and the master name(s) they watch, for a layer that survives a failover.
REDIS_URL = env.str("REDIS_URL", default="").strip()
REDIS_SENTINELS = env.entries("REDIS_SENTINELS")
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="") or "mymaster"
# A dead sentinel must not hold up the failover it exists for: each gets a second to answer.
REDIS_SENTINEL_TIMEOUT_SECONDS = 1.0
REDIS_HOSTS = redis_hosts(REDIS_URL, REDIS_SENTINELS, REDIS_SENTINEL_MASTER, REDIS_SENTINEL_TIMEOUT_SECONDS)

# Pub/Sub is the default: the chat's fan-out benchmark (docs/chat.md) measured half the server CPU
# and a lower p99 than the queueing layer, and the chat makes up for what Pub/Sub gives up (no
# queue for a process briefly cut off) by storing first and resuming from the database.
REDIS_CHANNEL_LAYERS = {
    "RedisChannelLayer": "channels_redis.core.RedisChannelLayer",
    "RedisPubSubChannelLayer": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
REDIS_CHANNEL_LAYER = env.choice(
    "REDIS_CHANNEL_LAYER",
    REDIS_CHANNEL_LAYERS,
    default="RedisPubSubChannelLayer",
    expected=f"one of {', '.join(REDIS_CHANNEL_LAYERS)}",
)

# The layer that joins the two stacks (a Gunicorn worker publishes, Uvicorn's consumers hear it);
# without Redis, one in this process's memory, which myproject/checks.py warns a real server about.
CHANNEL_LAYERS = channel_layers(REDIS_HOSTS, REDIS_CHANNEL_LAYERS[REDIS_CHANNEL_LAYER])

# Chat limits per connection (chat/consumers.py; docs/chat.md says why): 5 frames a second, bursts
# of 10; past that rate_limited, and closed past 20 of those (one forgiven a second).
CHAT_RATE_LIMIT_PER_SECOND = 5
CHAT_RATE_LIMIT_BURST = 10
CHAT_FLOOD_STRIKES = 20
# How long a server that died without a goodbye still shows its users as present (renewed every third).
CHAT_PRESENCE_TTL_SECONDS = env.float("CHAT_PRESENCE_TTL_SECONDS", default=15.0)


# Where the stacks are ---------------------------------------------------------------------------
# For each page's link to the other stack, and the socket of pages Gunicorn serves, which cannot hold
# one (myproject/which_stack/layout.py). `make run` sets both; unset (behind nginx), the page's own origin.
# CHAT_WEBSOCKET_PORT is ASGI_STACK_PORT's earlier name.
WSGI_STACK_PORT = env.port("WSGI_STACK_PORT")
ASGI_STACK_PORT = env.port("ASGI_STACK_PORT") or env.port("CHAT_WEBSOCKET_PORT")
# `manage.py runserver` serves the whole site from one process (Daphne's, ASGI): no other stack.
RUNSERVER = sys.argv[1:2] == ["runserver"]


# The demo: demo-only settings (/demo/, its probes and sockets, the race, the wire page) ------------
# Its probes sleep, burn CPU and block an event loop on request, for anyone: the lesson on a
# developer's machine, a lever for a stranger on a public site. On with debug (make run), off in
# production unless DJANGO_DEMO=1; when off, /demo/ and its sockets are not routed at all.
DEMO = env.bool("DJANGO_DEMO", default=DEBUG)
# Probes that hold a stack's capacity take one of this many slots per stack (demo/probe_slots.py);
# past it, 503. Unset: half the stack's workers. 0: no bound, for `make compare`.
DEMO_PROBE_SLOTS = env.at_least("DJANGO_DEMO_PROBE_SLOTS", 0, default=None, expected="0 (no bound) or more")
# Where the race's server-side driver (demo/race_driver.py) sends its requests: the stacks' own addresses,
# never one a client names. `make run` exports WSGI_PORT and ASGI_PORT; compose names its services.
# Unset, a stack is not raced, except the ASGI stack the race's socket arrived on (docs/race.md).
RACE_WSGI_URL = stack_url(env, "RACE_WSGI_URL", "WSGI_PORT")
RACE_ASGI_URL = stack_url(env, "RACE_ASGI_URL", "ASGI_PORT")
# The driver's own process (deploy/start-race-driver.sh, which `make run` starts), where the race page
# opens its socket, so the stacks it races cannot stall it (docs/race.md, "Where the driver runs").
# Unset, the page opens its race socket where it opens the others.
RACE_DRIVER_PORT = env.port("RACE_DRIVER_PORT")
# The race page's browser-direct mode calls the other stack's probes from the page's origin: CORS
# headers for the probes only, by default for the stacks' ports on each allowed host name.
CORS_URLS_REGEX = r"^/demo/(sync|async)/"
CORS_ALLOWED_ORIGINS = env.list(
    "RACE_BROWSER_ORIGINS", default=stack_origins(ALLOWED_HOSTS, (RACE_WSGI_URL, RACE_ASGI_URL))
)
# /demo/wire/ captures (each a trace kept a minute in the "wire" cache) one client, and everybody
# together, may make a minute (myproject/wire/budget.py); past either the capture is answered 429.
WIRE_CAPTURES_PER_CLIENT = env.int("WIRE_CAPTURES_PER_CLIENT", default=30)
WIRE_CAPTURES_TOTAL = env.int("WIRE_CAPTURES_TOTAL", default=600)


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
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is refused
# for AXES_COOLOFF_MINUTES. The pair, so that neither a shared address nor a stranger locks a user out.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The address is REMOTE_ADDR only: a client can write any X-Forwarded-For it likes.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Failures are all Axes needs to keep; a row per successful login would only grow.
AXES_DISABLE_ACCESS_LOG = True

# Sign-ups per client address (django-ratelimit's "N/period": s, m, h or d), counted in the
# "throttle" cache, which every process of both stacks shares when REDIS_URL is set.
SIGNUP_RATE_LIMIT = env.str("SIGNUP_RATE_LIMIT", default="5/h")

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": shared_cache("throttle", REDIS_URL),
    # Demo-only: the /demo/wire/ page's traces (myproject/wire/recorders.py), read by any process.
    "wire": shared_cache("wire", REDIS_URL),
}
RATELIMIT_USE_CACHE = "throttle"
# A cache that answers without a count lets sign-ups through: the throttle is a brake, not a lock.
RATELIMIT_FAIL_OPEN = True


# Report exports ---------------------------------------------------------------------------------
# An export holds a sync worker (WSGI) or a database connection (ASGI) for as long as the client
# takes to read it (docs/reliability.md).
REPORTS_EXPORT_LOGIN_REQUIRED = env.bool("REPORTS_EXPORT_LOGIN_REQUIRED", default=True)
REPORTS_EXPORT_RETRY_AFTER_SECONDS = env.int("REPORTS_EXPORT_RETRY_AFTER_SECONDS", default=30)
# Exports at once on one stack (all its processes together); past it, 503 with Retry-After.
REPORTS_EXPORT_CONCURRENCY = env.at_least("REPORTS_EXPORT_CONCURRENCY", 1, default=2, expected="at least 1")
check_pool_headroom(REPORTS_EXPORT_CONCURRENCY, DATABASES["default"])


# Metrics (/metrics, metrics/; docs/deployment.md, "Metrics") --------------------------------------
# Open with debug on; in production only for `Authorization: Bearer <METRICS_TOKEN>` or an address
# in METRICS_ALLOW_FROM (the scraper's networks); anyone else gets the site's 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOW_FROM = env.networks("METRICS_ALLOW_FROM")


# HTTPS --------------------------------------------------------------------------------------------
# Whether a request came over HTTPS is the server's call: Gunicorn and Uvicorn honour
# X-Forwarded-Proto (and -For) only from FORWARDED_ALLOW_IPS (deploy/start-*.sh), and
# myproject/wsgi.py takes the client's address from the same list.
FORWARDED_ALLOW_IPS = env.addresses("FORWARDED_ALLOW_IPS")
# For a server that cannot be told whom to trust: safe only behind a proxy that overwrites the header.
if env.bool("DJANGO_TRUSTED_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTPS only: redirects and secure cookies; the health and demo probes, called over plain HTTP from
# inside the network (an orchestrator, the race's driver), are exempt from the redirect.
_https_only = env.bool("DJANGO_HTTPS", default=False)
SECURE_SSL_REDIRECT = _https_only
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^demo/(sync|async)/"]
SESSION_COOKIE_SECURE = _https_only
CSRF_COOKIE_SECURE = _https_only
# A promise browsers keep until it expires: 0 (off) until a deployment raises it (docs/deployment.md).
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
# Origins allowed to POST besides the page's own host (a proxy that changes the host name).
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
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            # DisallowedHost and the other client errors: Django logs each with its traceback, and
            # the Host header (10 KB, if a client likes) twice.
            "filters": ["client_error_on_one_line"],
        }
    },
    # The Pub/Sub layer logs a full traceback a second while Redis is down, in every process: one
    # line when Redis goes, one when it is back (myproject/realtime/layer_log.py).
    "filters": {
        "one_line_per_outage": {"()": "myproject.realtime.layer_log.OneLinePerLayerOutage"},
        # What a client can make the servers write is one short line per event (myproject/log_filters.py).
        "client_error_on_one_line": {"()": "myproject.log_filters.ClientErrorOnOneLine"},
        "invalid_utf8_on_one_line": {"()": "myproject.log_filters.InvalidUtf8OnOneLine"},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"level": env.str("DJANGO_LOG_LEVEL", default="INFO"), "propagate": True},
        "channels_redis.pubsub": {"filters": ["one_line_per_outage"]},
        # No handlers here, so Uvicorn's own stay as they are (its access and error lines).
        "uvicorn.error": {"filters": ["invalid_utf8_on_one_line"]},
        # Axes logs four INFO lines per login; its warnings (failures, lockouts) are the news.
        "axes": {"level": "WARNING"},
    },
}
