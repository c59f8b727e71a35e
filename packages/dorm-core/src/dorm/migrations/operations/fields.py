"""Field-level operations: AddField, RemoveField, AlterField, RenameField."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dorm.migrations.operations.base import Operation
from dorm.migrations.state import copy_field

if TYPE_CHECKING:
    from dorm.backends.base.schema import BaseDatabaseSchemaEditor
    from dorm.migrations.state import ProjectState

__all__ = ["AddField", "AlterField", "RemoveField", "RenameField"]


def _bound(state: ProjectState, app_label: str, model_name: str, field_name: str) -> tuple[Any, Any]:
    model = state.render(app_label, model_name)
    for f in [*model._meta.fields, *model._meta.local_many_to_many]:
        if f.name == field_name:
            return model, f
    raise KeyError(f"{app_label}.{model_name} has no field {field_name!r} in the migration state")


class _FieldOperation(Operation):
    model_name: str
    name: str

    def describe_field(self) -> str:
        return f"{self.model_name}.{self.name}"


class AddField(_FieldOperation):
    """Add a column (NOT NULL columns are filled with the field's default)."""

    def __init__(self, model_name: str, name: str, field: Any) -> None:
        self.model_name = model_name
        self.name = name
        self.field = field

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        field = copy_field(self.field, app_label, self.name)
        state.repoint(field, app_label)
        state.get(app_label, self.model_name).fields[self.name] = field

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        _, field = _bound(to_state, app_label, self.model_name, self.name)
        editor.add_field(from_state.render(app_label, self.model_name), field)

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model, field = _bound(from_state, app_label, self.model_name, self.name)
        editor.remove_field(model, field)

    def describe(self) -> str:
        return f"Add field {self.name} to {self.model_name}"


class RemoveField(_FieldOperation):
    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        ms = state.get(app_label, self.model_name)
        ms.get_field(self.name)
        del ms.fields[self.name]
        ms.options["unique_together"] = [ut for ut in ms.options["unique_together"] if self.name not in ut]

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model, field = _bound(from_state, app_label, self.model_name, self.name)
        editor.remove_field(model, field)

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        _, field = _bound(to_state, app_label, self.model_name, self.name)
        editor.add_field(from_state.render(app_label, self.model_name), field)

    def describe(self) -> str:
        return f"Remove field {self.name} from {self.model_name}"


class AlterField(_FieldOperation):
    def __init__(self, model_name: str, name: str, field: Any) -> None:
        self.model_name = model_name
        self.name = name
        self.field = field

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        field = copy_field(self.field, app_label, self.name)
        state.repoint(field, app_label)
        ms = state.get(app_label, self.model_name)
        ms.get_field(self.name)
        ms.fields[self.name] = field

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model, old = _bound(from_state, app_label, self.model_name, self.name)
        _, new = _bound(to_state, app_label, self.model_name, self.name)
        editor.alter_field(model, old, new)

    # going back is the same change between the states, which the executor passes swapped
    database_backwards = database_forwards

    def describe(self) -> str:
        return f"Alter field {self.name} on {self.model_name}"


class RenameField(Operation):
    def __init__(self, model_name: str, old_name: str, new_name: str) -> None:
        self.model_name = model_name
        self.old_name = old_name
        self.new_name = new_name

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        ms = state.get(app_label, self.model_name)
        fields = list(ms.fields.items())
        ms.fields = {}
        for name, field in fields:
            if name == self.old_name:
                field.name = self.new_name
                name = self.new_name
            ms.fields[name] = field
        ms.options["unique_together"] = [
            tuple(self.new_name if n == self.old_name else n for n in ut) for ut in ms.options["unique_together"]
        ]

    def _rename(
        self,
        app_label: str,
        editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
        old: str,
        new: str,
    ) -> None:
        model, old_field = _bound(from_state, app_label, self.model_name, old)
        _, new_field = _bound(to_state, app_label, self.model_name, new)
        editor.alter_field(model, old_field, new_field)

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._rename(app_label, editor, from_state, to_state, self.old_name, self.new_name)

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._rename(app_label, editor, from_state, to_state, self.new_name, self.old_name)

    def describe(self) -> str:
        return f"Rename field {self.old_name} on {self.model_name} to {self.new_name}"
