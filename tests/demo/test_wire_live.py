"""The wire recorders in the real servers: what Gunicorn and Uvicorn (both ASGI stacks) hand Django
for the capture request and the echo socket, and that secrets never reach a stored trace."""

from collections.abc import Iterator

import pytest
import requests

from testbed.environment import base_environment
from testbed.login import logged_in_session
from testbed.nginx import NGINX_BINARY, NginxServer
from testbed.web import WebServer, runserver, uvicorn_server
from tests.conftest import skip_unless
from tests.demo.wire_client import captured, echo_exchange, entries, event_types, trace, trace_response

pytestmark = pytest.mark.live

HTTP_EVENTS = ["received http.request", "sent http.response.start", "sent http.response.body"]


@pytest.fixture(scope="module")
def async_native_uvicorn(live_database, shared_redis_url, server_logs) -> Iterator[WebServer]:
    """Uvicorn with the opt-in async-native stack (live_stacks runs Django's, the default)."""
    env = base_environment(
        DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url, DJANGO_ASGI_STACK="async-native"
    )
    server = uvicorn_server(env, server_logs)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["stock", "async-native"])
def asgi_server(request, live_stacks) -> WebServer:
    return live_stacks.asgi if request.param == "stock" else request.getfixturevalue("async_native_uvicorn")


def test_gunicorn_hands_django_an_environ_and_django_calls_start_response(live_stacks):
    response, token = captured(live_stacks.wsgi.url)
    recorded = trace(live_stacks.wsgi.url, token)

    assert recorded["interface"] == "wsgi"
    cgi, wsgi = entries(recorded, "cgi"), entries(recorded, "wsgi")
    assert cgi["REQUEST_METHOD"]["value"] == "GET"
    assert cgi["PATH_INFO"]["value"] == "/demo/wire/capture/"
    assert cgi["SERVER_SOFTWARE"]["value"].startswith("gunicorn/")
    assert wsgi["wsgi.version"]["value"] == "(1, 0)"
    # Objects are described by their type, never by a repr that could hold anything.
    assert wsgi["wsgi.input"]["value"] == "<gunicorn.http.body.Body object>"
    assert "HTTP_HOST" in entries(recorded, "http")
    assert "gunicorn.socket" in entries(recorded, "server")
    assert recorded["start_response"]["status"] == "200 OK"
    assert ["X-Interface", "wsgi"] in recorded["start_response"]["headers"]
    assert recorded["body"]["bytes"] == len(response.content)


def test_asgi_server_hands_django_a_scope_and_events(asgi_server):
    response, token = captured(asgi_server.url)
    recorded = trace(asgi_server.url, token)

    assert recorded["interface"] == "asgi"
    scope = entries(recorded, "scope")
    assert scope["type"]["value"] == "http"
    assert scope["http_version"]["value"] == "1.1"
    assert scope["method"]["value"] == "GET"
    assert scope["path"]["value"] == "/demo/wire/capture/"
    assert ["host", f"127.0.0.1:{asgi_server.port}"] in recorded["scope"]["headers"]
    assert event_types(recorded) == HTTP_EVENTS
    request_event, start, body = recorded["events"]
    assert (request_event["body_bytes"], request_event["more_body"]) == (0, False)
    assert start["status"] == 200
    assert ["X-Interface", "asgi"] in start[
        "headers"
    ]  # as Django wrote it: ASGI does not lower-case responses
    assert (body["body_bytes"], body["more_body"]) == (len(response.content), False)


def test_a_trace_recorded_on_one_stack_is_read_on_the_other(live_stacks):
    _, token = captured(live_stacks.wsgi.url)

    assert trace(live_stacks.asgi.url, token)["interface"] == "wsgi"


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_a_logged_in_session_cookie_and_secret_headers_are_masked(live_stacks, stack):
    server = getattr(live_stacks, stack)
    session = logged_in_session(server.url, "alice")
    secrets = [
        session.cookies["sessionid"],
        session.cookies["csrftoken"],
        "Basic YWxpY2U6c2VjcmV0",
        "csrf-value",
    ]

    _, token = captured(server.url, session, Authorization=secrets[2], **{"X-CSRFToken": secrets[3]})
    response = trace_response(server.url, token)

    for secret in secrets:
        assert secret not in response.text
    recorded = response.json()
    if stack == "wsgi":
        headers = {key: item["value"] for key, item in entries(recorded, "http").items()}
        cookie, authorization, csrf = (
            headers["HTTP_COOKIE"],
            headers["HTTP_AUTHORIZATION"],
            headers["HTTP_X_CSRFTOKEN"],
        )
    else:
        headers = dict(recorded["scope"]["headers"])
        cookie, authorization, csrf = headers["cookie"], headers["authorization"], headers["x-csrftoken"]
    assert "sessionid=<masked>" in cookie
    assert "csrftoken=<masked>" in cookie
    assert authorization == csrf == "<masked>"


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
@pytest.mark.parametrize("token", ["AAAAAAAAAAAAAAAAAAAAAA", "nope", "x" * 300, "%E2%98%83", "..%2F..%2Fetc"])
def test_an_unknown_or_malformed_token_is_a_404_in_json(live_stacks, stack, token):
    response = trace_response(getattr(live_stacks, stack).url, token)

    assert response.status_code == 404
    assert "no trace" in response.json()["error"]


