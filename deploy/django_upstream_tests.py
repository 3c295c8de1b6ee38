"""Django's own tests for the components the async-native stack replaces, run once with Django's
classes and once with the project's in their place: every test must end the same way in both runs.

What it proves: that the project's classes (the async-native ASGI handler and middleware subclasses,
listed in one mapping, `replacements()`) behave like Django's own wherever Django's own tests for
those components look: each test of the pinned Django release's modules below passes, fails, errors,
or skips for the same reason in both runs. It proves nothing where those tests do not look (the
thread a hook runs on, when a signal goes out against a real server): the project's own tests cover
that.

How, `make test-django` (`python -m deploy.django_upstream_tests`):

1. Fetch. pip downloads the source distribution of the Django that requirements.txt pins into
   `.cache/django-upstream/` (git-ignored, reused by later runs) and its `tests/` folder is unpacked
   beside it. The release named in its PKG-INFO and the installed Django must both be the pinned
   one: `tests/runtests.py` tests whichever Django is importable, here the virtualenv's.
2. Run. `tests/runtests.py` runs the modules twice, each time in a fresh child process (settings
   `test_sqlite`, `--parallel 2`): stock, then substituted. In the substituted run, once runtests has
   set Django up and before any test module is imported, each Django class in the mapping is
   replaced in its module by the project's, so that `import_string` (every MIDDLEWARE list a test
   sets), `get_asgi_application()` and a test module's `from django.middleware.csrf import
   CsrfViewMiddleware` all get the project's class. A module already loaded that holds Django's
   class under a name of its own gets the project's, and the two Django modules that build on a
   replaced class when imported are run again: `csrf_protect`, `requires_csrf_token` and
   `ensure_csrf_cookie` are then built from the project's CsrfViewMiddleware, and staticfiles'
   ASGIStaticFilesHandler subclasses the project's handler, as they do Django's own.
3. Compare. A result class of this module records each test's outcome in both runs (Django's
   parallel runner hands it every worker's results); any difference fails the target, listed test by
   test, and one line sums up: "N tests, stock: ..., substituted: ..., differences: 0".

One limit: views that Django decorated with `csrf_protect` while its own modules were imported
(the admin's, auth's LoginView) keep Django's class. The project's classes subclass Django's, so
Django's modules, which import auth's views, are loaded before they can be replaced.
"""

import argparse
import importlib
import json
import os
import re
import resource
import runpy
import subprocess
import sys
import tarfile
import time
import traceback
import unittest
from collections import Counter
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from django.test.runner import DiscoverRunner

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "django-upstream"

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

# Django builds these modules' contents from a replaced class when they are imported (csrf_protect
# and its siblings from CsrfViewMiddleware, ASGIStaticFilesHandler subclasses ASGIHandler); they are
# run again after the substitution, whether or not something imported them before it.
BUILT_FROM_REPLACED = {
    "django.views.decorators.csrf": "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.staticfiles.handlers": "django.core.handlers.asgi.ASGIHandler",
}

# How the parent tells a child which run it is and where to write its outcomes.
VARIANT_VARIABLE = "DJANGO_UPSTREAM_VARIANT"
OUTCOMES_VARIABLE = "DJANGO_UPSTREAM_OUTCOMES"
VARIANTS = ("stock", "substituted")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def replacements() -> dict[str, str]:
    """Django dotted path -> the project's class that replaces it: the one mapping of the stack."""
    return dict(importlib.import_module("async_native").REPLACEMENTS)


# --- Fetch -------------------------------------------------------------------------------------


def pinned_django_version(requirements: Path = ROOT / "requirements.txt") -> str:
    match = re.search(r"^Django==(\S+)", requirements.read_text(), flags=re.MULTILINE | re.IGNORECASE)
    if match is None:
        raise SystemExit(f"{requirements} pins no Django release (a line Django==X.Y.Z).")
    return match.group(1)


def fetch_django_tests(version: str, cache: Path = CACHE) -> Path:
    """Django's `tests/` folder of `version`, from its source distribution on the package index."""
    unpacked = cache / f"django-{version}"
    if not (unpacked / "tests" / "runtests.py").exists():
        sdist = find_sdist(version, cache)
        if sdist is None:
            cache.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    *(sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"),
                    *("--no-deps", "--no-binary", ":all:", "--dest", str(cache), f"Django=={version}"),
                ],
                check=True,
            )
            sdist = find_sdist(version, cache)
            if sdist is None:
                raise SystemExit(f"pip downloaded no source distribution of Django {version} into {cache}.")
        unpack_tests(sdist, unpacked)
    released = read_pkg_info_version(unpacked / "PKG-INFO")
    if released != version:
        raise SystemExit(f"{unpacked} holds Django {released}, not the pinned {version}.")
    return unpacked / "tests"


