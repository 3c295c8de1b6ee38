"""deploy/django_upstream/substitute.py: the mapping comes from the async_native package, and the
substitution puts the project's classes wherever Django's are looked up."""

import subprocess
import sys
import textwrap
from types import ModuleType

import pytest

from deploy.django_upstream.substitute import replacements
from testbed.processes import ROOT


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
    from deploy.django_upstream.substitute import replacements, substitute
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
