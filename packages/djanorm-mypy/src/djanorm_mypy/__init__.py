"""mypy plugin for djanorm: ``plugins = ["djanorm_mypy"]`` in your mypy config.

Not implemented yet in this version: the plugin loads and changes nothing.
Coming: ``Author.objects.filter(naem="x")`` reported as an error naming the
model, the bad field and the closest valid name; lookups, relation paths and
value types checked in filter, exclude, get, create, update and their
``a*`` twins.
"""

from __future__ import annotations

from mypy.plugin import Plugin

__all__ = ["DjanormPlugin", "plugin"]


class DjanormPlugin(Plugin):
    """The djanorm mypy plugin (no checks yet)."""


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point: the plugin class for this mypy ``version``."""
    return DjanormPlugin
