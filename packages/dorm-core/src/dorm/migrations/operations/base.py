"""The operation protocol every migration step follows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    from dorm.backends.base.schema import BaseDatabaseSchemaEditor
    from dorm.migrations.state import ProjectState

__all__ = ["Operation"]


class Operation:
    """One step of a migration.

    ``state_forwards`` changes the in-memory :class:`ProjectState`;
    ``database_forwards`` / ``database_backwards`` run DDL through the schema
    editor, given the states before and after the step.
    """

    #: False: rolling back through this step is impossible (the executor refuses before running anything).
    reversible: ClassVar[bool] = True
    #: False: the step manages its own transactions (batched backfills, concurrent indexes).
    atomic: ClassVar[bool] = True
    #: True: the step only changes the state (SeparateDatabaseAndState's state part).
    _constructor_args: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        obj = super().__new__(cls)
        obj._constructor_args = (args, kwargs)
        return obj

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """``(class name, args, kwargs)`` as the writer prints them (``migrations.<class name>(...)``)."""
        args, kwargs = self._constructor_args
        return type(self).__name__, args, kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        raise NotImplementedError

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        raise NotImplementedError

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        raise NotImplementedError(f"{self.describe()} cannot be reversed")

    def describe(self) -> str:
        return type(self).__name__

    def is_reversible(self) -> bool:
        return self.reversible

    def irreversible_hint(self) -> str:
        return "make the step reversible"

    def __repr__(self) -> str:
        args, kwargs = self._constructor_args
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"<{type(self).__name__} {', '.join(parts)}>"
