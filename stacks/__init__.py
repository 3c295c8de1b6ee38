"""Running the project's stacks on this machine, for the tests and the benchmarks alike.

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
- `machine`: the facts of the machine that a measurement names.
"""
