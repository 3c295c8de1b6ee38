"""/demo/: the probes, each as a `def` view under sync/ and an `async def` view under async/."""

from django.urls import path

from demo import views, wire_views

app_name = "demo"

urlpatterns = [
    path("", views.index, name="index"),
    path("race/", views.race, name="race"),
    path("sync/hello/", views.sync_hello, name="sync-hello"),
    path("async/hello/", views.async_hello, name="async-hello"),
    path("sync/sleep/", views.sync_sleep, name="sync-sleep"),
    path("async/sleep/", views.async_sleep, name="async-sleep"),
    path("sync/fanout/", views.sync_fanout, name="sync-fanout"),
    path("async/fanout/", views.async_fanout, name="async-fanout"),
    path("sync/db/", views.sync_db, name="sync-db"),
    path("async/db/", views.async_db, name="async-db"),
    path("sync/cpu/", views.sync_cpu, name="sync-cpu"),
    path("async/cpu/", views.async_cpu, name="async-cpu"),
    # No sync twin: in a `def` view a blocking wait is simply how it waits (see sync/sleep/).
    path("async/blocking/", views.async_blocking, name="async-blocking"),
    # Under the hood: what the server hands Django (myproject/wire/recorders.py records the capture).
    path("wire/", wire_views.wire, name="wire"),
    path("wire/capture/", views.sync_hello, name="wire-capture"),
    # <path:>, so that a token holding a slash still gets the JSON 404, not an HTML page.
    path("wire/trace/<path:token>/", wire_views.wire_trace, name="wire-trace"),
]
