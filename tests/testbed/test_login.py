"""The one CSRF-token reader, on the project's real login page."""

import pytest
from django.test import Client

from testbed.login import csrf_token


@pytest.mark.django_db
def test_csrf_token_reads_the_token_of_the_login_form():
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")

    token = csrf_token(page.content.decode())

    response = client.post(
        "/accounts/login/", {"username": "nobody", "password": "x", "csrfmiddlewaretoken": token}
    )
    # The form is shown again with an error (200), not refused for a missing token (403).
    assert response.status_code == 200


def test_csrf_token_refuses_a_page_without_a_form():
    with pytest.raises(ValueError, match="no CSRF token"):
        csrf_token("<html><body>no form here</body></html>")
