"""Model-level operations: CreateModel, DeleteModel, RenameModel, indexes, constraints, unique_together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dorm.migrations.operations.base import Operation
from dorm.migrations.state import ModelState

if TYPE_CHECKING:
    from dorm.backends.base.schema import BaseDatabaseSchemaEditor
    from dorm.migrations.state import ProjectState

__all__ = [
    "AddConstraint",
    "AddIndex",
    "AlterUniqueTogether",
    "CreateModel",
    "DeleteModel",
    "RemoveConstraint",
    "RemoveIndex",
    "RenameModel",
]


class CreateModel(Operation):
    """Create a table (and its M2M tables, indexes and constraints)."""

    def __init__(self, name: str, fields: Sequence[tuple[str, Any]], options: dict[str, Any] | None = None) -> None:
        self.name = name
        self.fields = list(fields)
        self.options = dict(options or {})

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        from dorm.migrations.state import copy_field

        fields = [(n, copy_field(f, app_label, n)) for n, f in self.fields]
        for _n, f in fields:
            state.repoint(f, app_label)
        state.add_model(ModelState(app_label, self.name, fields, self.options))

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.create_model(to_state.render(app_label, self.name))

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.delete_model(from_state.render(app_label, self.name))

    def describe(self) -> str:
        return f"Create model {self.name}"


class DeleteModel(Operation):
    """Drop a table."""

    def __init__(self, name: str) -> None:
        self.name = name

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.remove_model(app_label, self.name)

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.delete_model(from_state.render(app_label, self.name))

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.create_model(to_state.render(app_label, self.name))

    def describe(self) -> str:
        return f"Delete model {self.name}"


class RenameModel(Operation):
    """Rename a model; its table follows when it had the default name."""

    def __init__(self, old_name: str, new_name: str) -> None:
        self.old_name = old_name
        self.new_name = new_name

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        ms = state.get(app_label, self.old_name)
        state.remove_model(app_label, self.old_name)
        if ms.options["db_table"] == f"{app_label}_{self.old_name.lower()}":
            ms.options["db_table"] = f"{app_label}_{self.new_name.lower()}"
        ms.name = self.new_name
        state.add_model(ms)
        old_label, new_label = f"{app_label}.{self.old_name}", f"{app_label}.{self.new_name}"
        for key, target in list(state.renamed_models.items()):
            if target.lower() == old_label.lower():
                state.renamed_models[key] = new_label
        state.renamed_models[old_label.lower()] = new_label
        for other in state.models.values():
            for field in other.fields.values():
                state.repoint(field, other.app_label)

    def _tables(self, app_label: str, from_state: ProjectState, to_state: ProjectState) -> tuple[str, str]:
        return from_state.get(app_label, self.old_name).db_table, to_state.get(app_label, self.new_name).db_table

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        old_table, new_table = self._tables(app_label, from_state, to_state)
        editor.alter_db_table(to_state.render(app_label, self.new_name), old_table, new_table)

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        new_table = from_state.get(app_label, self.new_name).db_table
        old_table = to_state.get(app_label, self.old_name).db_table
        editor.alter_db_table(to_state.render(app_label, self.old_name), new_table, old_table)

    def describe(self) -> str:
        return f"Rename model {self.old_name} to {self.new_name}"


class _ModelOption(Operation):
    model_name: str

    def _model(self, app_label: str, state: ProjectState) -> ModelState:
        return state.get(app_label, self.model_name)


class AddIndex(_ModelOption):
    def __init__(self, model_name: str, index: Any) -> None:
        self.model_name = model_name
        self.index = index

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        ms = self._model(app_label, state)
        ms.options["indexes"] = [*ms.options["indexes"], self.index]

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.add_index(to_state.render(app_label, self.model_name), self.index)

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.remove_index(from_state.render(app_label, self.model_name), self.index)

    def describe(self) -> str:
        return f"Create index {getattr(self.index, 'name', '')} on {self.model_name}"


class RemoveIndex(_ModelOption):
    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def _find(self, app_label: str, state: ProjectState) -> Any:
        for index in self._model(app_label, state).options["indexes"]:
            if getattr(index, "name", None) == self.name:
                return index
        raise KeyError(f"{app_label}.{self.model_name} has no index named {self.name!r}")

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        ms = self._model(app_label, state)
        ms.options["indexes"] = [i for i in ms.options["indexes"] if getattr(i, "name", None) != self.name]

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.remove_index(from_state.render(app_label, self.model_name), self._find(app_label, from_state))

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.add_index(to_state.render(app_label, self.model_name), self._find(app_label, to_state))

    def describe(self) -> str:
        return f"Remove index {self.name} from {self.model_name}"


class AddConstraint(_ModelOption):
    def __init__(self, model_name: str, constraint: Any) -> None:
        self.model_name = model_name
        self.constraint = constraint

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        ms = self._model(app_label, state)
        ms.options["constraints"] = [*ms.options["constraints"], self.constraint]

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.add_constraint(from_state.render(app_label, self.model_name), self.constraint)

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.remove_constraint(from_state.render(app_label, self.model_name), self.constraint)

    def describe(self) -> str:
        return f"Create constraint {self.constraint.name} on {self.model_name}"


class RemoveConstraint(_ModelOption):
    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def _find(self, app_label: str, state: ProjectState) -> Any:
        for constraint in self._model(app_label, state).options["constraints"]:
            if getattr(constraint, "name", None) == self.name:
                return constraint
        raise KeyError(f"{app_label}.{self.model_name} has no constraint named {self.name!r}")

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        ms = self._model(app_label, state)
        ms.options["constraints"] = [c for c in ms.options["constraints"] if getattr(c, "name", None) != self.name]

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.remove_constraint(from_state.render(app_label, self.model_name), self._find(app_label, from_state))

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        editor.add_constraint(from_state.render(app_label, self.model_name), self._find(app_label, to_state))

    def describe(self) -> str:
        return f"Remove constraint {self.name} from {self.model_name}"


class AlterUniqueTogether(_ModelOption):
    def __init__(self, name: str, unique_together: Iterable[Sequence[str]]) -> None:
        self.model_name = name
        self.unique_together = [tuple(x) for x in unique_together]

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        self._model(app_label, state).options["unique_together"] = list(self.unique_together)

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        old = from_state.get(app_label, self.model_name).options["unique_together"]
        new = to_state.get(app_label, self.model_name).options["unique_together"]
        editor.alter_unique_together(from_state.render(app_label, self.model_name), old, new)

    # going back is the same change between the states, which the executor passes swapped
    database_backwards = database_forwards

    def describe(self) -> str:
        return f"Alter unique_together of {self.model_name} ({len(self.unique_together)} set(s))"
