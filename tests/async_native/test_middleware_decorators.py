"""The package's middleware classes work wherever Django's do: here as view decorators, through
`decorator_from_middleware`, which calls their hooks directly (the way `csrf_protect` uses Django's)."""

import pytest
from django.http import HttpResponse
from django.test import AsyncRequestFactory
from django.utils.decorators import decorator_from_middleware
from django.utils.module_loading import import_string

from async_native import REPLACEMENTS

CSRF = "django.middleware.csrf.CsrfViewMiddleware"


@pytest.fixture(params=["stock", "async-native"])
def csrf_middleware(request) -> type:
    return import_string(CSRF if request.param == "stock" else REPLACEMENTS[CSRF])


def protected(middleware_class: type):
    @decorator_from_middleware(middleware_class)
    async def view(request):
        return HttpResponse("the view")

    return view


async def test_a_csrf_protected_async_view_answers_a_get(csrf_middleware):
    response = await protected(csrf_middleware)(AsyncRequestFactory().get("/"))

    assert response.status_code == 200
    assert response.content == b"the view"


async def test_a_csrf_protected_async_view_refuses_a_post_without_a_token(csrf_middleware):
    response = await protected(csrf_middleware)(AsyncRequestFactory().post("/", {"name": "value"}))

    assert response.status_code == 403
