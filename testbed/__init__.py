"""The test bed: real processes on loopback for the tests and the benchmarks, and the machine's facts.

Gunicorn, Uvicorn, Daphne, Granian, Redis, nginx, Chromium and the database start here for real.
Every server starts through the project's own start scripts (deploy/), as `make run`, the Procfile
and docker-compose.yml start them, on a free loopback port, with a clean child environment:

- `processes`: a child process with a log file, free ports, bounded waits, CPU accounting;
- `environment`: the one environment every child process starts from;
- `redis_server`: the embedded Redis, or the one REDIS_URL names;
- `web`: Gunicorn, Uvicorn, Daphne, Granian, Gunicorn's asgi workers, runserver;
- `daphne_workers`: several Daphne processes on one socket (Daphne has no --workers);
- `nginx`: the shipped nginx template, rendered and run in front of two stacks;
- `database`: a database the processes share, migrated and seeded;
- `login`: the form login with its CSRF token, as a browser does it;
- `browser`: Debian's Chromium, headless, for the browser tests and the screenshots;
- `machine`: the facts of the machine that a measurement names.
"""
