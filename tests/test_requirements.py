"""Every package the code imports is pinned in the requirements file of the command that runs it.

A package that only arrives as another's dependency (psutil through Locust, asgiref through Django)
works until that dependency drops it or moves its pin, so each import is declared where it is used:
`make run` installs requirements.txt alone, `make test` adds requirements-dev.txt.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What `make run` and the containers execute: they get requirements.txt only.
RUNTIME_CODE = ["myproject", "chat", "reports", "demo", "deploy", "manage.py"]
# What runs under `make test`, the benchmarks and `make screenshots`, with requirements-dev.txt on top.
DEVELOPMENT_CODE = ["loadtests", "testbed", "tests", "docs"]


def python_files(names: list[str]) -> list[Path]:
    files: list[Path] = []
    for name in names:
        path = ROOT / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return [file for file in files if "migrations" not in file.parts]


def local_modules() -> set[str]:
    # Packages, and folders of modules imported as namespace packages (deploy).
    return {path.name for path in ROOT.iterdir() if path.is_dir() and any(path.glob("*.py"))} | {
        path.stem for path in ROOT.glob("*.py")
    }


def imported_top_level_modules(file: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(file.read_text(), filename=str(file))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.partition(".")[0])
    return modules


def third_party_imports(names: list[str]) -> dict[str, list[str]]:
    """Each imported distribution, with the files that import it."""
    ignored = set(sys.stdlib_module_names) | local_modules() | {"__future__"}
    distributions = packages_distributions()
    found: dict[str, list[str]] = {}
    for file in python_files(names):
        for module in imported_top_level_modules(file) - ignored:
            for distribution in distributions.get(module, [f"<no installed package provides {module}>"]):
                found.setdefault(normalized(distribution), []).append(str(file.relative_to(ROOT)))
    return found


def declared(requirements_file: str) -> set[str]:
    names = set()
    for line in (ROOT / requirements_file).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= declared(line.removeprefix("-r ").strip())
        elif line:
            names.add(normalized(re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0]))
    return names


def normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


@pytest.mark.parametrize(
    ("code", "requirements_file"),
    [(RUNTIME_CODE, "requirements.txt"), (DEVELOPMENT_CODE, "requirements-dev.txt")],
    ids=["runtime code in requirements.txt", "tests and benchmarks in requirements-dev.txt"],
)
def test_every_imported_package_is_declared(code: list[str], requirements_file: str) -> None:
    undeclared = {
        distribution: files
        for distribution, files in third_party_imports(code).items()
        if distribution not in declared(requirements_file)
    }
    assert undeclared == {}


def test_the_scan_sees_third_party_imports() -> None:
    # Guards the test above against passing because it found nothing to check.
    assert {"django", "channels", "locust"} <= third_party_imports(RUNTIME_CODE + DEVELOPMENT_CODE).keys()
