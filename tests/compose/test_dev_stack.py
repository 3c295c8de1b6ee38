"""`docker compose up` on a clean clone, with no .env and no variables: nginx in front of both
stacks, PostgreSQL, Redis and the demo data, checked from outside as a user would. The tests run in
file order on one project: first the single-replica stack, then scaled out, then stopped."""

import json
import re
import threading
import uuid
from contextlib import ExitStack

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from demo.seeding import DEMO_STAFF
from testbed.login import csrf_token, log_in
from tests.compose.project import ComposeProject

# Building the image on a fresh machine takes minutes, more than the suite's usual 300 s.
pytestmark = [pytest.mark.compose, pytest.mark.timeout(1200)]

SCALE = 3


def served_host(html: str) -> str:
    return re.search(r'data-testid="host">([^<]+)<', html).group(1)


def websocket(
    project: ComposeProject, path: str, session: requests.Session | None = None
) -> ClientConnection:
    cookies = "; ".join(f"{name}={value}" for name, value in (session.cookies.items() if session else []))
    return connect(
        f"ws://127.0.0.1:{project.nginx_port}{path}",
        origin=project.url,
        additional_headers={"Cookie": cookies} if cookies else None,
        open_timeout=10,
    )


def next_frame_of_type(socket: ClientConnection, kind: str) -> dict:
    while True:
        frame = json.loads(socket.recv(timeout=10))
        if frame["type"] == kind:
            return frame


def client_address(access_log_line: str) -> str:
    return re.search(r'(\d+\.\d+\.\d+\.\d+):\d+ - "GET', access_log_line).group(1)


def close_code_of(socket: ClientConnection) -> int | None:
    """Read until the server closes; the code of its close frame, None if it sent none."""
    try:
        while True:
            socket.recv(timeout=30)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def test_nginx_sends_the_home_page_to_the_wsgi_stack(dev_project):
    response = requests.get(f"{dev_project.url}/", timeout=10)

    assert response.status_code == 200
    assert response.headers["X-Interface"] == "wsgi"


def test_readyz_through_nginx_finds_the_database_and_the_channel_layer(dev_project):
    response = requests.get(f"{dev_project.url}/readyz", timeout=10)

    assert response.json() == {"status": "ok", "checks": {"database": "ok", "channel_layer": "ok"}}


