"""The `hello` probe as a bare WSGI callable, without Django (docs/wire.md).

Serve it with `gunicorn --chdir docs/raw hello_wsgi:application`.
"""

import json
import os
import threading
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIEnvironment


def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    # Called once per request, on the worker's thread; returns when the response is complete.
    facts = {"probe": "hello", "interface": "wsgi", "view_kind": "raw"}
    body = json.dumps({**facts, "thread": threading.current_thread().name, "pid": os.getpid()})
    start_response("200 OK", [("Content-Type", "application/json"), ("X-Interface", "wsgi")])
    return [body.encode()]
