"""The chat room page in Debian's Chromium, against two real Uvicorn processes on one Redis."""

import uuid

import pytest

from demo.seeding import DEMO_PASSWORD
from testbed.web import WebServer
from tests.browser import chromium
from tests.chat.live import start_two_uvicorns

pytestmark = [pytest.mark.live, pytest.mark.browser]

# A frame crosses the machine in milliseconds; this leaves room for a busy, shared one.
SHOWN_WITHIN_MS = 5_000
# ResumableSocket waits at most 15 s between tries; a Uvicorn restart takes a few seconds.
RECONNECTED_WITHIN_MS = 30_000
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


class RoomPage:
    """One user's browser tab on a chat room, and what it shows."""

    def __init__(self, browser, server: WebServer, room: str, username: str):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.socket_urls: list[str] = []
        self.page.on("websocket", lambda socket: self.socket_urls.append(socket.url))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(f"{server.url}/accounts/login/?next=/chat/{room}/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"**/chat/{room}/")
        self.wait_for_state("open")

    def wait_for_state(self, state: str, timeout: int = SHOWN_WITHIN_MS) -> None:
        self.page.wait_for_selector(f'[data-testid="connection"][data-state="{state}"]', timeout=timeout)

    def send(self, text: str) -> None:
        self.page.fill("#chat-text", text)
        self.page.press("#chat-text", "Enter")

    def wait_for_text(self, text: str, timeout: int = SHOWN_WITHIN_MS) -> None:
        self.page.wait_for_function(
            """text => [...document.querySelectorAll('[data-testid=messages] .text')]
                         .some(node => node.textContent === text)""",
            arg=text,
            timeout=timeout,
        )

    def message_ids(self) -> list[int]:
        return self.page.eval_on_selector_all(
            "[data-testid=messages] li", "items => items.map(item => Number(item.dataset.id))"
        )

    def texts(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "[data-testid=messages] .text", "nodes => nodes.map(node => node.textContent)"
        )

    def presence(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "[data-testid=presence] li", "items => items.map(i => i.textContent)"
        )

    def close(self) -> None:
        self.context.close()


def new_room() -> str:
    return f"browser-{uuid.uuid4().hex[:10]}"


def test_two_pages_in_one_room_exchange_messages_across_two_processes(browser, two_uvicorns):
    room = new_room()
    alice = RoomPage(browser, two_uvicorns[0], room, "alice")
    bob = RoomPage(browser, two_uvicorns[1], room, "bob")
    try:
        alice.send("hello bob")
        bob.wait_for_text("hello bob")
        bob.send("hello alice")
        alice.wait_for_text("hello alice")

        assert alice.texts() == bob.texts() == ["hello bob", "hello alice"]
        assert alice.message_ids() == bob.message_ids()
        alice.page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=presence] li').length === 2"
        )
        assert alice.presence() == bob.presence() == ["alice", "bob"]
        assert alice.errors == bob.errors == []
    finally:
        alice.close()
        bob.close()


def test_markup_in_a_message_is_shown_as_literal_text(browser, two_uvicorns):
    room = new_room()
    alice = RoomPage(browser, two_uvicorns[0], room, "alice")
    bob = RoomPage(browser, two_uvicorns[1], room, "bob")
    try:
        alice.send(XSS)
        bob.wait_for_text(XSS)
        bob.page.wait_for_timeout(300)  # give a broken image's onerror the time to fire

        assert bob.page.locator("[data-testid=messages] img").count() == 0
        assert bob.dialogs == []
        assert bob.texts() == [XSS]
    finally:
        alice.close()
        bob.close()


def test_a_right_to_left_override_in_a_message_reorders_nothing_outside_it(browser, two_uvicorns):
    room = new_room()
    alice = RoomPage(browser, two_uvicorns[0], room, "alice")
    try:
        alice.send("\u202eevil")  # RIGHT-TO-LEFT OVERRIDE, never closed
        alice.wait_for_text("\u202eevil")

        # The name and the text are bidirectional islands (<bdi>): the override stays inside its text.
        isolation = alice.page.eval_on_selector_all(
            "[data-testid=messages] .user, [data-testid=messages] .text",
            "nodes => nodes.map(node => [node.tagName, getComputedStyle(node).unicodeBidi])",
        )
        assert isolation == [["BDI", "isolate"], ["BDI", "isolate"]]
    finally:
        alice.close()


