"""Compares two project states and produces the operations that turn one into the other."""

from __future__ import annotations

from typing import Any

from dorm.migrations.operations.base import Operation
from dorm.migrations.operations.fields import AddField, AlterField, RemoveField, RenameField
from dorm.migrations.operations.models import (
    AddConstraint,
    AddIndex,
    AlterUniqueTogether,
    CreateModel,
    DeleteModel,
    RemoveConstraint,
    RemoveIndex,
    RenameModel,
)
from dorm.migrations.state import ModelState, ProjectState, field_signature, relation_label

__all__ = ["MigrationAutodetector", "suggest_name"]


def _targets(ms: ModelState) -> set[tuple[str, str]]:
    """``(app, model_lower)`` of every model ``ms``'s relations point at."""
    found: set[tuple[str, str]] = set()
    for field in ms.fields.values():
        rf = getattr(field, "remote_field", None)
        if rf is None:
            continue
        label = relation_label(rf.model, ms.app_label) if rf.model != "self" else f"{ms.app_label}.{ms.name}"
        app, _, name = label.partition(".")
        found.add((app, name.lower()))
    return found


def _option_signature(obj: Any) -> Any:
    deconstruct = getattr(obj, "deconstruct", None)
    if deconstruct is not None:
        try:
            return repr(deconstruct())
        except Exception:  # noqa: BLE001
            pass
    return repr(sorted((k, repr(v)) for k, v in vars(obj).items()))


