"""What the /demo/wire/ page shows of one request: the WSGI environ or the ASGI scope and events,
turned into plain JSON, with secrets masked and every part bounded in size.

The recorders (myproject/wire_recorder.py) hand their raw material to these functions; the page
renders what comes out. Masking happens here, before anything is stored: a cookie, a session id,
a CSRF token or an Authorization header shows its name, never its value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MASK = "<masked>"
# Headers whose whole value is a secret. Cookies are masked value by value instead, so that the
# page can show which cookies came (sessionid, csrftoken) without showing what they hold.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-csrftoken", "x-api-key"})

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


def masked_header(name: str, value: str) -> str:
    """The value of header `name` (any case, `-` or `_`) as the page may show it."""
    name = name.lower().replace("_", "-")
    if name in SECRET_HEADERS:
        return MASK
    if name == "cookie":
        return masked_cookie_header(value)
    if name == "set-cookie":
        return masked_set_cookie(value)
    return shortened(value)


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


def entry(key: str, value: object, shown: str | None = None) -> dict[str, str]:
    return {"key": key, "type": type_name(value), "value": shown_value(value) if shown is None else shown}


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
                f"{name}: {shown_value(item)}" for name, item in list(value.items())[:MAX_ITEMS]
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
        described["text_preview"] = shortened(event["text"], MAX_FRAME_PREVIEW_CHARS)
    return described
