"""Database routers (``DATABASE_ROUTERS``) with Django's semantics.

Each router may define ``db_for_read(model, **hints)``,
``db_for_write(model, **hints)``, ``allow_relation(obj1, obj2, **hints)``
and ``allow_migrate(db, app_label, model_name=None, **hints)``; the first
non-``None`` answer wins.  Routers are given as objects, classes or dotted
paths.  An alias a router returns must exist in ``DATABASES``.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

__all__ = ["ConnectionRouter", "router"]


def _load(entry: Any) -> Any:
    if isinstance(entry, str):
        module, _, attr = entry.rpartition(".")
        entry = getattr(importlib.import_module(module), attr)
    return entry() if isinstance(entry, type) else entry


class ConnectionRouter:
    def __init__(self) -> None:
        self._routers: list[Any] | None = None
        #: True once the settings are known to list no router: every model reads and
        #: writes ``"default"`` unless told otherwise (hot paths test this first)
        self.unrouted = False

    @property
    def routers(self) -> list[Any]:
        routers = self._routers
        if routers is None:
            from dorm.conf import settings

            routers = [_load(r) for r in settings.get("DATABASE_ROUTERS", ()) or ()]
            self._routers = routers
            self.unrouted = not routers
        return routers

    def reset(self) -> None:
        self._routers = None
        self.unrouted = False

    def _route(self, method: str, model: Any, hints: dict[str, Any]) -> str:
        for r in self.routers:
            chosen = getattr(r, method, None)
            if chosen is None:
                continue
            alias = chosen(model, **hints)
            if alias is not None:
                _check_alias(alias)
                return str(alias)
        instance = hints.get("instance")
        if instance is not None:
            state = getattr(instance, "_state", None)
            if state is not None and state.db:
                return str(state.db)
        return "default"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        if self._routers == []:
            instance = hints.get("instance")
            return (instance._state.db or "default") if instance is not None else "default"
        return self._route("db_for_read", model, hints)

    def db_for_write(self, model: Any, **hints: Any) -> str:
        if self._routers == []:
            instance = hints.get("instance")
            return (instance._state.db or "default") if instance is not None else "default"
        return self._route("db_for_write", model, hints)

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        for r in self.routers:
            method = getattr(r, "allow_relation", None)
            if method is None:
                continue
            allow = method(obj1, obj2, **hints)
            if allow is not None:
                return bool(allow)
        return bool(obj1._state.db is None or obj2._state.db is None or obj1._state.db == obj2._state.db)

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        for r in self.routers:
            method = getattr(r, "allow_migrate", None)
            if method is None:
                continue
            allow = method(db, app_label, **hints)
            if allow is not None:
                return bool(allow)
        return True

    def allow_migrate_model(self, db: str, model: Any) -> bool:
        meta = model._meta
        return self.allow_migrate(db, meta.app_label, model_name=meta.model_name, model=model)


def _check_alias(alias: str) -> None:
    from dorm.conf import settings

    settings.database(alias)


router: Final = ConnectionRouter()
