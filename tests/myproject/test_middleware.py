"""The middleware keeps Django's behaviour on every stack: WSGI, ASGI stock and ASGI async-native
(the `interface` fixture runs each test through all three, in process)."""

import re

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase-42"


class Browser:
    """One visitor with its own cookie jar, served through the handler of `interface`."""

    def __init__(self, interface: str, **options):
        self.is_asgi = interface == "asgi"
        self.client = AsyncClient(**options) if self.is_asgi else Client(**options)

    def _call(self, name: str, *args, **kwargs):
        method = getattr(self.client, name)
        return async_to_sync(method)(*args, **kwargs) if self.is_asgi else method(*args, **kwargs)

    def get(self, path: str, **kwargs):
        return self._call("get", path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self._call("post", path, data or {}, **kwargs)

    def force_login(self, user) -> None:
        self._call("aforce_login" if self.is_asgi else "force_login", user)


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_logging_in_through_the_form_starts_a_session_the_next_request_sees(interface):
    get_user_model().objects.create_user("erin", password=PASSWORD)
    browser = Browser(interface, enforce_csrf_checks=True)
    form = browser.get("/accounts/login/")

    response = browser.post(
        "/accounts/login/",
        {"username": "erin", "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(form.text)},
    )

    assert response.status_code == 302
    assert response.cookies["sessionid"].value
    assert 'data-testid="username">erin<' in browser.get("/").text


def test_logging_out_ends_the_session(interface):
    browser = Browser(interface)
    browser.force_login(get_user_model().objects.create_user("erin", password=PASSWORD))
    assert 'data-testid="username">erin<' in browser.get("/").text

    browser.post("/accounts/logout/")

    assert 'data-testid="username"' not in browser.get("/").text


def test_a_post_without_the_csrf_token_is_refused(interface):
    get_user_model().objects.create_user("erin", password=PASSWORD)
    browser = Browser(interface, enforce_csrf_checks=True)
    browser.get("/accounts/login/")  # sets the CSRF cookie, but the form's token is not sent back

    response = browser.post("/accounts/login/", {"username": "erin", "password": PASSWORD})

    assert response.status_code == 403
    assert "CSRF" in response.text


def test_a_page_with_a_form_sets_the_csrf_cookie(interface):
    response = Browser(interface).get("/accounts/login/")

    assert response.cookies["csrftoken"].value
    assert "Cookie" in response["Vary"]


def test_a_page_that_reads_no_session_sets_no_cookie(interface):
    response = Browser(interface).get("/healthz")

    assert not response.cookies


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ],
)
def test_security_headers_are_set(interface, header, value):
    response = Browser(interface).get("/")

    assert response[header] == value


def test_a_path_without_its_slash_is_redirected_to_it(interface):
    response = Browser(interface).get("/chat")

    assert response.status_code == 301
    assert response["Location"] == "/chat/"


def test_a_message_set_by_a_post_is_shown_after_the_redirect_and_only_once(interface):
    staff = get_user_model().objects.create_user("sam", password=PASSWORD, is_staff=True)
    browser = Browser(interface)
    browser.force_login(staff)

    shown = browser.post("/reports/revenue-by-month/publish/", follow=True)
    again = browser.get("/reports/revenue-by-month/")

    assert "Published" in re.search(r'data-testid="message">([^<]+)<', shown.text).group(1)
    assert 'data-testid="message"' not in again.text
