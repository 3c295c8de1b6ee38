"""Screenshots of the project's pages, at desktop and phone width, for docs/screenshots.md.

    make screenshots        # or: .venv/bin/python -m screenshots [--pages home,chat]

It runs the project as `make run` does (Gunicorn and Uvicorn through their deploy/ start scripts,
debug on, an embedded Redis unless REDIS_URL is set, the chat's WebSocket port given to the WSGI
stack) on a fresh database seeded with `seed_demo`'s defaults, so every run shows the same data, and
saves docs/screenshots/<page>-<width>.png with Debian's Chromium.

The script is the gallery's tool, neither a test nor a measurement, so it stands on its own beside
manage.py; docs/ holds only what is read. tests/docs/test_phone_layout.py loads the same pages
(PAGES) on both stacks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from testbed.browser import CHROMIUM, launch_chromium
from testbed.database import manage
from testbed.environment import base_environment
from testbed.login import csrf_token, logged_in_session
from testbed.redis_server import redis_url
from testbed.web import WebServer, gunicorn_server, uvicorn_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext
    from playwright.sync_api import Page as BrowserPage

ROOT = Path(__file__).resolve().parent
FOLDER = ROOT / "docs" / "screenshots"
# Long enough for a page's WebSocket to open on a busy machine; a page that is not ready by then is
# skipped with the reason rather than shown half-loaded.
READY_TIMEOUT_MS = 15_000
# Published before the live page is shot, so that it shows a backlog rather than an empty list.
PUBLISHED_BEFORE_THE_SHOT = ["revenue-by-month", "top-products"]
# Chat messages and publications are stamped with the clock of the run (seed_demo posts the
# messages "now"); restamped with this moment before the shots, so that re-running changes no pixel.
STEADY_TIME = "2026-01-15T10:30:00+00:00"
RESTAMP = (
    "from django.utils.dateparse import parse_datetime\n"
    "from chat.models import Message\n"
    "from reports.models import Publication\n"
    "moment = parse_datetime({moment!r})\n"
    "Message.objects.update(created=moment)\n"
    "Publication.objects.update(published_at=moment)\n"
)


@dataclass(frozen=True)
class Width:
    name: str
    width: int
    height: int
    scale: int


# Phone at device scale 2, as a phone renders it: text stays sharp in the gallery; one page is
# still only a few hundred kilobytes once quantized (save_png).
WIDTHS = [Width("desktop", 1280, 800, 1), Width("phone", 390, 844, 2)]


@dataclass(frozen=True)
class Page:
    """One page to show: `stack` is the one a visitor meets it on (the WebSocket pages on ASGI);
    `user` the demo account it is seen as; `ready` what must be on screen before the shot."""

    name: str
    path: str
    stack: Literal["wsgi", "asgi"] = "wsgi"
    user: str | None = None
    ready: tuple[str, ...] = ()


PAGES = [
    Page("home", "/"),
    Page("demo", "/demo/"),
    Page(
        "race",
        "/demo/race/",
        ready=('[data-testid="race"][data-driver-stacks*="wsgi"][data-driver-stacks*="asgi"]',),
    ),
    Page(
        "chat",
        "/chat/lobby/",
        stack="asgi",
        user="alice",
        ready=('[data-testid="connection"][data-state="open"]', '[data-testid="messages"] li'),
    ),
    Page("report", "/reports/revenue-by-month/"),
    Page("live", "/reports/live/", stack="asgi", ready=('[data-testid="publications"] li[data-id]',)),
]

# Run in the page before a shot: the process facts that differ from run to run and machine to machine.
STEADY_SCRIPT = """() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        walker.currentNode.textContent = walker.currentNode.textContent.replace(/\\bpid \\d+/, "pid 4242");
    }
    for (const node of document.querySelectorAll('[data-testid="host"]')) node.textContent = "demo-host";
}"""


@dataclass
class RunningStacks:
    wsgi: WebServer
    asgi: WebServer
    env: dict[str, str]

    def url(self, page: Page) -> str:
        return f"{(self.wsgi if page.stack == 'wsgi' else self.asgi).url}{page.path}"


@contextmanager
def running_stacks(work_dir: Path, *seed_options: str) -> Iterator[RunningStacks]:
    """Both stacks as `make run` starts them, on a fresh SQLite file in `work_dir` seeded as
    `make seed` seeds it (plus `seed_options`, e.g. a smaller --size for a test)."""
    with ExitStack() as cleanup:
        channel_layer = cleanup.enter_context(redis_url(work_dir))
        env = base_environment(
            DATABASE_URL=f"sqlite:///{work_dir / 'demo.sqlite3'}", REDIS_URL=channel_layer, DJANGO_DEBUG="1"
        )
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", *seed_options)
        wsgi, asgi = gunicorn_server(env, work_dir), uvicorn_server(env, work_dir)
        for server in (wsgi, asgi):
            # As `make run` exports both ports to both stacks: the race page's driver races each
            # stack at its own address, each page links to itself on the other stack, and a page
            # Gunicorn serves (it cannot hold a WebSocket) opens its socket on the ASGI port.
            server.env.update(
                RACE_WSGI_URL=wsgi.url,
                RACE_ASGI_URL=asgi.url,
                WSGI_STACK_PORT=str(wsgi.port),
                ASGI_STACK_PORT=str(asgi.port),
            )
        for server in (asgi, wsgi):
            server.start()
            cleanup.callback(server.stop)
        yield RunningStacks(wsgi, asgi, env)


def publish_reports(stacks: RunningStacks, slugs: list[str]) -> None:
    """Publish `slugs` as the demo staff account, through the form a staff member uses."""
    session = logged_in_session(stacks.wsgi.url, "admin")
    for slug in slugs:
        report_url = f"{stacks.wsgi.url}/reports/{slug}/"
        response = session.post(
            f"{report_url}publish/",
            data={"csrfmiddlewaretoken": csrf_token(session.get(report_url, timeout=10).text)},
            headers={"Referer": report_url},
            allow_redirects=False,
            timeout=10,
        )
        if response.status_code >= 400:
            raise RuntimeError(f"publishing {slug} answered {response.status_code}")


def new_context(browser: Browser, width: Width, base_url: str, user: str | None) -> BrowserContext:
    """A fresh browser profile at `width`, logged in as `user` through the login form (the session
    cookie serves both stacks: they share the database, and cookies ignore the port)."""
    # A fixed locale and time zone: the same page draws the same pixels on any machine.
    context = browser.new_context(
        viewport={"width": width.width, "height": width.height},
        device_scale_factor=width.scale,
        is_mobile=width.name == "phone",
        has_touch=width.name == "phone",
        locale="en-US",
        timezone_id="UTC",
    )
    if user:
        session = logged_in_session(base_url, user)
        context.add_cookies(
            [{"name": c.name, "value": c.value or "", "url": base_url} for c in session.cookies]
        )
    return context


def open_page(tab: BrowserPage, url: str, page: Page) -> int:
    """Load `url` in `tab` and wait until `page` is ready; the HTTP status."""
    response = tab.goto(url, wait_until="networkidle")
    status = response.status if response else 0
    for selector in page.ready if status < 400 else ():
        tab.wait_for_selector(selector, timeout=READY_TIMEOUT_MS)
    return status


def save_png(png: bytes, path: Path) -> None:
    """Save a screenshot as a 256-colour PNG: a page of flat colours loses nothing visible, and
    the file shrinks to less than half."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True
    )


