"""`make test-django`, `python -m deploy.django_upstream`: fetch Django's tests, run them stock and
substituted, compare (the package's docstring tells the whole of it). With --child, one run's child."""

import argparse
import sys
from pathlib import Path

from deploy import django_upstream
from deploy.django_upstream.compare import report
from deploy.django_upstream.fetch import fetch_django_tests, pinned_django_version
from deploy.django_upstream.run import VARIANTS, run_django_tests_here, run_variant

# Django's test modules for what the project replaces: the ASGI handler and the request cycle
# (asgi, handlers, signals, requests_tests, middleware_exceptions, test_client), each middleware
# (middleware, csrf_tests, sessions_tests, auth_tests, messages_tests), the decorators built from
# middleware (decorators), and four cheap ones that lean on the CSRF middleware: a fallback
# middleware behind it (flatpages_tests), its log (logging_tests), its token in templates
# (template_backends) and its failure view (view_tests).
TEST_MODULES = (
    "asgi",
    "handlers",
    "middleware",
    "csrf_tests",
    "sessions_tests",
    "auth_tests",
    "messages_tests",
    "middleware_exceptions",
    "signals",
    "requests_tests",
    "decorators",
    "test_client",
    "flatpages_tests",
    "logging_tests",
    "template_backends",
    "view_tests",
)

# Two processes: this machine's cores, and CI's.
PARALLEL = 2


def main(argv: list[str] | None = None) -> int:
    description = django_upstream.__doc__.splitlines()[0] if django_upstream.__doc__ else None
    parser = argparse.ArgumentParser(prog="python -m deploy.django_upstream", description=description)
    parser.add_argument("modules", nargs="*", default=list(TEST_MODULES), help="Django's test modules")
    parser.add_argument("--parallel", type=int, default=PARALLEL, help="processes per run")
    parser.add_argument("--child", type=Path, metavar="TESTS_DIR", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        run_django_tests_here(options.child, options.parallel, options.modules)
        return 0

    import django

    version = pinned_django_version()
    if django.__version__ != version:
        raise SystemExit(f"Django {django.__version__} is installed, {version} pinned: run make install-dev.")
    tests_dir = fetch_django_tests(version)
    runs = {
        variant: run_variant(variant, tests_dir, options.parallel, options.modules) for variant in VARIANTS
    }
    return report(version, runs)


if __name__ == "__main__":
    sys.exit(main())
