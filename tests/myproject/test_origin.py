"""The WebSocket Origin rule (myproject/realtime/origin.py) is the CSRF check's: scheme, host and
port, or CSRF_TRUSTED_ORIGINS; and, side by side, both stacks' origins on the same host."""

import pytest

from myproject.realtime.origin import origin_allowed


def handshake(origin: str | None, host: str = "127.0.0.1:8002", scheme: str = "ws", **extra) -> dict:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode("latin-1")))
    headers += [(name.encode(), value.encode()) for name, value in extra.items()]
    return {
        "type": "websocket",
        "scheme": scheme,
        "path": "/ws/chat/lobby/",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8002),
        "client": ("127.0.0.1", 50000),
    }


@pytest.fixture(autouse=True)
def one_stack(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.WSGI_STACK_PORT = None
    settings.ASGI_STACK_PORT = None


def test_the_handshakes_own_origin_is_allowed():
    assert origin_allowed(handshake("http://127.0.0.1:8002"))


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9999",  # another app on the same host
        "https://127.0.0.1:8002",  # another scheme
        "http://127.0.0.1",  # another port (80)
        "HTTP://127.0.0.1:8002",  # not how a browser spells an origin
        "http://localhost:8002",  # another host name
        "https://evil.example",
        "null",
        "http://[",
        "",
    ],
)
def test_another_scheme_host_or_port_is_refused(origin):
    assert not origin_allowed(handshake(origin))


def test_a_handshake_without_origin_is_refused():
    assert not origin_allowed(handshake(None))


def test_a_secure_handshake_needs_an_https_origin():
    assert origin_allowed(handshake("https://127.0.0.1:8002", scheme="wss"))
    assert not origin_allowed(handshake("http://127.0.0.1:8002", scheme="wss"))


def test_a_host_outside_allowed_hosts_has_no_own_origin():
    assert not origin_allowed(handshake("http://evil.example:8002", host="evil.example:8002"))


def test_csrf_trusted_origins_are_allowed_with_their_scheme_and_port(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com", "https://*.example.org"]

    assert origin_allowed(handshake("https://app.example.com"))
    assert origin_allowed(handshake("https://shop.example.org"))
    assert not origin_allowed(handshake("http://app.example.com"))
    assert not origin_allowed(handshake("https://app.example.com:8443"))


def test_side_by_side_the_wsgi_stacks_origin_on_the_same_host_is_allowed(settings):
    settings.WSGI_STACK_PORT, settings.ASGI_STACK_PORT = 8001, 8002

    assert origin_allowed(handshake("http://127.0.0.1:8001"))
    assert not origin_allowed(handshake("http://localhost:8001"))
    assert not origin_allowed(handshake("https://127.0.0.1:8001"))


def test_side_by_side_the_race_drivers_port_allows_a_page_from_either_stack(settings):
    settings.WSGI_STACK_PORT, settings.ASGI_STACK_PORT = 8001, 8002
    driver = "127.0.0.1:8003"

    assert origin_allowed(handshake("http://127.0.0.1:8001", host=driver))
    assert origin_allowed(handshake("http://127.0.0.1:8002", host=driver))
    assert not origin_allowed(handshake("http://127.0.0.1:9999", host=driver))


def test_behind_a_tls_proxy_the_origin_is_https(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    forwarded = {"x-forwarded-proto": "https"}
    assert origin_allowed(handshake("https://127.0.0.1:8002", **forwarded))
    assert not origin_allowed(handshake("http://127.0.0.1:8002", **forwarded))
