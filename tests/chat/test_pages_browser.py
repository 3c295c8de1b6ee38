"""The chat pages as Debian's Chromium shows them, at phone width, against a real Uvicorn."""

import pytest

from chat.models import MESSAGE_MAX_LENGTH
from demo.seeding import DEMO_PASSWORD
from tests.browser import PHONE, chromium, page_overflow

pytestmark = [pytest.mark.live, pytest.mark.browser]

SHOWN_WITHIN_MS = 5_000
# The longest room name there can be, one unbroken word: the header and the lobby must wrap it.
LONG_ROOM = "phone-layout-" + "x" * 37
UNBROKEN_WORD = "a" * 300
# What is left of a 390 px screen for the messages once the page's margins are taken: a column
# narrower than this is the bug (it was about 130 px, beside a 12rem presence column).
MIN_MESSAGES_WIDTH = 300


@pytest.fixture(scope="module")
def base_url(live_stacks) -> str:
    return live_stacks.asgi.url


@pytest.fixture(scope="module")
def phone(base_url):
    """A phone-sized page, signed in as alice on a real Uvicorn."""
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(f"{base_url}/accounts/login/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        yield page
        context.close()


def send(page, text: str) -> None:
    page.fill("#chat-text", text)
    page.press("#chat-text", "Enter")
    page.wait_for_function(
        """text => [...document.querySelectorAll('[data-testid=messages] .text')]
                     .some(node => node.textContent === text)""",
        arg=text,
        timeout=SHOWN_WITHIN_MS,
    )


def test_a_room_at_phone_width_gives_the_messages_the_width_of_the_screen(phone, base_url):
    phone.goto(f"{base_url}/chat/{LONG_ROOM}/")
    phone.wait_for_selector('[data-testid="connection"][data-state="open"]', timeout=SHOWN_WITHIN_MS)
    send(phone, "hello from a phone")
    send(phone, UNBROKEN_WORD)

    width = phone.eval_on_selector("[data-testid=messages]", "list => list.getBoundingClientRect().width")

    assert width >= MIN_MESSAGES_WIDTH
    assert page_overflow(phone) <= 0


def test_the_presence_list_stays_on_screen_above_the_messages(phone, base_url):
    phone.goto(f"{base_url}/chat/{LONG_ROOM}/")
    phone.wait_for_function("() => document.querySelectorAll('[data-testid=presence] li').length > 0")

    presence = phone.eval_on_selector(
        "[data-testid=presence]", "list => list.getBoundingClientRect().toJSON()"
    )
    messages = phone.eval_on_selector(
        "[data-testid=messages]", "list => list.getBoundingClientRect().toJSON()"
    )

    assert presence["bottom"] <= messages["top"]
    assert presence["right"] <= PHONE["width"]


def test_the_lobby_at_phone_width_wraps_a_long_room_name(phone, base_url):
    phone.goto(f"{base_url}/chat/{LONG_ROOM}/")
    phone.wait_for_selector('[data-testid="connection"][data-state="open"]', timeout=SHOWN_WITHIN_MS)
    send(phone, "so that the room is listed")
    phone.goto(f"{base_url}/chat/")

    assert phone.locator(f"[data-testid=rooms] a[href='/chat/{LONG_ROOM}/']").count() == 1
    assert page_overflow(phone) <= 0


def test_the_length_limit_is_written_like_every_other_count(phone, base_url):
    phone.goto(f"{base_url}/chat/{LONG_ROOM}/")
    phone.wait_for_selector('[data-testid="connection"][data-state="open"]', timeout=SHOWN_WITHIN_MS)
    # Past the input's maxlength, as a paste into an older browser or a script could put it.
    phone.eval_on_selector(
        "#chat-text", "(input, length) => { input.value = 'a'.repeat(length); }", MESSAGE_MAX_LENGTH + 1
    )
    phone.press("#chat-text", "Enter")

    problem = phone.wait_for_selector("[data-testid=problem]:not([hidden])", timeout=SHOWN_WITHIN_MS)

    assert problem.inner_text() == f"A message can have at most {MESSAGE_MAX_LENGTH:,} characters."
