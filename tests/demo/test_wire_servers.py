"""Every server configuration of the load-test harness runs the recorders: the capture is recorded
whichever WSGI or ASGI server serves it."""

import pytest

from tests.demo.wire_client import captured, entries, event_types, trace
from tests.loadtests.test_servers import SERVER_NAMES, start_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module", params=list(SERVER_NAMES))
def running(request, live_database, shared_redis_url, tmp_path_factory):
    server = start_server(
        request.param, live_database.url, shared_redis_url, tmp_path_factory.mktemp("servers")
    )
    yield server
    server.stop()


def test_the_server_hands_its_capture_to_the_recorder(running):
    _, token = captured(running.url)
    recorded = trace(running.url, token)

    assert recorded["interface"] == running.config.interface
    if running.config.interface == "wsgi":
        assert entries(recorded, "cgi")["REQUEST_METHOD"]["value"] == "GET"
        assert recorded["start_response"]["status"] == "200 OK"
    else:
        assert entries(recorded, "scope")["type"]["value"] == "http"
        assert event_types(recorded)[1:] == ["sent http.response.start", "sent http.response.body"]
