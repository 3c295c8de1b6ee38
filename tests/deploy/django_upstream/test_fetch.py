"""deploy/django_upstream/fetch.py: Django's source distribution is unpacked, its tests only, and its
release checked against the pin."""

import io
import tarfile
from pathlib import Path

import django
import pytest

from deploy.django_upstream.fetch import fetch_django_tests, pinned_django_version


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
