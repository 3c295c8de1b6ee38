"""Settings for the project: every value that varies between machines comes from the environment,
read here and nowhere else (see ../shared/CONTRACT.md, "Configuration").

Development gets safe defaults; a production start (debug off) refuses to run without what it needs.
"""

import warnings
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="django-insecure-dev-only-never-use-in-production")
elif not env.str("DJANGO_SECRET_KEY", default=""):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. It is required when DJANGO_DEBUG is off; "
        "set it to a long random string (or set DJANGO_DEBUG=1 for local development)."
    )
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")

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
    "chat",
    "reports",
    "demo",
]

MIDDLEWARE = [
    # Outermost, so that every response (errors and static files included) names its interface.
    "myproject.middleware.InterfaceHeaderMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# For benchmarks only: `make compare` sets it to measure what Django's middleware costs each
# interface. It keeps the X-Interface header (async-native, so no thread hop under ASGI) and drops
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

REDIS_URL = env.str("REDIS_URL", default="")


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

if REDIS_URL:
    # The layer that joins the two stacks: a Gunicorn worker publishes, Uvicorn's consumers hear it.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": REDIS_CHANNEL_LAYERS[REDIS_CHANNEL_LAYER],
            "CONFIG": {"hosts": [_check_redis_url(REDIS_URL)]},
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
# Where a chat page opens its socket: the page's own host and port unless this names another
# port, e.g. the ASGI stack's for pages served by Gunicorn, which cannot hold a WebSocket.
CHAT_WEBSOCKET_PORT = env.int("CHAT_WEBSOCKET_PORT", default=None)


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

# nginx terminates TLS in front of both stacks and says so in this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves static files from the same process on both stacks. The project ships a few
# small files, so it serves them straight from the finders: no STATIC_ROOT, and no start path
# (make run, the Procfile, the containers, the tests) needs a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django": {"level": env.str("DJANGO_LOG_LEVEL", default="INFO"), "propagate": True}},
}
