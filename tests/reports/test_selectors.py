import pytest
from django.contrib.auth import get_user_model

from reports.models import Publication
from reports.selectors import publications_after, publications_latest

pytestmark = pytest.mark.django_db


def publish(count: int) -> list[int]:
    user = get_user_model().objects.create_user("manager", is_staff=True)
    return [
        Publication.objects.create(report_slug="top-products", title=f"#{n}", published_by=user).pk
        for n in range(count)
    ]


def test_the_latest_publications_come_oldest_first_and_stop_at_the_count():
    ids = publish(5)

    assert [publication.pk for publication in publications_latest(3)] == ids[2:]


def test_publications_after_an_id_are_the_later_ones_oldest_first_up_to_the_limit():
    ids = publish(5)

    assert [frame["id"] for frame in publications_after(ids[1], limit=2)] == ids[2:4]
