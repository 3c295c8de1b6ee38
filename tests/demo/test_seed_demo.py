from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from demo.management.commands.seed_demo import SEED_STEPS
from demo.seeding import DEMO_PASSWORD, DEMO_STAFF, DEMO_USERS

pytestmark = pytest.mark.django_db


def seed(*arguments: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--size", "300", *arguments, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    """Row counts of every model a seed step fills."""
    from django.apps import apps

    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_creates_the_demo_accounts_with_one_staff_user():
    seed()

    users = get_user_model().objects.all()
    assert sorted(user.username for user in users) == sorted([DEMO_STAFF, *DEMO_USERS])
    assert [user.username for user in users if user.is_staff] == [DEMO_STAFF]
    assert all(user.check_password(DEMO_PASSWORD) for user in users)


def test_running_twice_adds_nothing():
    seed()
    first = snapshot()

    output = seed()

    assert snapshot() == first
    assert "Demo data ready." in output


def test_reports_each_step():
    output = seed()

    for name, _step in SEED_STEPS:
        assert f"{name}:" in output


def test_a_negative_size_is_refused():
    with pytest.raises(CommandError, match="--size"):
        call_command("seed_demo", "--size", "-1", stdout=StringIO())