def find_sdist(version: str, cache: Path) -> Path | None:
    # Older sdists are named Django-X.tar.gz, newer ones django-X.tar.gz.
    for candidate in sorted(cache.glob("*.tar.gz")):
        if candidate.name.lower() == f"django-{version}.tar.gz":
            return candidate
    return None


def unpack_tests(sdist: Path, destination: Path) -> None:
    """Unpack PKG-INFO and tests/ only, into a temporary folder renamed at the end, so that an
    interrupted run leaves nothing a later run would take for complete."""
    partial = destination.with_name(destination.name + ".partial")
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        members = [
            member
            for member in archive.getmembers()
            if member.name == f"{top}/PKG-INFO" or member.name.startswith(f"{top}/tests/")
        ]
        for member in members:
            member.name = member.name.removeprefix(f"{top}/")
        archive.extractall(partial, members=members, filter="data")
    partial.rename(destination)


def read_pkg_info_version(pkg_info: Path) -> str:
    match = re.search(r"^Version: (\S+)", pkg_info.read_text(), flags=re.MULTILINE)
    return match.group(1) if match else "no version"


# --- Substitute (in the substituted child) -----------------------------------------------------


def import_attribute(dotted_path: str) -> tuple[ModuleType, str, Any]:
    module_path, name = dotted_path.rsplit(".", 1)
    module = importlib.import_module(module_path)
    return module, name, getattr(module, name)


def substitute(mapping: dict[str, str]) -> list[str]:
    """Put each replacement in place of Django's class, everywhere a loaded module names it; return
    a line per change, for the log. Runs once Django is set up: the project's classes import
    Django's auth backends, which need the app registry."""
    swaps: dict[int, tuple[object, object]] = {}  # id(Django's object) -> (it, the replacement)
    changes = []
    for django_path, replacement_path in mapping.items():
        module, name, original = import_attribute(django_path)
        _, _, replacement = import_attribute(replacement_path)
        setattr(module, name, replacement)
        swaps[id(original)] = (original, replacement)
        changes.append(f"{django_path} -> {replacement_path}")
    for module_path, built_from in BUILT_FROM_REPLACED.items():
        if built_from not in mapping:
            continue
        module = importlib.import_module(module_path)
        before = dict(vars(module))
        importlib.reload(module)
        for name, old in before.items():
            new = vars(module).get(name)
            # What changed is what the module builds itself; what it imports stays the same object.
            if new is not old and callable(old):
                swaps[id(old)] = (old, new)
        changes.append(f"{module_path} run again, on {mapping[built_from]}")
    # The project's own modules keep Django's classes: theirs subclass them and call up to them.
    own_packages = {path.split(".")[0] for path in mapping.values()}
    for module in list(sys.modules.values()):
        module_name = getattr(module, "__name__", "")
        if module_name.split(".")[0] in own_packages or module_name == __name__:
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for name, value in list(namespace.items()):
            swap = swaps.get(id(value))
            if swap is not None and swap[0] is value:
                namespace[name] = swap[1]
                changes.append(f"{module_name}.{name} rebound")
    return changes


# --- Record (in each child) --------------------------------------------------------------------


class OutcomeRecordingResult(unittest.TextTestResult):
    """Django's text result, which also keeps each test's outcome by id, and a line of detail for
    each one that did not pass. (The camelCase names are unittest's.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: dict[str, str] = {}
        self.details: dict[str, str] = {}

    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        self.outcomes[test.id()] = "no outcome"

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self.outcomes[test.id()] = "passed"

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self.record(test.id(), "failed", err)

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        # `test` may stand for a class or module whose set-up failed ("setUpClass (module.Class)").
        super().addError(test, err)
        self.record(test.id(), "error", err)

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self.outcomes[test.id()] = f"skipped: {reason}"

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self.outcomes[test.id()] = "expected failure"

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self.outcomes[test.id()] = "unexpected success"

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        # A failed subtest fails its test (unittest then reports no success for it).
        if err is not None:
            outcome = "failed" if issubclass(err[0], test.failureException) else "error"
            self.record(test.id(), outcome, err, subtest.id())

    def record(self, test_id: str, outcome: str, err: ExcInfo, where: str = "") -> None:
        self.outcomes[test_id] = outcome
        last_line = traceback.format_exception_only(err[0], err[1])[-1].strip()
        self.details[test_id] = f"{where}: {last_line}" if where else last_line


class OutcomeRecordingRunner(DiscoverRunner):
    """Django's runner, which substitutes the project's classes (in the substituted run) before it
    imports any test module, and writes every test's outcome to a JSON file."""

    def get_resultclass(self) -> type[unittest.TextTestResult]:
        # Django's other result classes serve --debug-sql and --pdb, which these runs never pass.
        return OutcomeRecordingResult

    def build_suite(self, *args: Any, **kwargs: Any) -> unittest.TestSuite:
        if os.environ[VARIANT_VARIABLE] == "substituted":
            for change in substitute(replacements()):
                print(f"  substituted: {change}")
        return super().build_suite(*args, **kwargs)

    def run_suite(self, suite: unittest.TestSuite, **kwargs: Any) -> unittest.TextTestResult:
        result = super().run_suite(suite, **kwargs)
        assert isinstance(result, OutcomeRecordingResult)
        Path(os.environ[OUTCOMES_VARIABLE]).write_text(
            json.dumps({"outcomes": result.outcomes, "details": result.details}, indent=1, sort_keys=True)
        )
        return result


