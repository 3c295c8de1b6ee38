"""
WSGI config for myproject: `gunicorn myproject.wsgi:application`.

It exposes the WSGI callable as a module-level variable named ``application``. WSGI is synchronous:
a worker calls `application(environ, start_response)` for one request and holds its thread until the
response is done. It speaks HTTP only, so WebSocket URLs live on the ASGI stack (myproject/asgi.py).

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os
from wsgiref.types import WSGIApplication

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
# The project's: this entry point always means WSGI, set outright, not as a default, so that a value
# inherited from whatever started the server cannot give a Gunicorn worker the ASGI database policy.
os.environ["SERVER_INTERFACE"] = "wsgi"

application: WSGIApplication = get_wsgi_application()

# The project's wrappers, each for one reason -------------------------------------------------------
from django.conf import settings  # noqa: E402

from myproject.checks import warn_if_channel_layer_is_process_local  # noqa: E402
from myproject.client_address import ClientAddressFromTrustedProxy  # noqa: E402
from myproject.wire.recorders import WSGIWireRecorder  # noqa: E402

# Behind nginx, Gunicorn hands Django the proxy's address as REMOTE_ADDR, where Uvicorn puts the
# visitor's: this puts the visitor's there too (myproject/client_address.py).
application = ClientAddressFromTrustedProxy(application, settings.FORWARDED_ALLOW_IPS)
# Outermost, so that it sees the environ as Gunicorn built it: the recorder behind the /demo/wire/
# page. It records that page's request only, passing the rest through.
application = WSGIWireRecorder(application)
# A process without Redis cannot reach the other stack's processes: it says so as it starts.
warn_if_channel_layer_is_process_local("wsgi")
