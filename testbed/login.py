"""The form login, as a browser does it: read the page's CSRF token, post it with the credentials.

A session logged in on one stack works on every stack that shares its database, because the
session lives there.
"""

from __future__ import annotations

import re

import requests

from demo.seeding import DEMO_PASSWORD

# Django's {% csrf_token %} renders <input type="hidden" name="csrfmiddlewaretoken" value="...">.
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token a page's form carries; ValueError when it carries none."""
    match = CSRF_TOKEN.search(html)
    if match is None:
        raise ValueError("the page carries no CSRF token")
    return match.group(1)


def log_in(session: requests.Session, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log `session` in through the login form (a demo account from seed_demo by default)."""
    login_page = session.get(f"{base_url}/accounts/login/", timeout=10)
    response = session.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(login_page.text)},
        headers={"Referer": f"{base_url}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login as {username} failed with {response.status_code}:\n{response.text}")


def logged_in_session(base_url: str, username: str, password: str = DEMO_PASSWORD) -> requests.Session:
    """A new session, logged in as `username`."""
    session = requests.Session()
    log_in(session, base_url, username, password)
    return session
