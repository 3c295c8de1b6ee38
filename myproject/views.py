"""Project-wide pages: home, health and readiness, sign-up."""

from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from myproject.readiness import readiness
from myproject.serving import served_by


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


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form: UserCreationForm[User] = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})
