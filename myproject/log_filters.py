"""Logging filters for lines a client can make the servers write, and the LOGGING configuration
that installs them (myproject/settings.py).

A client's mistake, or an attack, is news in one short line. Logged as the libraries log it, each
one costs a traceback and whatever the client sent: a 10 KB Host header is written out twice (the
message and the exception's), once per request, for as long as the client likes.
"""

from __future__ import annotations

import logging
from typing import Any

# Enough to recognise what a client sent; the rest is counted, not copied.
MAX_LOGGED_CHARS = 200


def shortened(text: str) -> str:
    if len(text) <= MAX_LOGGED_CHARS:
        return text
    return f"{text[:MAX_LOGGED_CHARS]}... ({len(text)} characters)"


def one_line(record: logging.LogRecord, message: str) -> None:
    """Make `record` print as `message` alone: no traceback, no second line."""
    record.msg, record.args = message.replace("\n", " "), None
    record.exc_info = record.exc_text = record.stack_info = None


class ClientErrorOnOneLine(logging.Filter):
    """For the records of Django's `django.security.*` loggers, each a request a client made wrong
    (DisallowedHost, a bad signature, too many fields...): the message, shortened, without the
    traceback of the exception that carried it to the handler. A handler's filter: a logger's
    filters see only the records of that very logger, not its children's."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security."):
            one_line(record, shortened(record.getMessage()))
        return True


class InvalidUtf8OnOneLine(logging.Filter):
    """For `uvicorn.error`: its websockets-sansio protocol logs a text frame that is not UTF-8 as an
    ERROR with a traceback, once per frame a client sends; the connection is closed with 1007,
    which is all there is to say. Other records pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "Invalid UTF-8 sequence received from client.":
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            one_line(record, "WebSocket closed with 1007: a client sent a text frame that is not UTF-8.")
        return True


def logging_config(django_level: str) -> dict[str, Any]:
    """LOGGING: one plain line per record, with the process id (two stacks, several workers each),
    Django's loggers at `django_level`, and a filter wherever a client or an outage could make the
    servers write more than one line for one event."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"}
        },
        "handlers": {
            # DisallowedHost and the other client errors: Django logs each with its traceback, and
            # the Host header (10 KB, if a client likes) twice.
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["client_error_on_one_line"],
            }
        },
        "filters": {
            # The Pub/Sub layer logs a full traceback a second while Redis is down, in every process:
            # one line when Redis goes, one when it is back (myproject/realtime/layer_log.py).
            "one_line_per_outage": {"()": "myproject.realtime.layer_log.OneLinePerLayerOutage"},
            "client_error_on_one_line": {"()": "myproject.log_filters.ClientErrorOnOneLine"},
            "invalid_utf8_on_one_line": {"()": "myproject.log_filters.InvalidUtf8OnOneLine"},
        },
        "root": {"handlers": ["console"], "level": "INFO"},
        "loggers": {
            "django": {"level": django_level, "propagate": True},
            "channels_redis.pubsub": {"filters": ["one_line_per_outage"]},
            # No handlers here, so Uvicorn's own stay as they are (its access and error lines).
            "uvicorn.error": {"filters": ["invalid_utf8_on_one_line"]},
            # Axes logs four INFO lines per login; its warnings (failures, lockouts) are the news.
            "axes": {"level": "WARNING"},
        },
    }
