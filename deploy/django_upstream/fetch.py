"""Step 1, fetch: the `tests/` folder of the Django release that requirements.txt pins, from its
source distribution on the package index, unpacked once into `.cache/django-upstream/`."""

import re
import subprocess
import sys
import tarfile
from pathlib import Path

from deploy.django_upstream import ROOT

CACHE = ROOT / ".cache" / "django-upstream"


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
