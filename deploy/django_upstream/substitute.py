"""The substitution, in the substituted run's child: the project's classes put in place of Django's
wherever Django's modules, and the modules loaded so far, name them."""

import importlib
import sys
from types import ModuleType
from typing import Any

# Django builds these modules' contents from a replaced class when they are imported (csrf_protect
# and its siblings from CsrfViewMiddleware, ASGIStaticFilesHandler subclasses ASGIHandler); they are
# run again after the substitution, whether or not something imported them before it.
BUILT_FROM_REPLACED = {
    "django.views.decorators.csrf": "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.staticfiles.handlers": "django.core.handlers.asgi.ASGIHandler",
}

# deploy.django_upstream: this tool's own modules, which name none of Django's classes to rebind.
THIS_TOOL = __name__.rpartition(".")[0]


def replacements() -> dict[str, str]:
    """Django dotted path -> the project's class that replaces it: the one mapping of the stack."""
    return dict(importlib.import_module("async_native").REPLACEMENTS)


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
        if module_name.split(".")[0] in own_packages or module_name.startswith(f"{THIS_TOOL}."):
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