def take(browser: Browser, stacks: RunningStacks, page: Page, width: Width) -> Path | None:
    """Shoot one page at one width; None (with the reason printed) when the page is not there or
    never gets ready."""
    from playwright.sync_api import TimeoutError as NotReady

    with ExitStack() as cleanup:
        context = new_context(browser, width, stacks.wsgi.url, page.user)
        cleanup.callback(context.close)
        tab = context.new_page()
        try:
            status = open_page(tab, stacks.url(page), page)
        except NotReady as error:
            print(
                f"  skipped {page.name}: not ready on the {page.stack} stack: {error.message.splitlines()[0]}"
            )
            return None
        if status >= 400:
            print(f"  skipped {page.name}: {page.path} answered {status} on the {page.stack} stack")
            return None
        tab.evaluate(STEADY_SCRIPT)
        path = FOLDER / f"{page.name}-{width.name}.png"
        save_png(tab.screenshot(full_page=True, animations="disabled", caret="hide"), path)
        return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pages", default=",".join(page.name for page in PAGES), help="comma-separated page names"
    )
    arguments = parser.parse_args(argv)
    wanted = [name.strip() for name in arguments.pages.split(",")]
    unknown = sorted(set(wanted) - {page.name for page in PAGES})
    if unknown:
        parser.error(f"unknown page {', '.join(unknown)}; the pages are {', '.join(p.name for p in PAGES)}")
    if not CHROMIUM.exists():
        print(f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium).", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="screenshots-") as work_dir:
        print("Starting Gunicorn, Uvicorn and Redis on a fresh seeded database...")
        with running_stacks(Path(work_dir)) as stacks, launch_chromium(CHROMIUM) as browser:
            publish_reports(stacks, PUBLISHED_BEFORE_THE_SHOT)
            manage(stacks.env, "shell", "--command", RESTAMP.format(moment=STEADY_TIME))
            skipped = 0
            for page in PAGES:
                if page.name not in wanted:
                    continue
                for width in WIDTHS:
                    path = take(browser, stacks, page, width)
                    if path is None:
                        skipped += 1
                        break
                    print(f"  {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")
    print(f"Done; {skipped} page(s) skipped." if skipped else "Done.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
