"""Real processes for the tests: an embedded Redis, Gunicorn, Uvicorn, runserver, on free loopback
ports, started through the project's own start scripts (deploy/), exactly as `make run` and
docker-compose.yml start them.

Every wait is bounded, every process is stopped by its owner, and a process's output goes to a log
file that a failing test prints.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")


def base_environment(**overrides: str) -> dict[str, str]:
    """The environment of a server process: this one's, with the virtualenv's tools first on PATH
    (the start scripts call `gunicorn`, `uvicorn`, `redis-server` by name)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


class ManagedProcess:
    """A child process with a log file; `start()` again after `stop()` restarts it."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_dir / f"{name}-{uuid.uuid4().hex[:8]}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        # A session of its own: stop() signals the whole group (a master and its workers).
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except ProcessLookupError:
                pass
        code = self.process.returncode
        self.process = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __repr__(self) -> str:
        return f"<{self.name} {' '.join(self.command)}>"


class RedisServer(ManagedProcess):
    """The embedded Redis (deploy/start-redis.sh) on a port of its own."""

    def __init__(self, log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        env = base_environment(EMBEDDED_REDIS_PORT=str(self.port))
        super().__init__("redis", [str(ROOT / "deploy" / "start-redis.sh")], env, log_dir)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        super().start()
        wait_until(self.answers, START_TIMEOUT_SECONDS, f"Redis on port {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class WebServer(ManagedProcess):
    """One stack: a start script (or any command) that serves HTTP on `port`."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path, port: int):
        super().__init__(name, command, env, log_dir)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        super().start()
        try:
            wait_until(self.healthy, START_TIMEOUT_SECONDS, f"{self.name} on port {self.port}")
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n--- {self.name} log ---\n{self.log()}") from None

    def healthy(self) -> bool:
        if not self.running():
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False


def gunicorn_server(env: dict[str, str], log_dir: Path, workers: int = 2) -> WebServer:
    port = free_port()
    env = {**env, "WSGI_PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    return WebServer("gunicorn", [str(ROOT / "deploy" / "start-wsgi.sh")], env, log_dir, port)


def uvicorn_server(env: dict[str, str], log_dir: Path, workers: int = 1) -> WebServer:
    port = free_port()
    env = {**env, "ASGI_PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    return WebServer("uvicorn", [str(ROOT / "deploy" / "start-asgi.sh")], env, log_dir, port)


def runserver(env: dict[str, str], log_dir: Path) -> WebServer:
    port = free_port()
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    return WebServer("runserver", command, env, log_dir, port)


def log_in(session: requests.Session, base_url: str, username: str) -> None:
    """Log in through the real login form, as a browser does (a demo account from seed_demo). The
    session lives in the shared database, so its cookie works on every stack that shares it."""
    from demo.seeding import DEMO_PASSWORD

    login_page = session.get(f"{base_url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
    response = session.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text


# Databases --------------------------------------------------------------------------------------


def manage(env: dict[str, str], *arguments: str, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
    return result


class LiveDatabase:
    """A database that real server processes share, migrated and seeded with the demo accounts.

    With DATABASE_URL set to PostgreSQL it is a fresh database on that server, dropped afterwards;
    otherwise a SQLite file in the test's temporary folder.
    """

    def __init__(self, tmp_dir: Path):
        configured = os.environ.get("DATABASE_URL", "")
        self.admin_url = None
        if configured.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(configured)
            self.name = f"live_{uuid.uuid4().hex[:12]}"
            # CREATE/DROP DATABASE from the server's maintenance database, which always exists.
            self.admin_url = urlunsplit(parts._replace(path="/postgres"))
            self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        else:
            self.url = f"sqlite:///{tmp_dir / 'live.sqlite3'}"

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self._psycopg_url(self.admin_url), autocommit=True) as connection:
            connection.execute(statement)

    @staticmethod
    def _psycopg_url(url: str) -> str:
        return url.replace("postgres://", "postgresql://", 1)

    def create(self) -> None:
        if self.admin_url:
            self._admin(f'CREATE DATABASE "{self.name}"')
        env = base_environment(DATABASE_URL=self.url)
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--size", "200")

    def drop(self) -> None:
        if self.admin_url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# nginx ------------------------------------------------------------------------------------------

NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "default.conf.template"
NGINX_BINARY = next((path for path in ("/usr/sbin/nginx", "/usr/bin/nginx") if Path(path).exists()), None)


def render_nginx_template(variables: dict[str, str]) -> str:
    """Render the template as the nginx image's envsubst does: only the given ${NAME}s change,
    nginx's own $variables stay."""
    from string import Template

    return Template(NGINX_TEMPLATE.read_text()).safe_substitute(variables)


class NginxServer(WebServer):
    """Debian's nginx running deploy/nginx/default.conf.template in front of two stacks."""

    def __init__(self, wsgi_url: str, asgi_url: str, log_dir: Path):
        port = free_port()
        prefix = log_dir / f"nginx-{uuid.uuid4().hex[:8]}"
        prefix.mkdir()
        site = render_nginx_template(
            {
                "WSGI_UPSTREAM": urlsplit(wsgi_url).netloc,
                "ASGI_UPSTREAM": urlsplit(asgi_url).netloc,
                "NGINX_PORT": f"127.0.0.1:{port}",
            }
        )
        (prefix / "default.conf").write_text(site)
        temp_paths = "\n".join(
            f"  {kind}_temp_path {prefix / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log stderr warn;\n"
            + "events { worker_connections 256; }\n"
            + f"http {{\n  access_log off;\n{temp_paths}\n  include {prefix / 'default.conf'};\n}}\n"
        )
        command = [NGINX_BINARY or "nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        super().__init__("nginx", command, base_environment(), log_dir, port)


# Daphne -----------------------------------------------------------------------------------------


def daphne_server(env: dict[str, str], log_dir: Path) -> WebServer:
    """The ASGI stack on Daphne (deploy/start-daphne.sh): one process, no workers option."""
    port = free_port()
    env = {**env, "ASGI_PORT": str(port)}
    return WebServer("daphne", [str(ROOT / "deploy" / "start-daphne.sh")], env, log_dir, port)