def test_other_requests_are_not_recorded(live_stacks):
    for server in (live_stacks.wsgi, live_stacks.asgi):
        response = requests.get(f"{server.url}/demo/sync/hello/", timeout=10)
        assert "X-Wire-Trace" not in response.headers


def test_the_echo_socket_exchange_is_recorded_from_connect_to_disconnect(asgi_server):
    session = logged_in_session(asgi_server.url, "alice")
    token, echoes, close_code = echo_exchange(asgi_server.port, f"sessionid={session.cookies['sessionid']}")
    recorded = trace(asgi_server.url, token)

    assert echoes == ["ping 1", "ping 2", "ping 3"]
    assert close_code == 1000
    assert event_types(recorded) == [
        "received websocket.connect",
        "sent websocket.accept",
        "sent websocket.send",  # the frame naming the trace
        *["received websocket.receive", "sent websocket.send"] * 3,
        "sent websocket.close",
        "received websocket.disconnect",
    ]
    assert recorded["events"][3]["text_preview"] == "ping 1"
    scope = entries(recorded, "scope")
    assert scope["type"]["value"] == "websocket"
    assert scope["path"]["value"] == "/ws/wire/"
    assert dict(recorded["scope"]["headers"])["cookie"] == "sessionid=<masked>"
    assert session.cookies["sessionid"] not in trace_response(asgi_server.url, token).text


def test_runserver_goes_through_the_asgi_recorder(live_database, server_logs):
    env = base_environment(DATABASE_URL=live_database.url)
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_DEBUG", None)
    env.pop("DJANGO_SECRET_KEY", None)
    server = runserver(env, server_logs)
    server.start()
    try:
        _, token = captured(server.url)
        recorded = trace(server.url, token)
        socket_token, echoes, _ = echo_exchange(server.port)
        socket_trace = trace(server.url, socket_token)
    finally:
        server.stop()

    assert recorded["interface"] == "asgi"
    assert event_types(recorded) == HTTP_EVENTS
    assert echoes == ["ping 1", "ping 2", "ping 3"]
    assert event_types(socket_trace)[-1] == "received websocket.disconnect"


def test_behind_nginx_the_capture_reaches_gunicorn_and_the_socket_uvicorn(live_stacks, server_logs):
    skip_unless(NGINX_BINARY is not None, "nginx is not installed (apt-get install nginx-light)")
    nginx = NginxServer(live_stacks.wsgi.url, live_stacks.asgi.url, server_logs)
    nginx.start()
    try:
        _, token = captured(nginx.url)
        recorded = trace(nginx.url, token)
        socket_token, echoes, _ = echo_exchange(nginx.port)
        socket_trace = trace(nginx.url, socket_token)
    finally:
        nginx.stop()

    # What docker compose runs: the page and its capture on WSGI, the socket on ASGI, one Redis.
    assert recorded["interface"] == "wsgi"
    assert "HTTP_X_FORWARDED_FOR" in entries(recorded, "http")
    assert socket_trace["interface"] == "asgi"
    assert echoes == ["ping 1", "ping 2", "ping 3"]


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_headers_and_query_parameters_named_like_secrets_are_masked(live_stacks, stack):
    server = getattr(live_stacks, stack)
    secret = "s3cr3t-7d1f0a"
    headers = {"X-Auth-Token": secret, "X-Amz-Security-Token": secret, "Cookie2": secret}
    query = f"?page=2&access_token={secret}&Password={secret}"

    response = requests.get(f"{server.url}/demo/wire/capture/{query}", headers=headers, timeout=10)
    recorded = trace_response(server.url, response.headers["X-Wire-Trace"])

    assert recorded.status_code == 200
    assert secret not in recorded.text
    assert "access_token=<masked>&Password=<masked>" in recorded.text
    assert "page=2" in recorded.text
