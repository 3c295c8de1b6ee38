"""What a wire trace may show: secrets masked, objects by type only, every part bounded."""

import io
import json

import pytest

from myproject.wire.trace import (
    MASK,
    MAX_FRAME_PREVIEW_CHARS,
    MAX_ITEMS,
    MAX_VALUE_CHARS,
    described_environ,
    described_event,
    described_headers,
    described_scope,
    masked_header,
    shortened,
)

SESSION = "k3x9secretsessionvalue"
CSRF = "Zq8secretcsrfvalue"


def test_a_cookie_header_keeps_the_names_and_masks_every_value():
    assert masked_header("Cookie", f"sessionid={SESSION}; csrftoken={CSRF}") == (
        f"sessionid={MASK}; csrftoken={MASK}"
    )


def test_a_set_cookie_header_masks_the_value_and_keeps_the_attributes():
    shown = masked_header("set-cookie", f"sessionid={SESSION}; HttpOnly; Path=/; SameSite=Lax")

    assert shown == f"sessionid={MASK}; HttpOnly; Path=/; SameSite=Lax"


def test_authorization_and_csrf_headers_are_masked_whole_in_any_spelling():
    for name in ("Authorization", "authorization", "Proxy-Authorization", "X-CSRFToken", "X_CSRFTOKEN"):
        assert masked_header(name, "Bearer abc.def") == MASK


def test_the_environ_masks_its_cookie_authorization_and_csrf_headers():
    environ = {
        "HTTP_COOKIE": f"sessionid={SESSION}",
        "HTTP_AUTHORIZATION": "Basic YWxpY2U6c2VjcmV0",
        "HTTP_X_CSRFTOKEN": CSRF,
        "HTTP_ACCEPT": "*/*",
    }

    shown = {item["key"]: item["value"] for item in described_environ(environ)["http"]}

    assert shown == {
        "HTTP_ACCEPT": "*/*",
        "HTTP_AUTHORIZATION": MASK,
        "HTTP_COOKIE": f"sessionid={MASK}",
        "HTTP_X_CSRFTOKEN": MASK,
    }


def test_the_environ_is_grouped_and_sorted_and_objects_are_shown_by_type_only():
    class Socket:
        def __repr__(self) -> str:
            return f"<socket holding {SESSION}>"

    environ = {
        "wsgi.input": io.BytesIO(b"body"),
        "REQUEST_METHOD": "GET",
        "wsgi.version": (1, 0),
        "gunicorn.socket": Socket(),
        "HTTP_HOST": "example.org",
        "PATH_INFO": "/",
        "wsgi.multithread": False,
    }

    groups = described_environ(environ)

    assert [item["key"] for item in groups["cgi"]] == ["PATH_INFO", "REQUEST_METHOD"]
    assert [item["key"] for item in groups["http"]] == ["HTTP_HOST"]
    wsgi = {item["key"]: item for item in groups["wsgi"]}
    assert wsgi["wsgi.version"]["value"] == "(1, 0)"
    assert wsgi["wsgi.multithread"]["value"] == "False"
    assert wsgi["wsgi.input"] == {"key": "wsgi.input", "type": "_io.BytesIO", "value": "<_io.BytesIO object>"}
    assert SESSION not in str(groups["server"])


def test_long_values_are_cut_and_long_lists_capped():
    environ = {f"HTTP_X_{number:03}": "v" * 10_000 for number in range(MAX_ITEMS + 50)}

    shown = described_environ(environ)["http"]

    assert len(shown) == MAX_ITEMS
    assert len(shown[0]["value"]) == MAX_VALUE_CHARS
    assert len(described_headers([(b"x", b"y")] * (MAX_ITEMS + 1))) == MAX_ITEMS


