"""deploy/django_upstream_tests.py, `make test-django`: Django's source distribution is unpacked and its
release checked, each test's outcome is recorded, every difference between the runs is found, and the
substitution puts the project's classes wherever Django's are looked up."""

import io
import subprocess
import sys
import tarfile
import textwrap
import unittest
from pathlib import Path
from types import ModuleType

import django
import pytest

from deploy.django_upstream_tests import (
    OutcomeRecordingResult,
    differences,
    fetch_django_tests,
    pinned_django_version,
    replacements,
    summary,
)
from testbed.processes import ROOT


def test_the_pinned_release_is_the_installed_one():
    assert pinned_django_version() == django.__version__


def make_sdist(folder: Path, version: str, pkg_info_version: str) -> Path:
    sdist = folder / f"django-{version}.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for name, text in [
            ("PKG-INFO", f"Metadata-Version: 2.4\nName: Django\nVersion: {pkg_info_version}\n"),
            ("tests/runtests.py", "print('runtests')\n"),
            ("django/__init__.py", ""),
        ]:
            data = text.encode()
            member = tarfile.TarInfo(f"django-{version}/{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return sdist


def test_a_cached_sdist_is_unpacked_tests_only(tmp_path):
    make_sdist(tmp_path, "9.9.1", "9.9.1")

    tests_dir = fetch_django_tests("9.9.1", cache=tmp_path)

    assert tests_dir == tmp_path / "django-9.9.1" / "tests"
    assert (tests_dir / "runtests.py").read_text() == "print('runtests')\n"
    assert not (tmp_path / "django-9.9.1" / "django").exists()


def test_an_sdist_of_another_release_is_refused(tmp_path):
    make_sdist(tmp_path, "9.9.1", "9.9.0")

    with pytest.raises(SystemExit, match=r"holds Django 9\.9\.0, not the pinned 9\.9\.1"):
        fetch_django_tests("9.9.1", cache=tmp_path)


class Examples(unittest.TestCase):
    """One test of each outcome, run by the test below, not by pytest."""

    __test__ = False

    def test_passes(self):
        pass

    def test_fails(self):
        self.fail("no")

    def test_errors(self):
        raise KeyError("missing")

    @unittest.skip("not here")
    def test_skipped(self):
        pass

    @unittest.expectedFailure
    def test_expected_to_fail(self):
        self.fail("known")

    def test_subtest_fails(self):
        for number in (1, 2):
            with self.subTest(number=number):
                assert number == 1


def test_the_result_records_every_outcome():
    result = OutcomeRecordingResult(io.StringIO(), descriptions=False, verbosity=0)

    unittest.defaultTestLoader.loadTestsFromTestCase(Examples).run(result)

    name = f"{__name__}.Examples"
    assert result.outcomes == {
        f"{name}.test_passes": "passed",
        f"{name}.test_fails": "failed",
        f"{name}.test_errors": "error",
        f"{name}.test_skipped": "skipped: not here",
        f"{name}.test_expected_to_fail": "expected failure",
        f"{name}.test_subtest_fails": "failed",
    }
    assert result.details[f"{name}.test_errors"] == "KeyError: 'missing'"
    assert result.details[f"{name}.test_subtest_fails"].startswith(f"{name}.test_subtest_fails (number=2)")


def test_every_kind_of_difference_is_found():
    stock = {"a": "passed", "b": "passed", "c": "skipped: no bcrypt", "d": "passed", "e": "failed"}
    substituted = {"a": "passed", "b": "error", "c": "skipped: other", "e": "failed", "f": "passed"}

    assert differences(stock, substituted) == [
        ("b", "passed", "error"),
        ("c", "skipped: no bcrypt", "skipped: other"),
        ("d", "passed", "not run"),
        ("f", "not run", "passed"),
    ]


def test_the_summary_counts_each_run_and_the_differences():
    stock = {"a": "passed", "b": "passed", "c": "skipped: no bcrypt"}
    substituted = {"a": "passed", "b": "error", "c": "skipped: no bcrypt"}

    assert summary(stock, substituted) == (
        "3 tests, stock: 2 passed/1 skipped, substituted: 1 error/1 passed/1 skipped, differences: 1"
    )


def test_the_mapping_comes_from_the_async_native_package(monkeypatch):
    package = ModuleType("async_native")
    package.REPLACEMENTS = {"django.middleware.csrf.CsrfViewMiddleware": "async_native.middleware.Csrf"}
    monkeypatch.setitem(sys.modules, "async_native", package)

    assert replacements() == {"django.middleware.csrf.CsrfViewMiddleware": "async_native.middleware.Csrf"}


SUBSTITUTION_PROBE = textwrap.dedent(
    """
    import django
    django.setup()
    import django.views.decorators.csrf  # built from Django's class before the substitution
    from deploy.django_upstream_tests import replacements, substitute
    substitute(replacements())

    import django.contrib.auth.views
    import django.core.asgi
    import django.middleware.csrf
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.utils.module_loading import import_string
    from django.views.decorators.csrf import csrf_protect
    from async_native.handler import PooledThreadASGIHandler
    from async_native.middleware import CsrfViewMiddleware

    print(import_string("django.middleware.csrf.CsrfViewMiddleware") is CsrfViewMiddleware)
    print(type(django.core.asgi.get_asgi_application()) is PooledThreadASGIHandler)
    print(issubclass(ASGIStaticFilesHandler, PooledThreadASGIHandler))
    print(django.contrib.auth.views.csrf_protect is csrf_protect)
    # decorator_from_middleware keeps the class it builds from in the decorator's closure.
    print(CsrfViewMiddleware in [cell.cell_contents for cell in csrf_protect.__closure__])
    print(issubclass(django.views.decorators.csrf._EnsureCsrfToken, CsrfViewMiddleware))
    """
)


@pytest.mark.live
def test_the_substitution_reaches_lookups_loaded_modules_and_built_decorators():
    probe = subprocess.run(
        [sys.executable, "-c", SUBSTITUTION_PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "myproject.settings", "DJANGO_DEBUG": "1", "PATH": ""},
    )

    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["True"] * 6
