"""Project-wide pages: home, health and readiness, sign-up."""

import asyncio
import secrets

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from myproject.serving import served_by

# Each readiness check gets this long. Well under the usual 5 s probe timeout of load balancers and
# orchestrators, so a hung Redis or database shows up as a 503 instead of a probe that times out.
READINESS_TIMEOUT_SECONDS = 2.0


def home(request: HttpRequest) -> HttpResponse:
    # A plain `def` view: Gunicorn calls it on its worker thread; under ASGI Django runs it in a
    # worker thread (sync_to_async) so it never blocks the event loop.
    return render(request, "home.html", {"served": served_by(request)})


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: answers while the process does, and checks nothing else on purpose, so that a
    database outage does not make an orchestrator restart healthy processes."""
    return JsonResponse({"status": "ok"})


def _query_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _check_database() -> None:
    await sync_to_async(_query_database)()


async def _check_channel_layer() -> None:
    """Send a message to a fresh channel and read it back: proves the layer works end to end, not
    just that a socket to Redis opens."""
    layer = get_channel_layer()
    channel = await layer.new_channel("readyz.")
    nonce = secrets.token_hex(8)
    await layer.send(channel, {"type": "readyz.ping", "nonce": nonce})
    reply = await layer.receive(channel)
    if reply.get("nonce") != nonce:
        raise RuntimeError("the channel layer returned a different message")


async def _run_check(check) -> str:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await check()
    except TimeoutError:
        return f"timed out after {READINESS_TIMEOUT_SECONDS:g} s"
    except Exception as error:  # any failure means "not ready"; the message says which
        return f"{type(error).__name__}: {error}"
    return "ok"


@never_cache
async def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database and the channel layer both answer, else 503 naming what
    failed.

    An `async def` view so both checks run at once. Under ASGI it runs on the server's event loop;
    under WSGI Django runs it in a short-lived event loop of its own (async_to_sync), which is why
    the channel layer must not keep connections tied to one loop (channels-redis closes a loop's
    pool with the loop).
    """
    names = ["database", "channel_layer"]
    results = await asyncio.gather(_run_check(_check_database), _run_check(_check_channel_layer))
    checks = dict(zip(names, results, strict=True))
    failed = [name for name, result in checks.items() if result != "ok"]
    body = {"status": "unavailable" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})
