"""The site's icon: named by every page built on templates/base.html, and at /favicon.ico for the
pages that name none (the admin, JSON answers), so no browser gets a 404 for it. In process; the
Chromium check on real servers is in which_stack/test_layout_live.py."""

import pytest
from django.templatetags.static import static

from tests.conftest import fetch

pytestmark = pytest.mark.django_db(transaction=True)


def test_favicon_ico_is_served_at_the_root(interface):
    response = fetch(interface, "/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}


def test_every_page_names_the_svg_icon_and_it_is_served(interface):
    page = fetch(interface, "/reports/").content.decode()
    icon = fetch(interface, static("favicon.svg"))

    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in page
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
