"""``dorm.contrib.<name>`` modules served by plugins.

A distribution registers ``name = "package.module"`` in the
``djanorm.contrib`` entry point group; ``import dorm.contrib.name`` then
imports ``package.module`` and binds the *same module object* under both
names.  No distribution but dorm-core ships files under ``dorm/``.  When
nothing provides a name that belongs to one of our plugins, the import
raises :class:`~dorm.exceptions.MissingPluginError` with the install hint.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, Sequence

from dorm import plugins

_PREFIX = __name__ + "."


class _ContribLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The target already ran under its own name; undo importlib's ``__spec__`` overwrite."""
        module.__spec__ = self._own_spec


class _ContribFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(_PREFIX):
            return None
        name = fullname[len(_PREFIX) :]
        if "." in name:
            return None
        module_path = plugins.kernel.contrib_target(name)
        if module_path is None:
            missing = plugins.missing_plugin(name, plugins.KNOWN_CONTRIB)
            if missing is not None:
                raise missing
            return None
        existing = sys.modules.get(module_path)
        origin = getattr(existing, "__file__", None) if existing is not None else None
        return importlib.machinery.ModuleSpec(fullname, _ContribLoader(module_path), origin=origin)


def _install() -> None:
    for finder in sys.meta_path:
        if isinstance(finder, _ContribFinder):
            return
    sys.meta_path.insert(0, _ContribFinder())


_install()


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return importlib.import_module(_PREFIX + name)
    except ModuleNotFoundError as exc:
        if exc.name == _PREFIX + name:
            raise AttributeError(f"module 'dorm.contrib' has no attribute {name!r}") from None
        raise
