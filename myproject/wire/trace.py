"""What the /demo/wire/ page shows of one request: the WSGI environ or the ASGI scope and events,
turned into plain JSON, with secrets masked and every part bounded in size.

The recorders (myproject/wire/recorders.py) hand their raw material to these functions; the page
renders what comes out. Masking happens here, before anything is stored, by one rule: a header, a
query parameter, an environ or scope key, or a key of a WebSocket frame's JSON whose name contains
one of SECRET_WORDS (in any case) shows its name, never its value. A list of known secret headers
would always miss one (X-Auth-Token, X-Amz-Security-Token, Cookie2...); a rule on the name catches
them, at the price of masking a few harmless values (Sec-WebSocket-Key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

MASK = "<masked>"
SECRET_WORDS = ("token", "secret", "key", "password", "auth", "session", "cookie")
_SECRET_NAME = re.compile("|".join(SECRET_WORDS), re.IGNORECASE)
# Where a query string travels: PEP 3333's QUERY_STRING, the ASGI scope's query_string, and the
# whole request target that servers add besides (Gunicorn's RAW_URI, REQUEST_URI elsewhere).
QUERY_KEYS = frozenset({"QUERY_STRING", "query_string"})
URI_KEYS = frozenset({"RAW_URI", "REQUEST_URI", "raw_path"})

# Bounds, so that a request with huge headers stores a small trace: values are cut, lists capped.
MAX_VALUE_CHARS = 300
MAX_ITEMS = 80
MAX_EVENTS = 40
MAX_FRAME_PREVIEW_CHARS = 80


def shortened(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def masked_cookie_header(value: str) -> str:
    """`a=1; b=2` -> `a=<masked>; b=<masked>`: the names stay, the values go."""
    names = [pair.split("=", 1)[0].strip() for pair in value.split(";") if pair.strip()]
    return "; ".join(f"{name}={MASK}" for name in names)


def masked_set_cookie(value: str) -> str:
    """`sessionid=abc; HttpOnly; Path=/` -> `sessionid=<masked>; HttpOnly; Path=/`: the cookie's
    attributes teach something (HttpOnly, SameSite), its value would only leak."""
    pair, separator, attributes = value.partition(";")
    name = pair.split("=", 1)[0].strip()
    return f"{name}={MASK}{separator}{attributes}"


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


def masked_header(name: str, value: str) -> str:
    """The value of header `name` (any case, `-` or `_`) as the page may show it. Cookies are masked
    value by value, so that the page can show which cookies came (sessionid, csrftoken) without
    showing what they hold."""
    name = name.lower().replace("_", "-")
    if name == "cookie":
        return masked_cookie_header(value)
    if name == "set-cookie":
        return masked_set_cookie(value)
    if is_secret_name(name):
        return MASK
    return shortened(value)


def masked_query(query: str) -> str:
    """`page=2&api_key=abc` -> `page=2&api_key=<masked>`; a name is read as a browser encodes it
    (`%74oken` is `token`)."""
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        parts.append(f"{name}={MASK}" if equals and is_secret_name(unquote_plus(name)) else part)
    return "&".join(parts)


def masked_uri(uri: str) -> str:
    path, question, query = uri.partition("?")
    return f"{path}?{masked_query(query)}" if question else uri


def masked_json_text(text: str) -> str:
    """A frame's text with the values of secret-named JSON keys masked, at any depth; text that is
    not JSON as it is."""

    def masked(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: MASK if is_secret_name(key) else masked(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [masked(inner) for inner in item]
        return item

    try:
        value = json.loads(text)
        return json.dumps(masked(value)) if isinstance(value, (dict, list)) else text
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
        return text


def type_name(value: object) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def shown_value(value: object) -> str:
    """A value as text: strings as they are, numbers, flags and tuples as Python writes them, and
    any other object (a stream, a socket, a function) by its type only: its repr may hold anything."""
    if isinstance(value, str):
        return shortened(value)
    if isinstance(value, bytes):
        return shortened(value.decode("latin-1"))
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, (tuple, list)) and all(
        item is None or isinstance(item, (str, bool, int, float)) for item in value
    ):
        return shortened(repr(value))
    return f"<{type_name(value)} object>"


def masked_value(key: str, value: object) -> str:
    """An environ or scope value as the page may show it, by the rule on its key's name."""
    if key in QUERY_KEYS or key in URI_KEYS:
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if isinstance(text, str):
            return shortened(masked_query(text) if key in QUERY_KEYS else masked_uri(text))
    if is_secret_name(key):
        return MASK
    return shown_value(value)


