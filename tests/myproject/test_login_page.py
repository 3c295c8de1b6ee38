"""The login and sign-up pages: the demo accounts named only in debug mode and only once they exist,
and form errors that are announced and tied to their fields."""

import random
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from demo.seeding import DEMO_PASSWORD, seed_users

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_accounts(db):
    seed_users(random.Random(0), 0)


def test_in_debug_mode_the_login_page_names_the_seeded_demo_accounts(settings, demo_accounts):
    settings.DEBUG = True

    page = Client().get("/accounts/login/").content.decode()

    hint = re.search(r'data-testid="demo-accounts">(.*?)</p>', page, re.DOTALL).group(1)
    for username in ("admin", "alice", "bob", "carol"):
        assert f"<code>{username}</code>" in hint
    assert f"<code>{DEMO_PASSWORD}</code>" in hint


def test_with_debug_off_the_login_page_never_shows_the_demo_password(settings, demo_accounts):
    settings.DEBUG = False

    page = Client().get("/accounts/login/").content.decode()

    assert DEMO_PASSWORD not in page
    assert 'data-testid="demo-accounts"' not in page


def test_in_debug_mode_without_demo_data_the_login_page_names_no_account(settings):
    settings.DEBUG = True

    page = Client().get("/accounts/login/").content.decode()

    assert 'data-testid="demo-accounts"' not in page


def test_only_the_demo_accounts_that_exist_are_named(settings):
    settings.DEBUG = True
    get_user_model().objects.create_user("bob", password="x")

    page = Client().get("/accounts/login/").content.decode()

    assert "<code>bob</code>" in page
    assert "<code>alice</code>" not in page


def test_a_wrong_password_is_announced_as_an_alert(demo_accounts):
    response = Client().post("/accounts/login/", {"username": "alice", "password": "not-hers"})
    page = response.content.decode()

    alert = re.search(r'<div class="form-errors" role="alert"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert response.status_code == 200
    assert "Please enter a correct username and password" in alert.group(1)


def test_a_field_error_is_tied_to_its_field(db):
    page = (
        Client()
        .post("/accounts/signup/", {"username": "dora", "password1": "a-long-pass-42", "password2": "other"})
        .content.decode()
    )

    field = re.search(r"<input[^>]*id=\"id_password2\"[^>]*>", page).group(0)
    assert 'aria-invalid="true"' in field
    assert "id_password2_error" in field
    assert 'id="id_password2_error"' in page
    assert 'role="alert"' in page