def test_the_scope_shows_its_headers_as_masked_text_pairs():
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "client": ("127.0.0.1", 5000),
        "headers": [(b"host", b"example.org"), (b"cookie", f"sessionid={SESSION}".encode())],
    }

    shown = described_scope(scope)

    entries = {item["key"]: item["value"] for item in shown["entries"]}
    assert entries == {
        "asgi": "{version: 3.0, spec_version: 2.3}",
        "client": "('127.0.0.1', 5000)",
        "type": "http",
    }
    assert shown["headers"] == [["host", "example.org"], ["cookie", f"sessionid={MASK}"]]


def test_an_event_shows_sizes_and_flags_not_bodies():
    body = described_event("sent", {"type": "http.response.body", "body": b"x" * 1000, "more_body": True})
    frame = described_event("received", {"type": "websocket.receive", "text": "y" * 500, "bytes": None})

    assert body == {"direction": "sent", "type": "http.response.body", "more_body": True, "body_bytes": 1000}
    assert frame["text_chars"] == 500
    assert len(frame["text_preview"]) == MAX_FRAME_PREVIEW_CHARS
    assert "bytes_bytes" not in frame


# The rule on names: token, secret, key, password, auth, session, cookie, in any case -----------------

SECRET = "s3cr3t-value-9f2"


@pytest.mark.parametrize(
    "name",
    [
        "X-Auth-Token",
        "X-Amz-Security-Token",
        "Cookie2",
        "X-Api-Key",
        "X-Session-Id",
        "X-DB-PASSWORD",
        "Secret",
    ],
)
def test_any_header_whose_name_says_secret_is_masked(name):
    assert masked_header(name, SECRET) == MASK
    assert described_headers([(name.lower().encode(), SECRET.encode())]) == [[name.lower(), MASK]]


def test_other_headers_are_shown():
    assert masked_header("X-Request-Id", "abc") == "abc"


def test_the_environ_masks_secret_named_headers_and_query_parameters():
    environ = {
        "HTTP_X_AUTH_TOKEN": SECRET,
        "HTTP_X_AMZ_SECURITY_TOKEN": SECRET,
        "HTTP_COOKIE2": SECRET,
        "QUERY_STRING": f"page=2&access_token={SECRET}&Password={SECRET}&%73ession={SECRET}",
        "RAW_URI": f"/demo/wire/capture/?page=2&api_key={SECRET}",
    }

    groups = described_environ(environ)

    assert SECRET not in json.dumps(groups)
    shown = {item["key"]: item["value"] for group in groups.values() for item in group}
    assert shown["QUERY_STRING"] == f"page=2&access_token={MASK}&Password={MASK}&%73ession={MASK}"
    assert shown["RAW_URI"] == f"/demo/wire/capture/?page=2&api_key={MASK}"


def test_the_scope_masks_secret_named_query_parameters_and_headers():
    scope = {
        "type": "websocket",
        "query_string": f"room=lobby&token={SECRET}".encode(),
        "headers": [(b"x-auth-token", SECRET.encode()), (b"sec-websocket-version", b"13")],
    }

    shown = described_scope(scope)

    entries = {item["key"]: item["value"] for item in shown["entries"]}
    assert entries["query_string"] == f"room=lobby&token={MASK}"
    assert shown["headers"] == [["x-auth-token", MASK], ["sec-websocket-version", "13"]]


def test_a_websocket_frame_masks_the_values_of_secret_named_json_keys():
    text = json.dumps({"type": "hello", "auth": {"Token": SECRET}, "items": [{"api_key": SECRET}]})

    frame = described_event("received", {"type": "websocket.receive", "text": text, "bytes": None})

    assert SECRET not in frame["text_preview"]
    assert frame["text_preview"].startswith('{"type": "hello", "auth": "<masked>"')


def test_a_frame_that_is_not_json_or_nested_too_deep_is_shown_as_it_is():
    for text in ("ping 1", "[" * 5000):
        frame = described_event("received", {"type": "websocket.receive", "text": text, "bytes": None})
        assert frame["text_preview"] == shortened(text, MAX_FRAME_PREVIEW_CHARS)
