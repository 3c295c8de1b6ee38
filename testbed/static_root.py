"""STATIC_ROOT for the servers the tests and benchmarks start with debug off.

With debug off, as in production, `{% static %}` reads collectstatic's manifest: a server started
from a fresh checkout, with nothing collected, answers every page that links a static file with a
500 ("Missing staticfiles manifest entry"). The image collects at build time; here the files are
collected once per change of their sources, into a folder that later runs share.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from testbed.processes import ROOT, VENV_BIN


@functools.cache  # every child environment asks; the sources do not change during a run
def static_sources_digest() -> str:
    """What a collection depends on: the project's static files and the pinned packages (whose
    apps ship the admin's)."""
    digest = hashlib.sha256((ROOT / "requirements.txt").read_bytes())
    for path in sorted(ROOT.glob("*/static/**/*")) + sorted((ROOT / "static").rglob("*")):
        if path.is_file() and ".venv" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def collected_static_root(env: dict[str, str]) -> Path:
    """STATIC_ROOT as the image has it (hashed names and their manifest); `env` runs collectstatic.
    Collecting takes seconds, so it happens once per change of the sources."""
    root = Path(tempfile.gettempdir()) / "django-wsgi-asgi-static" / static_sources_digest()
    if not (root / "staticfiles.json").exists():
        building = root.with_name(f"{root.name}.{os.getpid()}")
        subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env={**env, "DJANGO_STATIC_ROOT": str(building)},
            check=True,
            timeout=300,
        )
        if root.exists():  # another run collected the same sources meanwhile
            shutil.rmtree(building)
        else:
            building.replace(root)
    return root