def run_django_tests_here(tests_dir: Path, parallel: int, modules: list[str]) -> None:
    """The child: Django's runtests.py in this process, with OutcomeRecordingRunner."""
    import multiprocessing

    # Django's test folder first (its apps have top-level names: `asgi`, `middleware`...), the
    # project last, for the replacements and this module.
    sys.path[:] = [str(tests_dir)] + [p for p in sys.path if p not in ("", str(ROOT))] + [str(ROOT)]
    os.chdir(tests_dir)
    # Workers must be forks of this process, which has made the substitution; a spawned worker
    # would set Django up afresh, with Django's classes.
    if "fork" in multiprocessing.get_all_start_methods():
        multiprocessing.set_start_method("fork", force=True)
    else:
        parallel = 1
    os.environ["DJANGO_SETTINGS_MODULE"] = "test_sqlite"
    from django.conf import settings

    # By its import path: in this process `__main__` is runtests.py while it runs.
    settings.TEST_RUNNER = "deploy.django_upstream_tests.OutcomeRecordingRunner"
    sys.argv = ["runtests.py", "--settings", "test_sqlite", "--parallel", str(parallel), "--noinput"]
    sys.argv += modules
    runpy.run_path(str(tests_dir / "runtests.py"), run_name="__main__")


# --- Run both and compare (the parent) ---------------------------------------------------------


def run_variant(variant: str, tests_dir: Path, parallel: int, modules: list[str]) -> dict[str, Any]:
    """One child run; its outcomes, wall time and CPU seconds (its workers' included)."""
    outcomes_file = tests_dir.parent / f"outcomes-{variant}.json"
    outcomes_file.unlink(missing_ok=True)
    print(f"\n==== Django's tests, {variant} ====", flush=True)
    command = [sys.executable, "-m", "deploy.django_upstream_tests", "--child", str(tests_dir)]
    command += ["--parallel", str(parallel), *modules]
    environment = dict(os.environ, **{VARIANT_VARIABLE: variant, OUTCOMES_VARIABLE: str(outcomes_file)})
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    # Its exit status only says whether some test failed; the comparison decides.
    subprocess.run(command, cwd=ROOT, env=environment, check=False)
    after, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - started
    if not outcomes_file.exists():
        raise SystemExit(f"The {variant} run ended before its tests did: no {outcomes_file.name}.")
    recorded: dict[str, Any] = json.loads(outcomes_file.read_text())
    recorded["wall_seconds"] = wall
    recorded["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return recorded


def differences(stock: dict[str, str], substituted: dict[str, str]) -> list[tuple[str, str, str]]:
    """(test id, stock outcome, substituted outcome) for each test that ended differently or ran in
    one run only."""
    return [
        (test_id, stock.get(test_id, "not run"), substituted.get(test_id, "not run"))
        for test_id in sorted(stock.keys() | substituted.keys())
        if stock.get(test_id) != substituted.get(test_id)
    ]


def tally(outcomes: dict[str, str]) -> str:
    counts = Counter(outcome.split(":")[0] for outcome in outcomes.values())
    return "/".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))


def summary(stock: dict[str, str], substituted: dict[str, str]) -> str:
    tests = len(stock.keys() | substituted.keys())
    found = len(differences(stock, substituted))
    return f"{tests} tests, stock: {tally(stock)}, substituted: {tally(substituted)}, differences: {found}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
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
    stock, substituted = runs["stock"]["outcomes"], runs["substituted"]["outcomes"]

    print(f"\n==== Django {version}'s tests: stock against substituted ====")
    for variant, run in runs.items():
        print(f"{variant}: {run['wall_seconds']:.0f} s wall, {run['cpu_seconds']:.0f} CPU s")
    for test_id, stock_outcome, substituted_outcome in differences(stock, substituted):
        print(f"DIFFERENT {test_id}\n  stock:       {stock_outcome}\n  substituted: {substituted_outcome}")
        for variant, run in runs.items():
            if test_id in run["details"]:
                print(f"  {variant} said: {run['details'][test_id]}")
    print(summary(stock, substituted))
    return 1 if differences(stock, substituted) else 0


if __name__ == "__main__":
    sys.exit(main())
