"""Gunicorn's sync worker, changed in one way: on a graceful stop it serves the connections the
kernel already accepted before it exits (deploy/start-wsgi.sh selects it).

On SIGTERM the stock sync worker finishes the request in hand and exits. Connections that the
kernel had accepted on the shared listening socket but no worker had taken yet (its backlog) are
reset when the last worker closes that socket: with 5 workers and 20 slow requests in flight, 15
clients got a reset for requests they had already sent. An event-loop server (Uvicorn) takes every
connection as soon as it arrives, so it has no such queue to lose.

This worker, once told to stop, keeps taking connections until the backlog is empty, serving each
as usual, and only then exits. Gunicorn's --graceful-timeout still bounds the whole stop: a worker
that has not finished by then is killed.

It also tells the application how many requests the server holds at once (`record_worker_pool`),
so that the race page (/demo/race/) draws the limit from the configuration, not from a guess.
"""

from __future__ import annotations

import errno

from gunicorn.workers.sync import SyncWorker

from myproject.which_stack.served_by import WorkerPool, record_worker_pool


class DrainingSyncWorker(SyncWorker):
    def init_process(self) -> None:
        # A sync worker has one thread whatever --threads says (Gunicorn switches to its gthread
        # worker for threads only when the worker class is its own "sync").
        record_worker_pool(WorkerPool("gunicorn", self.cfg.workers, 1))
        super().init_process()  # loads the application, then runs the worker until it stops

    def run(self) -> None:
        super().run()  # returns once the worker is told to stop (or its master is gone)
        self.drain()

    def drain(self) -> None:
        # The listening sockets are non-blocking (SyncWorker.run set them so): accept() raises
        # instead of waiting once nothing is queued. A connection that arrives after that last
        # accept, in the instant before the last worker exits, is still reset: a load balancer or
        # orchestrator should stop sending traffic before it sends SIGTERM.
        for listener in self.sockets:
            while True:
                self.notify()
                try:
                    self.accept(listener)
                except OSError as error:
                    if error.errno == errno.ECONNABORTED:
                        continue  # that client gave up while queued; the next one may not have
                    break  # EAGAIN: the queue is empty