class MigrationAutodetector:
    """``changes()`` returns ``{app_label: [operations]}`` and ``dependencies`` on other apps' models."""

    def __init__(self, from_state: ProjectState, to_state: ProjectState) -> None:
        self.from_state = from_state
        self.to_state = to_state
        #: app -> set of (other app, model_lower) its new operations reference
        self.dependencies: dict[str, set[tuple[str, str]]] = {}

    def changes(self, apps: list[str] | None = None) -> dict[str, list[Operation]]:
        labels = sorted({app for app, _ in [*self.from_state.models, *self.to_state.models]})
        if apps is not None:
            labels = [a for a in labels if a in apps]
        # Model renames first, applied to a copy of the old state, so relations in other apps that
        # now name the new model compare equal instead of showing up as altered fields.
        self.from_state = self.from_state.clone()
        renames: dict[str, list[Operation]] = {}
        for app in labels:
            renames[app] = self._renamed_models(app)
            for op in renames[app]:
                op.state_forwards(app, self.from_state)
        result: dict[str, list[Operation]] = {}
        for app in labels:
            ops = renames[app] + self._app_changes(app)
            if ops:
                result[app] = ops
        return result

    def _renamed_models(self, app: str) -> list[Operation]:
        """A removed and an added model with identical fields: a rename."""
        old_models = {k[1]: m for k, m in self.from_state.models.items() if k[0] == app}
        new_models = {k[1]: m for k, m in self.to_state.models.items() if k[0] == app}
        removed = sorted(set(old_models) - set(new_models))
        ops: list[Operation] = []
        for new_name in sorted(set(new_models) - set(old_models)):
            new_sig = sorted((n, self._field_sig(app, f)) for n, f in new_models[new_name].fields.items())
            for old_name in removed:
                if sorted((n, self._field_sig(app, f)) for n, f in old_models[old_name].fields.items()) == new_sig:
                    ops.append(RenameModel(old_name=old_models[old_name].name, new_name=new_models[new_name].name))
                    removed.remove(old_name)
                    break
        return ops

    def _field_sig(self, app: str, field: Any) -> Any:
        return field_signature(field, app)

    def _app_changes(self, app: str) -> list[Operation]:
        old_models = {k[1]: m for k, m in self.from_state.models.items() if k[0] == app}
        new_models = {k[1]: m for k, m in self.to_state.models.items() if k[0] == app}
        added = sorted(set(new_models) - set(old_models))
        removed = sorted(set(old_models) - set(new_models))
        ops: list[Operation] = []
        deps = self.dependencies.setdefault(app, set())
        # New models, targets first.
        ordered: list[str] = []
        pending = list(added)
        while pending:
            progressed = False
            for name in list(pending):
                wanted = {m for a, m in _targets(new_models[name]) if a == app and m != name and m in pending}
                if not wanted:
                    ordered.append(name)
                    pending.remove(name)
                    progressed = True
            if not progressed:  # a cycle: create in name order (FK targets resolve at the end of the transaction)
                ordered.extend(pending)
                break
        for name in ordered:
            ms = new_models[name]
            options: dict[str, Any] = {"db_table": ms.db_table}
            for key in ("unique_together", "indexes", "constraints"):
                if ms.options[key]:
                    options[key] = list(ms.options[key])
            ops.append(CreateModel(name=ms.name, fields=list(ms.fields.items()), options=options))
            deps.update(t for t in _targets(ms) if t[0] != app)
        for name in removed:
            ops.append(DeleteModel(old_models[name].name))
        # Changed models.
        for name in sorted(set(old_models) & set(new_models)):
            ops.extend(self._model_changes(app, old_models[name], new_models[name]))
        return ops

    def _model_changes(self, app: str, old: ModelState, new: ModelState) -> list[Operation]:
        ops: list[Operation] = []
        deps = self.dependencies.setdefault(app, set())
        old_fields, new_fields = old.fields, new.fields
        added = [n for n in new_fields if n not in old_fields]
        removed = [n for n in old_fields if n not in new_fields]
        for new_name in list(added):
            sig = self._field_sig(app, new_fields[new_name])
            for old_name in list(removed):
                old_field = old_fields[old_name]
                if self._field_sig(app, old_field) == sig or self._rename_sig(app, old_field) == self._rename_sig(
                    app, new_fields[new_name]
                ):
                    ops.append(RenameField(model_name=new.name, old_name=old_name, new_name=new_name))
                    added.remove(new_name)
                    removed.remove(old_name)
                    break
        # Indexes and constraints that go away first (they may use removed fields).
        old_idx = {getattr(i, "name", None): i for i in old.options["indexes"]}
        new_idx = {getattr(i, "name", None): i for i in new.options["indexes"]}
        for idx_name in old_idx:
            if idx_name not in new_idx or _option_signature(old_idx[idx_name]) != _option_signature(new_idx[idx_name]):
                ops.append(RemoveIndex(new.name, str(idx_name)))
        old_con = {c.name: c for c in old.options["constraints"]}
        new_con = {c.name: c for c in new.options["constraints"]}
        for con_name in old_con:
            if con_name not in new_con or _option_signature(old_con[con_name]) != _option_signature(new_con[con_name]):
                ops.append(RemoveConstraint(new.name, con_name))
        old_ut = sorted(tuple(x) for x in old.options["unique_together"])
        new_ut = sorted(tuple(x) for x in new.options["unique_together"])
        if old_ut != new_ut and any(n in ut for ut in old_ut for n in removed):
            ops.append(AlterUniqueTogether(new.name, [ut for ut in old_ut if not any(n in ut for n in removed)]))
        for name in removed:
            ops.append(RemoveField(model_name=new.name, name=name))
        for name in added:
            ops.append(AddField(model_name=new.name, name=name, field=new_fields[name]))
            deps.update(t for t in _targets(ModelState(app, "x", [(name, new_fields[name])])) if t[0] != app)
        for name in new_fields:
            if name in old_fields and self._field_sig(app, old_fields[name]) != self._field_sig(app, new_fields[name]):
                ops.append(AlterField(model_name=new.name, name=name, field=new_fields[name]))
                deps.update(t for t in _targets(ModelState(app, "x", [(name, new_fields[name])])) if t[0] != app)
        if old_ut != new_ut:
            ops.append(AlterUniqueTogether(new.name, new_ut))
        for idx_name, index in new_idx.items():
            if idx_name not in old_idx or _option_signature(old_idx[idx_name]) != _option_signature(index):
                ops.append(AddIndex(new.name, index))
        for con_name, constraint in new_con.items():
            if con_name not in old_con or _option_signature(old_con[con_name]) != _option_signature(constraint):
                ops.append(AddConstraint(new.name, constraint))
        return ops

    def _rename_sig(self, app: str, field: Any) -> Any:
        path, args, kwargs = field_signature(field, app)
        return path, args, tuple((k, v) for k, v in kwargs if k != "db_column")


def suggest_name(ops: list[Operation], initial: bool) -> str:
    """A readable file-name suffix for a set of operations."""
    if initial:
        return "initial"
    parts: list[str] = []
    for op in ops:
        if isinstance(op, CreateModel):
            parts.append(op.name.lower())
        elif isinstance(op, DeleteModel):
            parts.append(f"delete_{op.name.lower()}")
        elif isinstance(op, RenameModel):
            parts.append(f"rename_{op.old_name.lower()}_{op.new_name.lower()}")
        elif isinstance(op, (AddField, AlterField)):
            parts.append(f"{op.model_name.lower()}_{op.name}")
        elif isinstance(op, RemoveField):
            parts.append(f"remove_{op.model_name.lower()}_{op.name}")
        elif isinstance(op, RenameField):
            parts.append(f"rename_{op.old_name}_{op.model_name.lower()}_{op.new_name}")
        else:
            parts.append("auto")
    unique = list(dict.fromkeys(parts))
    name = "_".join(unique)
    return name if len(unique) <= 3 and len(name) <= 40 and "auto" not in unique else "auto"
