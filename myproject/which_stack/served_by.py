"""Which interface, server and process served a request: the facts behind the home page and the
X-Interface header."""

import os
import socket
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest

# ASGI servers, most specific first: a Gunicorn worker running Uvicorn's worker class has both
# packages loaded, and every process has `daphne` loaded because it is in INSTALLED_APPS.
ASGI_SERVERS_BY_MODULE = [
    ("uvicorn_worker", "Gunicorn + UvicornWorker", "gunicorn"),
    ("gunicorn.workers.gasgi", "Gunicorn (asgi worker)", "gunicorn"),
    ("granian", "Granian", "granian"),
    ("uvicorn.server", "Uvicorn", "uvicorn"),
    ("daphne.server", "Daphne", "daphne"),
]
WSGI_SERVER_NAMES = {"gunicorn": "Gunicorn", "granian": "Granian"}


@dataclass(frozen=True)
class ServedBy:
    interface: str  # "wsgi" or "asgi"
    server: str
    pid: int
    # The machine's name: in a container, the container's own (Docker sets it to the container
    # id), so behind a load balancer the page shows which replica answered.
    host: str
    details: dict[str, str]


@dataclass(frozen=True)
class WorkerPool:
    """How many requests a WSGI server holds at once: processes x threads, one request each. The
    rest wait in the listen backlog, so N requests that each wait W seconds take about
    N / slots x W (Little's law), however short W is."""

    server: str
    processes: int
    threads: int

    @property
    def slots(self) -> int:
        return self.processes * self.threads


# Set in each Gunicorn worker by the worker class (myproject/gunicorn_worker.py), which alone knows
# the configuration it was started with; None in any other process. An ASGI server has no such
# number to report: its event loop takes every connection as it arrives.
_worker_pool: WorkerPool | None = None


def record_worker_pool(pool: WorkerPool) -> None:
    global _worker_pool
    _worker_pool = pool


def worker_pool() -> WorkerPool | None:
    return _worker_pool


def interface_of(request: HttpRequest) -> str:
    return "asgi" if isinstance(request, ASGIRequest) else "wsgi"


def _package_version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def asgi_server_name(*, with_version: bool = True) -> str:
    # The ASGI scope does not name the server (the WSGI environ does, in SERVER_SOFTWARE), so ask
    # which server's modules this process has loaded.
    for module, name, package in ASGI_SERVERS_BY_MODULE:
        if module in sys.modules:
            return f"{name} {_package_version(package)}" if with_version else name
    return "an ASGI server"


def wsgi_server_name(request: HttpRequest) -> str:
    # SERVER_SOFTWARE reads "gunicorn/27.0.1": the name before the slash, as its project spells it.
    software = request.META.get("SERVER_SOFTWARE", "").partition("/")[0]
    return WSGI_SERVER_NAMES.get(software.lower(), software or "a WSGI server")


def server_name(request: HttpRequest) -> str:
    """The server alone, without its version ("Gunicorn", "Uvicorn"): every page's header shows it."""
    if isinstance(request, ASGIRequest):
        return asgi_server_name(with_version=False)
    return wsgi_server_name(request)


def served_by(request: HttpRequest) -> ServedBy:
    if isinstance(request, ASGIRequest):
        scope = request.scope
        details = {
            "ASGI version": f"{scope.get('asgi', {}).get('version', '3.0')} "
            f"(spec {scope.get('asgi', {}).get('spec_version', '2.0')})",
            "HTTP version": scope.get("http_version", "?"),
            "Concurrency": "one event loop; many requests at once in this process",
        }
        return ServedBy("asgi", asgi_server_name(), os.getpid(), socket.gethostname(), details)
    meta = request.META
    threaded = bool(meta.get("wsgi.multithread"))
    details = {
        "wsgi.multithread": str(threaded),
        "wsgi.multiprocess": str(bool(meta.get("wsgi.multiprocess"))),
        "Concurrency": "threads in this process, one request each"
        if threaded
        else "one request at a time in this process",
    }
    server = meta.get("SERVER_SOFTWARE", "a WSGI server")
    return ServedBy("wsgi", server, os.getpid(), socket.gethostname(), details)
