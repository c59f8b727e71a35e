"""The app registry: ``(app_label, model_name) -> model`` and lazy string references.

``ForeignKey("Author")`` / ``ForeignKey("library.Author")`` may name a model
that does not exist yet; the callback waits here until it is registered.
Re-defining a model (same app label and name) in the *same module* replaces
it (tests, notebooks, scripts re-run); defining it in another module is a
conflict and raises.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from dorm.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from dorm.models.base import Model

__all__ = ["Apps", "apps", "default_app_label"]

_Key = tuple[str, str]
_Callback = Callable[[type["Model"]], None]


def default_app_label(module: str) -> str:
    """The app label of a model defined in ``module``.

    ``myapp.models`` and ``myapp.models.books`` give ``myapp``; ``myapp.schema``
    gives ``myapp``; a top-level module gives its own name; ``__main__`` (a
    script) gives ``main``.  A module under an ``INSTALLED_APPS`` entry gives
    that app's last component.
    """
    if module == "__main__":
        return "main"
    from dorm.conf import settings

    if settings.configured:
        for app in settings.get("INSTALLED_APPS", ()) or ():
            if isinstance(app, str) and (module == app or module.startswith(app + ".")):
                return app.rpartition(".")[2]
    parts = module.split(".")
    if "models" in parts[1:]:
        return parts[parts.index("models", 1) - 1]
    if len(parts) > 1:
        return parts[-2]
    return parts[0]


class Apps:
    """Registry of every concrete model class."""

    def __init__(self) -> None:
        self.all_models: dict[str, dict[str, type[Model]]] = defaultdict(dict)
        self._pending: dict[_Key, list[_Callback]] = defaultdict(list)
        self._lock = threading.RLock()
        #: bumped on every registration; caches keyed on it (e.g. ``get_models``) stay valid until then
        self.version = 0

    # -- registration -------------------------------------------------------

    def register_model(self, model: type[Model]) -> None:
        meta = model._meta
        key = (meta.app_label, meta.model_name)
        with self._lock:
            existing = self.all_models[key[0]].get(key[1])
            if existing is not None and existing is not model:
                if existing.__module__ != model.__module__:
                    raise ImproperlyConfigured(
                        f"Conflicting {key[1]!r} models in application {key[0]!r}: {existing.__module__}.{existing.__qualname__} "
                        f"and {model.__module__}.{model.__qualname__}. Two models of one app cannot share a name: rename one, "
                        "or give it another Meta.app_label."
                    )
            self.all_models[key[0]][key[1]] = model
            self.version += 1
            callbacks = self._pending.pop(key, [])
        for callback in callbacks:
            callback(model)

    def unregister_model(self, app_label: str, model_name: str) -> None:
        """Forget a model (tests)."""
        with self._lock:
            self.all_models.get(app_label, {}).pop(model_name.lower(), None)
            self.version += 1

    # -- lookup -----------------------------------------------------------------

    def get_model(self, app_label: str, model_name: str | None = None) -> type[Model]:
        """``get_model("library", "Author")`` or ``get_model("library.Author")`` (case-insensitive name)."""
        if model_name is None:
            app_label, _, model_name = app_label.rpartition(".")
        models = self.all_models.get(app_label)
        if models is None:
            known = ", ".join(sorted(self.all_models)) or "none"
            raise LookupError(f"No installed app with label {app_label!r}. Known app labels: {known}.")
        try:
            return models[model_name.lower()]
        except KeyError:
            known = ", ".join(m.__name__ for m in models.values())
            raise LookupError(f"App {app_label!r} has no model named {model_name!r}. Its models: {known}.") from None

    def get_models(self, *, include_auto_created: bool = True) -> list[type[Model]]:
        """Every registered model, in registration order per app."""
        return [
            model
            for models in list(self.all_models.values())
            for model in list(models.values())
            if include_auto_created or not model._meta.auto_created
        ]

    def get_app_configs(self) -> Iterator[str]:
        return iter(list(self.all_models))

    def pending_references(self) -> list[str]:
        """``"app_label.model"`` for every string reference still waiting for its model."""
        return sorted(f"{a}.{m}" for (a, m), cbs in self._pending.items() if cbs)

    # -- lazy references ----------------------------------------------------------

    def resolve_reference(self, model: type[Model], target: Any) -> type[Model] | _Key:
        """A class, or the ``(app_label, model_name)`` key a string reference names."""
        if not isinstance(target, str):
            meta = getattr(target, "_meta", None)
            if meta is None:
                raise TypeError(f"{target!r} is not a model class.")
            if meta.abstract:
                raise TypeError(
                    f"{model.__name__} has a relation to {target.__name__}, which is abstract (has no table). Point it at a concrete model."
                )
            return target  # type: ignore[no-any-return]
        if target == "self":
            return model
        app_label, _, name = target.rpartition(".")
        return (app_label or model._meta.app_label, name.lower())

    def lazy_relation(self, model: type[Model], target: Any, callback: _Callback) -> None:
        """Run ``callback(target_model)`` now if the target exists, else when it is registered."""
        resolved = self.resolve_reference(model, target)
        if not isinstance(resolved, tuple):
            callback(resolved)
            return
        with self._lock:
            found = self.all_models.get(resolved[0], {}).get(resolved[1])
            if found is None:
                self._pending[resolved].append(callback)
                return
        callback(found)


#: The global registry.
apps = Apps()
