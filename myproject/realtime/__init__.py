"""What every WebSocket of the project shares: the chat (/ws/chat/<room>/), the report
notifications (/ws/notifications/), the race (/ws/race/) and the wire echo (/ws/wire/).

Only the ASGI stack runs this code. Under WSGI a worker holds a thread per request, so a socket
that stays open for hours would hold a thread for hours; under ASGI each socket is a coroutine on
the process's event loop, and one process holds thousands. One module per concern:

- `close_codes`: the close codes, named for what they tell the client to do;
- `resume`: `read_after`, the one rule for `?after=<id>`, the resume point of both live sockets;
- `layer`: what "Redis is unreachable" looks like, and a Redis client that says so within seconds;
- `per_event_loop`: one object per event loop (a server has one loop; each test gets its own);
- `consumer`: `RealtimeConsumer`, the base that turns those failures into clean closes;
- `dispatch`: its event loop, one handler at a time, without a task per event;
- `groups`: a group's messages received once per process and handed to its consumers (the chat's
  rooms), with `eager`'s `start_eagerly` to handle each without a task when it need not wait;
- `refusal`: `refuse_handshake`, the answer to a WebSocket path no app routes;
- `origin`: `allowed_origins_only`, the Origin check, the same rule as Django's CSRF check;
- `layer_log`: the channel layer's log, one line per outage instead of a traceback a second.
"""
