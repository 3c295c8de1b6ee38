"""What the /demo/wire/ page records: for one request, what the server handed Django (the WSGI
environ, or the ASGI scope and events) and what Django handed back, on either stack.

- `recorders`: `WSGIWireRecorder` and `ASGIWireRecorder`, wrapped around the entry points
  (myproject/wsgi.py, myproject/asgi.py); they record the wire paths only and store each trace.
- `trace`: what one trace holds: the environ or scope turned into JSON, secrets masked, sizes bounded.
- `budget`: how many captures a client, and everybody together, may make a minute.
"""
