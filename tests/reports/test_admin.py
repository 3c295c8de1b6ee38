import pytest
from django.contrib.auth import get_user_model

from reports.models import Order, Publication

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "irrelevant"))
    return client


@pytest.mark.parametrize("model", ["publication", "product", "region", "customer", "order"])
def test_each_shop_model_has_an_admin_list(admin_client_logged_in, shop, model):
    assert admin_client_logged_in.get(f"/admin/reports/{model}/").status_code == 200


def test_an_order_page_shows_its_lines(admin_client_logged_in, shop):
    order = Order.objects.first()

    response = admin_client_logged_in.get(f"/admin/reports/order/{order.pk}/change/")

    assert response.status_code == 200
    assert order.lines.first().product.sku in response.text


def test_publications_cannot_be_added_in_the_admin_where_nothing_would_broadcast_them(admin_client_logged_in):
    assert admin_client_logged_in.get("/admin/reports/publication/add/").status_code == 403
    assert not Publication.objects.exists()
