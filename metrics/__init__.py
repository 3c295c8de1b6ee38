"""What the servers report to Prometheus: `/metrics`, in its text exposition format, on both stacks.

- `instruments.py`: the metrics themselves, their names and labels, and how each one is combined
  over the worker processes of a server;
- `middleware.py`: counts and times every HTTP request, and answers `/metrics`;
- `access.py`: who may read `/metrics` (METRICS_TOKEN, METRICS_ALLOW_FROM, or debug);
- `exposition.py`: one page of numbers for all the worker processes of a server;
- `websockets.py`: open WebSocket connections, counted in the ASGI application;
- `gunicorn_hooks.py`: Gunicorn's `child_exit` hook, which forgets a dead worker's gauges.

docs/deployment.md ("Metrics") says how to scrape it.
"""