def test_a_page_that_lost_its_server_reconnects_by_itself_with_no_gap_and_no_duplicate(
    browser, live_database, redis_server, server_logs
):
    first, second = start_two_uvicorns(live_database, redis_server.url, server_logs)
    room = new_room()
    alice = RoomPage(browser, first, room, "alice")
    bob = RoomPage(browser, second, room, "bob")
    try:
        bob.send("before the restart")
        alice.wait_for_text("before the restart")
        [last_seen] = alice.message_ids()

        first.stop()
        alice.wait_for_state("waiting")
        alice.send("written while offline")  # kept, shown as not sent yet, sent on reconnect
        alice.page.wait_for_selector('[data-testid=pending] li[data-state="queued"]')
        for number in range(3):
            bob.send(f"missed {number}")
            bob.wait_for_text(f"missed {number}")
        first.start()  # same port: the page's own retries find it

        alice.wait_for_state("open", timeout=RECONNECTED_WITHIN_MS)
        alice.wait_for_text("written while offline")
        bob.wait_for_text("written while offline")

        expected = ["before the restart", "missed 0", "missed 1", "missed 2", "written while offline"]
        assert alice.texts() == bob.texts() == expected
        ids = alice.message_ids()
        assert ids == sorted(set(ids)) == bob.message_ids()
        assert alice.page.locator("[data-testid=pending] li").count() == 0
        assert alice.errors == []
        first_socket, *retries = alice.socket_urls
        assert "after=" not in first_socket
        assert retries
        assert all(url.endswith(f"/ws/chat/{room}/?after={last_seen}") for url in retries)
    finally:
        alice.close()
        bob.close()
        first.stop()
        second.stop()


def test_reconnect_delays_grow_exponentially_up_to_a_cap_with_full_jitter(browser, two_uvicorns):
    page = browser.new_page()
    try:
        page.goto(f"{two_uvicorns[0].url}/chat/")
        delays = page.evaluate(
            """async () => {
                const { backoffDelay } = await import('/static/js/resumable-socket.js');
                const top = () => 0.999999, bottom = () => 0;
                return {
                    caps: [0, 1, 2, 3, 10, 50].map(n => backoffDelay(n, 500, 15000, top)),
                    lowest: backoffDelay(5, 500, 15000, bottom),
                };
            }"""
        )
    finally:
        page.close()

    assert delays["caps"] == [499, 999, 1999, 3999, 14999, 14999]
    assert delays["lowest"] == 0


def test_resumable_socket_drops_ids_it_has_seen_and_remembers_a_bounded_number(browser, two_uvicorns):
    page = browser.new_page()
    try:
        page.goto(f"{two_uvicorns[0].url}/chat/")
        # Frames are fed straight to the socket's frame handler: no server could be made to repeat
        # itself on cue.
        result = page.evaluate(
            """async () => {
                const { ResumableSocket } = await import('/static/js/resumable-socket.js');
                const items = [], frames = [];
                const socket = new ResumableSocket('/ws/chat/unused/', {
                    maxRemembered: 4,
                    onItem: item => items.push(item.id),
                    onFrame: frame => frames.push(frame.type),
                });
                const feed = frame => socket._receive(JSON.stringify(frame));
                feed({ type: 'history', messages: [{ id: 1 }, { id: 2 }] });
                feed({ type: 'message', id: 2 });
                feed({ type: 'presence', users: [] });
                for (const id of [3, 4, 5, 6]) feed({ type: 'message', id });
                feed({ type: 'message', id: 1 });
                feed({ type: 'report.published', id: 7 });
                socket._receive('not json');
                return { items, frames, lastId: socket.lastId, remembered: socket._seen.size };
            }"""
        )
    finally:
        page.close()

    assert result["items"] == [1, 2, 3, 4, 5, 6, 7]
    assert result["frames"] == ["history", "message", "presence", *["message"] * 5, "report.published"]
    assert result["lastId"] == 7
    assert result["remembered"] <= 4
