"""The project as a WSGI application: `gunicorn myproject.wsgi:application`.

WSGI is synchronous: a worker calls `application(environ, start_response)` for one request and
holds its thread until the response is done. It speaks HTTP only, so WebSocket URLs live on the
ASGI stack (myproject/asgi.py).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
# This entry point always means WSGI: set outright, not as a default, so that a value inherited
# from whatever started the server cannot give a Gunicorn worker the ASGI database policy.
os.environ["SERVER_INTERFACE"] = "wsgi"

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from myproject.client_address import ClientAddressFromTrustedProxy
from myproject.wire_recorder import WSGIWireRecorder

# Behind nginx, Gunicorn hands Django the proxy's address as REMOTE_ADDR; Uvicorn would already
# have put the visitor's there. The wrapper closes that gap (myproject/client_address.py).
django_application = ClientAddressFromTrustedProxy(get_wsgi_application(), settings.FORWARDED_ALLOW_IPS)
# Outermost, so that it sees the environ as Gunicorn built it: the recorder behind the /demo/wire/
# page. It records that page's capture request only and passes every other one straight through.
application = WSGIWireRecorder(django_application)

from myproject.checks import warn_if_channel_layer_is_process_local  # noqa: E402

warn_if_channel_layer_is_process_local("wsgi")
