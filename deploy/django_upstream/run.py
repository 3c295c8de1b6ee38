"""Step 2, run: each variant in a child process of its own (the parent's side, `run_variant`), and
Django's runtests.py inside that child with the recording runner (the child's side)."""

import json
import os
import resource
import runpy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from deploy.django_upstream import ROOT

# How the parent tells a child which run it is and where to write its outcomes.
VARIANT_VARIABLE = "DJANGO_UPSTREAM_VARIANT"
OUTCOMES_VARIABLE = "DJANGO_UPSTREAM_OUTCOMES"
VARIANTS = ("stock", "substituted")


def run_variant(variant: str, tests_dir: Path, parallel: int, modules: list[str]) -> dict[str, Any]:
    """One child run; its outcomes, wall time and CPU seconds (its workers' included)."""
    outcomes_file = tests_dir.parent / f"outcomes-{variant}.json"
    outcomes_file.unlink(missing_ok=True)
    print(f"\n==== Django's tests, {variant} ====", flush=True)
    command = [sys.executable, "-m", "deploy.django_upstream", "--child", str(tests_dir)]
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


def run_django_tests_here(tests_dir: Path, parallel: int, modules: list[str]) -> None:
    """The child: Django's runtests.py in this process, with OutcomeRecordingRunner (record.py)."""
    import multiprocessing

    # Django's test folder first (its apps have top-level names: `asgi`, `middleware`...), the
    # project last, for the replacements and this package.
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

    # By its import path: runtests.py imports it once it has set Django up.
    settings.TEST_RUNNER = "deploy.django_upstream.record.OutcomeRecordingRunner"
    sys.argv = ["runtests.py", "--settings", "test_sqlite", "--parallel", str(parallel), "--noinput"]
    sys.argv += modules
    runpy.run_path(str(tests_dir / "runtests.py"), run_name="__main__")
