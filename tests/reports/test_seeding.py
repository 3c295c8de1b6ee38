import random

import pytest
from django.db.models import Count

from reports.models import Customer, Order, OrderLine, Product, Region
from reports.seeding import CATALOGUE, FIRST_DAY, REGIONS, seed_shop

pytestmark = pytest.mark.django_db


def shop_rows() -> list[tuple]:
    return [
        *OrderLine.objects.values_list("id", "order__number", "product__sku", "quantity", "unit_price"),
        *Order.objects.values_list("id", "number", "customer__email", "region__code", "placed_at"),
        *Customer.objects.values_list("id", "name", "email", "region__code"),
    ]


def seed(size: int, seed: str = "one") -> str:
    return seed_shop(random.Random(seed), size)


def test_creates_exactly_the_requested_number_of_order_lines():
    seed(457)

    assert OrderLine.objects.count() == 457


def test_creates_every_region_and_catalogue_product():
    seed(10)

    assert Region.objects.count() == len(REGIONS)
    assert Product.objects.count() == len(CATALOGUE)


def test_every_order_has_at_least_one_line():
    seed(300)

    assert not Order.objects.annotate(lines_count=Count("lines")).filter(lines_count=0).exists()


def test_running_twice_with_the_same_size_adds_nothing():
    seed(300)
    first = shop_rows()

    summary = seed(300)

    assert shop_rows() == first
    assert "nothing to add" in summary


def test_the_same_seed_gives_the_same_data():
    seed(300, "same")
    first = shop_rows()
    OrderLine.objects.all().delete()
    Order.objects.all().delete()
    Customer.objects.all().delete()

    seed(300, "same")

    assert shop_rows() == first


def test_another_seed_gives_other_data():
    seed(300, "first")
    first = shop_rows()
    OrderLine.objects.all().delete()
    Order.objects.all().delete()
    Customer.objects.all().delete()

    seed(300, "second")

    assert shop_rows() != first


def test_a_larger_size_extends_a_smaller_one_to_the_same_data_as_a_fresh_run():
    seed(1000)
    fresh = shop_rows()
    OrderLine.objects.all().delete()
    Order.objects.all().delete()
    Customer.objects.all().delete()

    seed(333)
    seed(1000)

    assert shop_rows() == fresh


def test_a_smaller_size_than_what_is_there_removes_nothing():
    seed(500)

    seed(100)

    assert OrderLine.objects.count() == 500


def test_orders_span_two_years():
    seed(2000)

    dates = Order.objects.values_list("placed_at", flat=True)
    assert {moment.year for moment in dates} == {FIRST_DAY.year, FIRST_DAY.year + 1}
    assert len({(moment.year, moment.month) for moment in dates}) == 24


def test_ids_added_by_hand_after_seeding_do_not_collide():
    seed(50)
    order = Order.objects.first()

    added = OrderLine.objects.create(order=order, product=Product.objects.first(), quantity=1, unit_price=1)

    assert added.pk > 50