def test_a_static_file_is_served_through_nginx(dev_project):
    response = requests.get(f"{dev_project.url}/static/css/site.css", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")


@pytest.mark.parametrize(("service", "port"), [("wsgi", 8001), ("asgi", 8002)])
def test_each_stack_answers_on_the_first_port_of_its_range(dev_project, service, port):
    # By default 8001 for WSGI and 8002 for ASGI, though both ranges run on to 8009.
    (host_port,) = dev_project.ports(service, port)

    response = requests.get(f"http://127.0.0.1:{host_port}/", timeout=10)

    assert host_port == dev_project.first_ports[service]
    assert response.headers["X-Interface"] == service


def test_a_demo_account_logs_in_through_nginx(dev_project):
    session = requests.Session()
    log_in(session, dev_project.url, DEMO_STAFF)

    assert f"{DEMO_STAFF}" in session.get(f"{dev_project.url}/chat/", timeout=10).text


def test_a_chat_message_goes_round_trip_over_a_websocket_through_nginx(dev_project):
    session = requests.Session()
    log_in(session, dev_project.url, "alice")
    client_id = uuid.uuid4().hex
    with websocket(dev_project, "/ws/chat/lobby/", session) as socket:
        next_frame_of_type(socket, "history")
        socket.send(json.dumps({"type": "message", "text": "through the containers", "client_id": client_id}))
        frame = next_frame_of_type(socket, "message")

    assert (frame["user"], frame["text"], frame["client_id"]) == (
        "alice",
        "through the containers",
        client_id,
    )


def test_a_report_published_on_the_wsgi_stack_reaches_a_notifications_client(dev_project):
    session = requests.Session()
    log_in(session, dev_project.url, DEMO_STAFF)
    page = session.get(f"{dev_project.url}/reports/top-products/", timeout=10)
    with websocket(dev_project, "/ws/notifications/") as socket:
        response = session.post(
            f"{dev_project.url}/reports/top-products/publish/",
            data={"csrfmiddlewaretoken": csrf_token(page.text)},
            headers={"Referer": f"{dev_project.url}/reports/top-products/"},
            allow_redirects=False,
            timeout=10,
        )
        frame = next_frame_of_type(socket, "report.published")

    assert response.headers["X-Interface"] == "wsgi"
    assert frame["report"]["slug"] == "top-products"


def test_the_race_driver_reaches_all_four_quadrants_from_inside_the_containers(dev_project):
    # Through nginx, /demo/async/ always goes to the ASGI stack; the driver calls each stack by its
    # service name instead (RACE_WSGI_URL, RACE_ASGI_URL in docker-compose.yml).
    groups = ["def-wsgi", "async-wsgi", "def-asgi", "async-asgi"]
    race = {"type": "race", "probe": "sleep", "params": {"ms": 100}, "n": 4, "groups": groups}
    assert requests.get(f"{dev_project.url}/demo/race/", timeout=10).status_code == 200
    with websocket(dev_project, "/ws/race/") as socket:
        ready = next_frame_of_type(socket, "ready")
        socket.send(json.dumps(race))
        frames = [json.loads(socket.recv(timeout=60))]
        while frames[-1]["type"] not in {"race.finished", "error"}:
            frames.append(json.loads(socket.recv(timeout=60)))

    lanes = [frame for frame in frames if frame["type"] == "lane"]
    assert ready["stacks"] == ["asgi", "wsgi"]
    assert frames[-1]["type"] == "race.finished"
    assert [lane for lane in lanes if "error" in lane] == []
    assert sorted(lane["group"] for lane in lanes) == sorted(groups * 4)


@pytest.mark.parametrize(("service", "port"), [("wsgi", 8001), ("asgi", 8002)])
def test_a_client_reaching_a_stack_directly_cannot_claim_https(dev_project, service, port):
    # Were X-Forwarded-Proto believed, the request would count as HTTPS and the https:// Origin
    # would pass the CSRF check; only nginx's address is trusted to say so.
    (host_port,) = dev_project.ports(service, port)
    url = f"http://127.0.0.1:{host_port}/accounts/login/"
    session = requests.Session()
    token = csrf_token(session.get(url, timeout=10).text)

    response = session.post(
        url,
        data={"username": "alice", "password": "wrong", "csrfmiddlewaretoken": token},
        headers={"X-Forwarded-Proto": "https", "Origin": f"https://127.0.0.1:{host_port}"},
        timeout=10,
    )

    assert response.status_code == 403


def test_behind_nginx_the_asgi_stack_sees_the_clients_address_and_directly_no_claimed_one(dev_project):
    (asgi_port,) = dev_project.ports("asgi", 8002)
    marker = uuid.uuid4().hex
    requests.get(f"{dev_project.url}/demo/async/hello/?via=nginx-{marker}", timeout=10)
    requests.get(
        f"http://127.0.0.1:{asgi_port}/demo/async/hello/?via=direct-{marker}",
        headers={"X-Forwarded-For": "203.0.113.9"},
        timeout=10,
    )
    lines = dev_project.logs("asgi").splitlines()
    through_nginx = next(line for line in lines if f"nginx-{marker}" in line)
    direct = next(line for line in lines if f"direct-{marker}" in line)

    # Uvicorn's access log starts with the client address it believed. Both requests left this
    # machine from the same place (Docker's port forwarding), and that is what Uvicorn must see:
    # not nginx's own address, nor the one a direct client made up.
    assert client_address(through_nginx) == client_address(direct)
    assert client_address(through_nginx) != dev_project.nginx_address
    assert "203.0.113.9" not in direct


def test_scaled_out_nginx_spreads_requests_over_every_replica(dev_project):
    dev_project.up("--scale", f"wsgi={SCALE}", "--scale", f"asgi={SCALE}")

    wsgi_hosts = {served_host(requests.get(f"{dev_project.url}/", timeout=10).text) for _ in range(30)}
    for _ in range(30):
        requests.get(f"{dev_project.url}/demo/async/hello/?spread=1", timeout=10)
    asgi_replicas_hit = {
        line.split("|", 1)[0].strip() for line in dev_project.logs("asgi").splitlines() if "spread=1" in line
    }

    assert len(set(dev_project.ports("wsgi", 8001) + dev_project.ports("asgi", 8002))) == 2 * SCALE
    assert len(wsgi_hosts) > 1
    assert len(asgi_replicas_hit) > 1


def test_scaled_out_a_chat_message_reaches_clients_of_other_replicas(dev_project):
    session = requests.Session()
    log_in(session, dev_project.url, "bob")
    with ExitStack() as sockets:
        listeners = [
            sockets.enter_context(websocket(dev_project, "/ws/chat/scaled/")) for _ in range(SCALE * 2)
        ]
        for listener in listeners:
            next_frame_of_type(listener, "history")
        sender = sockets.enter_context(websocket(dev_project, "/ws/chat/scaled/", session))
        next_frame_of_type(sender, "history")
        sender.send(json.dumps({"type": "message", "text": "to every replica"}))
        heard = [next_frame_of_type(listener, "message")["text"] for listener in listeners]

    assert heard == ["to every replica"] * len(listeners)


def test_compose_stop_finishes_requests_in_flight_and_closes_websockets_politely(dev_project):
    results: dict[str, requests.Response | Exception] = {}

    def request(name: str, path: str) -> None:
        try:
            results[name] = requests.get(f"{dev_project.url}{path}", timeout=60)
        except requests.RequestException as error:
            results[name] = error

    with websocket(dev_project, "/ws/chat/lobby/") as socket:
        next_frame_of_type(socket, "history")
        in_flight = [
            threading.Thread(target=request, args=("wsgi", "/demo/sync/sleep/?ms=4000")),
            threading.Thread(target=request, args=("asgi", "/demo/async/sleep/?ms=4000")),
        ]
        for thread in in_flight:
            thread.start()
        threading.Event().wait(1.5)  # both requests are now inside a server

        dev_project.compose("stop", timeout=120)
        for thread in in_flight:
            thread.join(timeout=60)
        close_code = close_code_of(socket)

    assert {name: getattr(result, "status_code", result) for name, result in results.items()} == {
        "wsgi": 200,
        "asgi": 200,
    }
    assert results["wsgi"].headers["X-Interface"] == "wsgi"
    assert results["asgi"].headers["X-Interface"] == "asgi"
    assert close_code in {1001, 1012}


def test_once_the_stack_is_back_a_chat_client_resumes_with_no_gap(dev_project):
    dev_project.up("--scale", f"wsgi={SCALE}", "--scale", f"asgi={SCALE}")
    with websocket(dev_project, "/ws/chat/lobby/") as socket:
        # The newest message stored before the stop: the last one a page open then has seen.
        last_seen = next_frame_of_type(socket, "history")["messages"][-1]["id"]
    session = requests.Session()
    log_in(session, dev_project.url, "carol")
    with websocket(dev_project, "/ws/chat/lobby/", session) as sender:
        next_frame_of_type(sender, "history")
        sender.send(json.dumps({"type": "message", "text": "while you were away"}))
        sent = next_frame_of_type(sender, "message")

    # What the page does on reconnecting: ask for everything after the last message it saw.
    with websocket(dev_project, f"/ws/chat/lobby/?after={last_seen}") as resumed:
        missed = next_frame_of_type(resumed, "history")["messages"]

    assert [(message["id"], message["text"]) for message in missed] == [(sent["id"], "while you were away")]
