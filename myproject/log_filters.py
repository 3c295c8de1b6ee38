"""Logging filters for lines a client can make the servers write (LOGGING in myproject/settings.py).

A client's mistake, or an attack, is news in one short line. Logged as the libraries log it, each
one costs a traceback and whatever the client sent: a 10 KB Host header is written out twice (the
message and the exception's), once per request, for as long as the client likes.
"""

from __future__ import annotations

import logging

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