def entry(key: str, value: object, shown: str | None = None) -> dict[str, str]:
    shown = masked_value(key, value) if shown is None else shown
    return {"key": key, "type": type_name(value), "value": shown}


# WSGI --------------------------------------------------------------------------------------------

# The groups of PEP 3333's environ, in the order the page shows them.
ENVIRON_GROUPS = ("cgi", "http", "wsgi", "server")


def environ_group(key: str) -> str:
    if key.startswith("HTTP_"):
        return "http"  # a request header, upper-cased, `-` turned into `_`
    if key.startswith("wsgi."):
        return "wsgi"  # the interface's own keys (PEP 3333)
    if "." in key:
        return "server"  # a server's extensions (gunicorn.socket), named with a dotted prefix
    return "cgi"  # the CGI variables: REQUEST_METHOD, PATH_INFO, SERVER_NAME...


def described_environ(environ: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    groups: dict[str, list[dict[str, str]]] = {group: [] for group in ENVIRON_GROUPS}
    for key in sorted(environ)[:MAX_ITEMS]:
        value = environ[key]
        if key.startswith("HTTP_") and isinstance(value, str):
            groups["http"].append(entry(key, value, masked_header(key[5:], value)))
        else:
            groups[environ_group(key)].append(entry(key, value))
    return groups


def described_headers(headers: Iterable[tuple[str | bytes, str | bytes]]) -> list[list[str]]:
    """Header pairs as [name, value] text (ASGI gives bytes, WSGI str), masked and capped."""
    described = []
    for name, value in list(headers)[:MAX_ITEMS]:
        name_text = name.decode("latin-1") if isinstance(name, bytes) else name
        value_text = value.decode("latin-1") if isinstance(value, bytes) else value
        described.append([name_text, masked_header(name_text, value_text)])
    return described


# ASGI --------------------------------------------------------------------------------------------


def described_scope(scope: Mapping[str, Any]) -> dict[str, Any]:
    """The scope's keys, sorted; its headers apart, as a list of pairs, as ASGI sends them."""
    entries = []
    for key in sorted(scope)[:MAX_ITEMS]:
        if key == "headers":
            continue
        value = scope[key]
        if isinstance(value, dict):
            # `asgi` ({"version": "3.0"...}), `extensions`, `state`: one level down, by key.
            inner = ", ".join(
                f"{name}: {masked_value(str(name), item)}" for name, item in list(value.items())[:MAX_ITEMS]
            )
            entries.append(entry(key, value, shortened("{" + inner + "}")))
        else:
            entries.append(entry(key, value))
    return {"entries": entries, "headers": described_headers(scope.get("headers", []))}


def described_event(direction: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """One ASGI event: its type and flags, and the size of what it carries rather than the
    bytes themselves (a WebSocket text frame of this page's own exchange also gets a preview)."""
    described: dict[str, Any] = {"direction": direction, "type": str(event.get("type", "?"))}
    for key in ("status", "more_body", "code", "subprotocol"):
        if key in event:
            described[key] = event[key]
    if "headers" in event:
        described["headers"] = described_headers(event["headers"])
    if "body" in event:
        described["body_bytes"] = len(event["body"])
    if event.get("bytes") is not None:
        described["bytes_bytes"] = len(event["bytes"])
    if event.get("text") is not None:
        described["text_chars"] = len(event["text"])
        described["text_preview"] = shortened(masked_json_text(event["text"]), MAX_FRAME_PREVIEW_CHARS)
    return described
