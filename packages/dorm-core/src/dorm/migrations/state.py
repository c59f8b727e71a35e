"""Project state: what the schema looks like after a set of migrations (or per the models).

A :class:`ModelState` holds a model's fields as unbound field instances
(rebuilt from ``field.deconstruct()``) and the options migrations care
about.  :meth:`ProjectState.render` turns one into a light model stand-in
the schema editor accepts, with relations resolved to other rendered
models; no model class is created, so historical states never touch the
model registry.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterable
from typing import Any

from dorm.backends.base._through import StandInMeta, StandInModel

__all__ = ["ModelState", "ProjectState", "field_from_deconstruct", "field_signature", "model_key", "relation_label"]

#: Field keyword arguments that never change the database.
NON_DB_KWARGS = frozenset(
    {
        "verbose_name",
        "help_text",
        "validators",
        "editable",
        "blank",
        "choices",
        "verbose_name_plural",
        "related_name",
        "related_query_name",
        "on_delete",
    }
)
#: Options a ModelState keeps.
MODEL_OPTIONS = ("db_table", "unique_together", "indexes", "constraints")


def model_key(app_label: str, name: str) -> tuple[str, str]:
    return app_label, name.lower()


def import_path(path: str) -> Any:
    module_name, _, attr = path.rpartition(".")
    if module_name == "dorm":
        import dorm

        return getattr(dorm, attr)
    return getattr(importlib.import_module(module_name), attr)


def relation_label(value: Any, app_label: str) -> str:
    """``"app.Model"`` for a relation target given as a class, ``"Model"`` or ``"app.Model"``."""
    if isinstance(value, str):
        return value if "." in value else f"{app_label}.{value}"
    meta = value._meta
    return f"{meta.app_label}.{meta.object_name}"


def field_from_deconstruct(name: str, path: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    field = import_path(path)(*args, **kwargs)
    field.name = name
    return field


def _deconstruct(field: Any, app_label: str) -> tuple[str, list[Any], dict[str, Any]]:
    _name, path, args, kwargs = field.deconstruct()
    kwargs = dict(kwargs)
    for key in ("to", "through"):
        value = kwargs.get(key)
        if value is not None:
            kwargs[key] = relation_label(value, app_label)
    return path, list(args), kwargs


def field_signature(field: Any, app_label: str) -> tuple[Any, ...]:
    """What decides whether two fields differ in the database (labels normalised, UI-only options dropped)."""
    path, args, kwargs = _deconstruct(field, app_label)
    db = {k: _comparable(v) for k, v in kwargs.items() if k not in NON_DB_KWARGS}
    db["null"] = bool(field.null)
    return path, tuple(_comparable(a) for a in args), tuple(sorted(db.items()))


def _comparable(value: Any) -> Any:
    if callable(value) and not isinstance(value, type):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
    if isinstance(value, (list, tuple)):
        return tuple(_comparable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _comparable(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def copy_field(field: Any, app_label: str, name: str | None = None) -> Any:
    """An unbound copy of ``field`` with relation targets as ``"app.Model"`` labels."""
    path, args, kwargs = _deconstruct(field, app_label)
    clone = field_from_deconstruct(name or field.name, path, args, kwargs)
    # Online operations change nullability in the state without changing the declaration.
    clone.null = field.null
    if hasattr(field, "_dorm_pending_not_null"):
        clone._dorm_pending_not_null = field._dorm_pending_not_null
    return clone


class ModelState:
    """One model as migrations see it."""

    def __init__(
        self, app_label: str, name: str, fields: Iterable[tuple[str, Any]], options: dict[str, Any] | None = None
    ) -> None:
        self.app_label = app_label
        self.name = name
        self.fields: dict[str, Any] = {}
        for field_name, field in fields:
            if getattr(field, "name", None) != field_name:
                field.name = field_name
            self.fields[field_name] = field
        self.options: dict[str, Any] = dict(options or {})
        self.options.setdefault("db_table", f"{app_label}_{name.lower()}")
        self.options.setdefault("unique_together", [])
        self.options.setdefault("indexes", [])
        self.options.setdefault("constraints", [])
        self.options["unique_together"] = [tuple(x) for x in self.options["unique_together"]]

    @property
    def name_lower(self) -> str:
        return self.name.lower()

    @property
    def db_table(self) -> str:
        return str(self.options["db_table"])

    @classmethod
    def from_model(cls, model: Any) -> ModelState:
        meta = model._meta
        app_label = meta.app_label
        fields = [(f.name, copy_field(f, app_label)) for f in meta.fields]
        fields += [(f.name, copy_field(f, app_label)) for f in getattr(meta, "local_many_to_many", ())]
        options = {
            "db_table": meta.db_table,
            "unique_together": [tuple(x) for x in (meta.unique_together or ())],
            "indexes": [copy.copy(i) for i in (meta.indexes or ())],
            "constraints": [copy.copy(c) for c in (meta.constraints or ())],
        }
        return cls(app_label, meta.object_name, fields, options)

    def clone(self) -> ModelState:
        fields = [(n, copy_field(f, self.app_label)) for n, f in self.fields.items()]
        options = {
            "db_table": self.options["db_table"],
            "unique_together": list(self.options["unique_together"]),
            "indexes": list(self.options["indexes"]),
            "constraints": list(self.options["constraints"]),
        }
        return ModelState(self.app_label, self.name, fields, options)

    def get_field(self, name: str) -> Any:
        try:
            return self.fields[name]
        except KeyError:
            raise KeyError(f"{self.app_label}.{self.name} has no field {name!r} in the migration state") from None

    def __repr__(self) -> str:
        return f"<ModelState {self.app_label}.{self.name}>"


class _BoundField:
    """A state field seen through a rendered model: name, column and resolved relation."""

    def __init__(self, field: Any, column: str, remote: Any) -> None:
        self._field = field
        self.column = column
        self.attname = (
            column if getattr(field, "many_to_one", False) or getattr(field, "one_to_one", False) else field.name
        )
        self.remote_field = remote

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_field":
            raise AttributeError(name)
        return getattr(self._field, name)

    def __repr__(self) -> str:
        return f"<state field {self._field.name}>"


class _Remote:
    def __init__(self, model: Any, field_name: str | None, through: Any) -> None:
        self.model = model
        self.field_name = field_name
        self.through = through


class ProjectState:
    """Every model of every app at one point of the migration history."""

    def __init__(
        self, models: dict[tuple[str, str], ModelState] | None = None, renamed: dict[str, str] | None = None
    ) -> None:
        self.models: dict[tuple[str, str], ModelState] = dict(models or {})
        #: ``"app.oldname"`` (lower case) -> ``"app.NewName"``, recorded by RenameModel so a relation
        #: written against the old name (in a migration of another app) still finds its target.
        self.renamed_models: dict[str, str] = dict(renamed or {})

    def resolve_label(self, label: str) -> str:
        seen: set[str] = set()
        while label.lower() in self.renamed_models and label.lower() not in seen:
            seen.add(label.lower())
            label = self.renamed_models[label.lower()]
        return label

    def repoint(self, field: Any, app_label: str) -> None:
        """Point ``field``'s relation at a renamed model's new name."""
        rf = getattr(field, "remote_field", None)
        if rf is None or not isinstance(rf.model, str) or rf.model == "self":
            return
        label = relation_label(rf.model, app_label)
        resolved = self.resolve_label(label)
        if resolved != label:
            rf.model = resolved
            args, kwargs = field._constructor_args
            if "to" in kwargs:
                field._constructor_args = (args, {**kwargs, "to": resolved})
            elif args:
                field._constructor_args = ((resolved, *args[1:]), kwargs)

    @classmethod
    def from_models(cls, models: Iterable[Any]) -> ProjectState:
        state = cls()
        for model in models:
            meta = model._meta
            if getattr(meta, "abstract", False) or getattr(meta, "auto_created", False):
                continue
            if getattr(meta, "proxy", False) or getattr(meta, "managed", True) is False:
                continue
            state.add_model(ModelState.from_model(model))
        return state

    def add_model(self, model_state: ModelState) -> None:
        self.models[model_key(model_state.app_label, model_state.name)] = model_state

    def remove_model(self, app_label: str, name: str) -> None:
        del self.models[model_key(app_label, name)]

    def get(self, app_label: str, name: str) -> ModelState:
        try:
            return self.models[model_key(app_label, name)]
        except KeyError:
            raise KeyError(f"Model {app_label}.{name} is not in the migration state (a missing dependency?)") from None

    def clone(self) -> ProjectState:
        return ProjectState({k: v.clone() for k, v in self.models.items()}, self.renamed_models)

    def app_models(self, app_label: str) -> list[ModelState]:
        return [m for (app, _), m in sorted(self.models.items()) if app == app_label]

    # -- rendering for the schema editor -----------------------------------------------

    def render(self, app_label: str, name: str) -> StandInModel:
        """A model stand-in for ``app_label.name`` with relations resolved (cached per call tree)."""
        return self._render(model_key(app_label, name), {})

    def _render(self, key: tuple[str, str], cache: dict[tuple[str, str], StandInModel]) -> StandInModel:
        found = cache.get(key)
        if found is not None:
            return found
        ms = self.models.get(key)
        if ms is None:
            raise KeyError(f"Model {key[0]}.{key[1]} is not in the migration state (a missing dependency?)")
        meta = StandInMeta(db_table=ms.db_table, model_name=ms.name_lower, app_label=ms.app_label, auto_created=False)
        meta.object_name = ms.name  # type: ignore[attr-defined]
        model = StandInModel(meta)
        cache[key] = model
        for field in ms.fields.values():
            remote = None
            rf = getattr(field, "remote_field", None)
            if rf is not None:
                target_label = (
                    relation_label(rf.model, ms.app_label)
                    if not isinstance(rf.model, str) or rf.model != "self"
                    else f"{ms.app_label}.{ms.name}"
                )
                t_app, _, t_name = target_label.partition(".")
                target_key = model_key(t_app, t_name)
                target = (
                    model
                    if target_key == key
                    else (self._render(target_key, cache) if target_key in self.models else t_name)
                )
                through = getattr(rf, "through", None)
                remote = _Remote(
                    target,
                    getattr(field, "to_field", None),
                    None if through is None else relation_label(through, ms.app_label),
                )
            column = field.db_column or (
                f"{field.name}_id"
                if getattr(field, "many_to_one", False) or getattr(field, "one_to_one", False)
                else field.name
            )
            bound = _BoundField(field, column, remote)
            if getattr(field, "many_to_many", False):
                meta.local_many_to_many.append(bound)
            else:
                meta.fields.append(bound)
        meta.unique_together = list(ms.options["unique_together"])
        meta.indexes = list(ms.options["indexes"])
        meta.constraints = list(ms.options["constraints"])
        return model
