"""Django's own tests for the components the async-native stack replaces, run once with Django's
classes and once with the project's in their place: every test must end the same way in both runs.

What it proves: that the project's classes (the async-native ASGI handler and middleware subclasses,
listed in one mapping, `substitute.replacements()`) behave like Django's own wherever Django's own
tests for those components look: each test of the pinned Django release's modules (`__main__.py`,
TEST_MODULES) passes, fails, errors, or skips for the same reason in both runs. It proves nothing
where those tests do not look (the thread a hook runs on, when a signal goes out against a real
server): the project's own tests cover that.

How, `make test-django` (`python -m deploy.django_upstream`, the command line in `__main__.py`):

1. Fetch (`fetch.py`). pip downloads the source distribution of the Django that requirements.txt
   pins into `.cache/django-upstream/` (git-ignored, reused by later runs) and its `tests/` folder
   is unpacked beside it. The release named in its PKG-INFO and the installed Django must both be
   the pinned one: `tests/runtests.py` tests whichever Django is importable, here the virtualenv's.
2. Run (`run.py`). `tests/runtests.py` runs the modules twice, each time in a fresh child process
   (settings `test_sqlite`, `--parallel 2`): stock, then substituted. In the substituted run, once
   runtests has set Django up and before any test module is imported, each Django class in the
   mapping is replaced in its module by the project's (`substitute.py`), so that `import_string`
   (every MIDDLEWARE list a test sets), `get_asgi_application()` and a test module's `from
   django.middleware.csrf import CsrfViewMiddleware` all get the project's class. A module already
   loaded that holds Django's class under a name of its own gets the project's, and the two Django
   modules that build on a replaced class when imported are run again: `csrf_protect`,
   `requires_csrf_token` and `ensure_csrf_cookie` are then built from the project's
   CsrfViewMiddleware, and staticfiles' ASGIStaticFilesHandler subclasses the project's handler, as
   they do Django's own.
3. Compare (`compare.py`). A result class (`record.py`) records each test's outcome in both runs
   (Django's parallel runner hands it every worker's results); any difference fails the target,
   listed test by test, and one line sums up: "N tests, stock: ..., substituted: ..., differences: 0".

One limit: views that Django decorated with `csrf_protect` while its own modules were imported
(the admin's, auth's LoginView) keep Django's class. The project's classes subclass Django's, so
Django's modules, which import auth's views, are loaded before they can be replaced.
"""

from pathlib import Path

# The project's folder: requirements.txt and the cache are in it, the children run from it.
ROOT = Path(__file__).resolve().parent.parent.parent
