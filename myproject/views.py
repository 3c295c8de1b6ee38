"""Project-wide pages: home, health and readiness, login and sign-up."""

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from demo.seeding import DEMO_PASSWORD, DEMO_STAFF, DEMO_USERS
from myproject.readiness import readiness
from myproject.which_stack.served_by import served_by

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    # A plain `def` view: Gunicorn calls it on its worker thread; under ASGI Django runs it in a
    # worker thread (sync_to_async) so it never blocks the event loop.
    return render(request, "home.html", {"served": served_by(request)})


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: answers while the process does, and checks nothing else on purpose, so that a
    database outage does not make an orchestrator restart healthy processes."""
    return JsonResponse({"status": "ok"})


@never_cache
async def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database and the channel layer both answer, else 503 naming what
    failed.

    An `async def` view so both checks run at once. Under ASGI it runs on the server's event loop;
    under WSGI Django runs it in a short-lived event loop of its own (async_to_sync), and
    channels-redis closes that loop's connections when the loop closes (myproject/readiness.py).
    """
    checks = await readiness()
    failed = [name for name, result in checks.items() if result != "ok"]
    body: dict[str, object] = {"status": "unavailable" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)


class LoginView(auth_views.LoginView):
    """Django's login view; the page also names the demo accounts, when it may (demo_accounts_shown)."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_accounts"] = demo_accounts_shown()
        return context


def demo_accounts_shown() -> dict[str, Any] | None:
    """The demo accounts and their password, for the login page: only in debug mode (make run,
    runserver, `docker compose up` with no settings), and only those that seed_demo has created.

    A production site runs with debug off and never prints a password, even one that the README
    publishes: there, demo accounts exist only if someone seeded them by mistake, and a login page
    that advertises them would invite strangers in.
    """
    if not settings.DEBUG:
        return None
    existing = set(
        User.objects.filter(username__in=[DEMO_STAFF, *DEMO_USERS]).values_list("username", flat=True)
    )
    usernames = [name for name in [DEMO_STAFF, *DEMO_USERS] if name in existing]
    if not usernames:
        return None
    return {"usernames": usernames, "staff": DEMO_STAFF, "password": DEMO_PASSWORD}


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST" and _signup_throttled(request):
        context = {"form": UserCreationForm(), "throttled": True}
        return render(request, "registration/signup.html", context, status=429)
    form: UserCreationForm[User] = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


def _signup_throttled(request: HttpRequest) -> bool:
    """Whether this address has used up its sign-ups (settings.SIGNUP_RATE_LIMIT); counts this one.

    Every POST counts, valid or not, so the form cannot probe for taken usernames at full speed
    either. The count lives in the shared "throttle" cache, so all workers of both stacks draw on
    one budget per address. If that cache (Redis) is down, sign-ups go through: the throttle is a
    brake, not a lock, and django-ratelimit would otherwise let the error become a 500.
    """
    try:
        return is_ratelimited(
            request, group="signup", key="ip", rate=settings.SIGNUP_RATE_LIMIT, method="POST", increment=True
        )
    except RedisError:
        logger.warning("Sign-up throttle skipped: its cache did not answer.", exc_info=True)
        return False
