"""Operations that run code: RunSQL, RunPython, SeparateDatabaseAndState."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dorm.migrations.operations.base import Operation

if TYPE_CHECKING:
    from dorm.backends.base.schema import BaseDatabaseSchemaEditor
    from dorm.migrations.state import ProjectState

__all__ = ["RunPython", "RunSQL", "SeparateDatabaseAndState", "StateApps"]

SQL = str | Sequence[str | tuple[str, Sequence[Any]]]


class StateApps:
    """What ``RunPython`` code receives as ``apps``.

    ``apps.get_model("blog", "Post")`` returns the current model class from the
    registry (dorm does not build historical model classes): write data
    migrations against fields that exist at that point of the history.
    """

    def __init__(self, state: ProjectState) -> None:
        self.state = state

    def get_model(self, app_label: str, model_name: str | None = None) -> Any:
        if model_name is None:
            app_label, _, model_name = app_label.partition(".")
        from dorm.models.registry import apps

        return apps.get_model(app_label, model_name)


class RunSQL(Operation):
    """Run raw SQL forwards, and ``reverse_sql`` backwards (irreversible without it).

    ``sql`` is a string (one or more ``;``-separated statements without
    parameters) or a list of strings / ``(sql, params)`` pairs with ``%s``
    placeholders.  ``RunSQL.noop`` as ``reverse_sql`` means nothing to undo.
    """

    noop = ""

    def __init__(
        self,
        sql: SQL,
        reverse_sql: SQL | None = None,
        *,
        state_operations: Sequence[Operation] = (),
        elidable: bool = False,
    ) -> None:
        self.sql = sql
        self.reverse_sql = reverse_sql
        self.state_operations = list(state_operations)
        self.elidable = elidable

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return self.reverse_sql is not None

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for op in self.state_operations:
            op.state_forwards(app_label, state)

    def _run(self, editor: BaseDatabaseSchemaEditor, sql: SQL) -> None:
        if isinstance(sql, str):
            if not sql.strip():
                return
            if editor.collect_sql or editor.connection is None:
                editor.collected_sql.append(sql.strip().rstrip(";") + ";")
                return
            from dorm.backends.base.statement import FETCH_NONE, Statement
            from dorm.db.executor import run_on

            run_on(editor.connection, Statement(editor.wrapper.alias, sql, None, fetch=FETCH_NONE), script=True)
            return
        for item in sql:
            if isinstance(item, str):
                self._run(editor, item)
            else:
                statement, params = item
                editor.execute(editor.wrapper.ops.convert_raw_placeholders(statement, params), list(params))

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._run(editor, self.sql)

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if self.reverse_sql is None:
            raise NotImplementedError("RunSQL without reverse_sql cannot be reversed")
        self._run(editor, self.reverse_sql)

    def irreversible_hint(self) -> str:
        return "give RunSQL a reverse_sql= (RunSQL.noop if there is nothing to undo)"

    def describe(self) -> str:
        return "Raw SQL operation"


class RunPython(Operation):
    """Run ``code(apps, schema_editor)`` forwards and ``reverse_code`` backwards.

    Without ``reverse_code`` the step is irreversible: rolling back through it
    is refused before anything runs.  ``RunPython.noop`` says "nothing to undo".
    """

    def __init__(
        self,
        code: Callable[..., Any],
        reverse_code: Callable[..., Any] | None = None,
        *,
        atomic: bool | None = None,
        elidable: bool = False,
    ) -> None:
        if not callable(code):
            raise TypeError("RunPython needs a callable code(apps, schema_editor)")
        if reverse_code is not None and not callable(reverse_code):
            raise TypeError("RunPython's reverse_code must be callable (use RunPython.noop for nothing to undo)")
        self.code = code
        self.reverse_code = reverse_code
        self._atomic = atomic
        self.elidable = elidable

    @staticmethod
    def noop(apps: Any, schema_editor: Any) -> None:
        """A reverse (or forward) step that does nothing."""
        return None

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return self.reverse_code is not None

    @property
    def atomic(self) -> bool:  # type: ignore[override]
        return True if self._atomic is None else self._atomic

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        return None

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if editor.collect_sql:
            editor.collected_sql.append(
                f"-- RunPython {getattr(self.code, '__qualname__', self.code)!s}: Python code, no SQL to show"
            )
            return
        self.code(StateApps(from_state), editor)

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if self.reverse_code is None:
            raise NotImplementedError("RunPython without reverse_code cannot be reversed")
        if editor.collect_sql:
            editor.collected_sql.append(
                f"-- RunPython reverse {getattr(self.reverse_code, '__qualname__', self.reverse_code)!s}"
            )
            return
        self.reverse_code(StateApps(from_state), editor)

    def irreversible_hint(self) -> str:
        return (
            "pass reverse_code= to RunPython (RunPython.noop if there is genuinely nothing to undo at the data level)"
        )

    def describe(self) -> str:
        return f"Raw Python operation {getattr(self.code, '__name__', '')}".rstrip()


class SeparateDatabaseAndState(Operation):
    """Run ``database_operations`` against the database and ``state_operations`` on the state only."""

    def __init__(
        self, database_operations: Sequence[Operation] = (), state_operations: Sequence[Operation] = ()
    ) -> None:
        self.database_operations = list(database_operations)
        self.state_operations = list(state_operations)

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return all(op.is_reversible() for op in self.database_operations)

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for op in self.state_operations:
            op.state_forwards(app_label, state)

    def database_forwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        for op in self.database_operations:
            to = from_state.clone()
            op.state_forwards(app_label, to)
            op.database_forwards(app_label, editor, from_state, to)
            from_state = to

    def database_backwards(
        self, app_label: str, editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        states = [to_state]
        for op in self.database_operations:
            nxt = states[-1].clone()
            op.state_forwards(app_label, nxt)
            states.append(nxt)
        for i in range(len(self.database_operations) - 1, -1, -1):
            self.database_operations[i].database_backwards(app_label, editor, states[i + 1], states[i])

    def irreversible_hint(self) -> str:
        return "make each of its database_operations reversible"

    def describe(self) -> str:
        return "Custom state/database change combination"
