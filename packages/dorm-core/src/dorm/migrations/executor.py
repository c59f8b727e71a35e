"""Runs migrations forwards and backwards on one alias.

* A migration runs in one transaction when the backend has transactional
  DDL (``features.supports_transactional_ddl``) and none of its operations
  manages its own transactions; a failure then leaves no partial schema.
* Rolling back is planned in full first: if any step on the way cannot be
  undone (``RunPython`` without ``reverse_code``, ``RunSQL`` without
  ``reverse_sql``) nothing runs and :class:`IrreversibleError` names the
  migration and the fix.
* Concurrent runs are serialised: the schema editor's ``lock_migrations``
  (PostgreSQL: an advisory lock) is held for the whole run where the backend
  has one; on SQLite each migration's ``BEGIN IMMEDIATE`` takes the write
  lock and the recorder is re-read inside it, so a second runner skips what
  the first applied.
* Migrations refused for a numbering collision are reported after the rest
  ran (:class:`MigrationConflictError`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dorm.exceptions import DatabaseError
from dorm.migrations.exceptions import (
    InconsistentMigrationHistory,
    IrreversibleError,
    MigrationConflictError,
    MigrationError,
)
from dorm.migrations.graph import Node
from dorm.migrations.loader import MigrationLoader
from dorm.migrations.operations.base import Operation
from dorm.migrations.operations.special import RunPython, RunSQL, SeparateDatabaseAndState
from dorm.migrations.recorder import MigrationRecorder

if TYPE_CHECKING:
    from dorm.backends.base.connection import BaseConnection
    from dorm.backends.base.schema import BaseDatabaseSchemaEditor
    from dorm.migrations.migration import Migration
    from dorm.migrations.state import ProjectState

__all__ = ["MigrationExecutor", "PlanStep"]

logger = logging.getLogger("dorm.migrations")


@dataclass(frozen=True)
class PlanStep:
    migration: Migration
    backwards: bool

    def describe(self) -> str:
        arrow = "Unapply" if self.backwards else "Apply"
        return f"{arrow} {self.migration.app_label}.{self.migration.name}"


class MigrationExecutor:
    """Plans and runs migrations on ``alias``."""

    def __init__(
        self,
        alias: str = "default",
        loader: MigrationLoader | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        from dorm.db.connections import connections

        self.alias = alias
        self.wrapper = connections[alias]
        self.loader = loader if loader is not None else MigrationLoader()
        self.recorder = MigrationRecorder(alias)
        self.progress = progress or (lambda message: logger.info("%s", message))
        self._order: dict[Node, int] | None = None
        #: Migrations applied or being applied during :meth:`migrate` (the states are built from them).
        self._present: set[Node] | None = None

    # -- state --------------------------------------------------------------------

    def applied(self, connection: BaseConnection | None = None) -> set[Node]:
        return set(self.recorder.applied_migrations(connection))

    def order(self) -> dict[Node, int]:
        """Position of every migration in one fixed topological order of the whole graph."""
        if self._order is None:
            self._order = {key: i for i, key in enumerate(self.loader.graph.full_order())}
        return self._order

    def state_before(self, key: Node, present: set[Node] | None = None) -> ProjectState:
        """The state ``key``'s operations start from: every migration before it in the global order
        (limited to ``present`` -- applied or about to be -- when given)."""
        from dorm.migrations.state import ProjectState

        order = self.order()
        state = ProjectState()
        for node in sorted(
            (n for n in order if order[n] < order[key] and (present is None or n in present)), key=order.__getitem__
        ):
            for op in self.loader.migrations[node].operations:
                op.state_forwards(node[0], state)
        return state

    # -- planning -------------------------------------------------------------------

    def plan(self, app: str | None = None, target: str | None = None) -> list[PlanStep]:
        """Steps to reach ``app``'s ``target`` (``"zero"``: nothing of the app), or every app's latest."""
        graph = self.loader.graph
        applied = self.applied()
        if app is not None and app not in self.loader.app_modules:
            raise MigrationError(
                f"No installed app with label {app!r}. Installed apps: {', '.join(self.loader.app_modules) or 'none'}."
            )
        steps: list[PlanStep] = []
        seen: set[Node] = set()
        if target is None:
            for leaf in graph.leaf_nodes(app):
                for key in graph.forwards_plan(leaf):
                    if key not in applied and key not in seen:
                        seen.add(key)
                        steps.append(PlanStep(self.loader.migrations[key], False))
            return self._sorted(steps)
        assert app is not None
        if target == "zero":
            roots = graph.root_nodes(app)
            for root in roots:
                for key in graph.backwards_plan(root):
                    if key in applied and key not in seen:
                        seen.add(key)
                        steps.append(PlanStep(self.loader.migrations[key], True))
            return self._sorted(steps)
        node = self.loader.get(app, target).key
        if node in applied:
            for child in sorted(graph.children[node]):
                if child[0] != app:
                    continue
                for key in graph.backwards_plan(child):
                    if key in applied and key not in seen:
                        seen.add(key)
                        steps.append(PlanStep(self.loader.migrations[key], True))
            return self._sorted(steps)
        for key in graph.forwards_plan(node):
            if key not in applied and key not in seen:
                seen.add(key)
                steps.append(PlanStep(self.loader.migrations[key], False))
        return self._sorted(steps)

    def _sorted(self, steps: list[PlanStep]) -> list[PlanStep]:
        """Forwards in the global order; backwards in reverse (dependents first either way)."""
        order = self.order()
        return sorted(steps, key=lambda s: -order[s.migration.key] if s.backwards else order[s.migration.key])

    def check_reversible(self, plan: list[PlanStep]) -> None:
        """Refuse a rollback through an irreversible step before anything runs."""
        for step in plan:
            if not step.backwards:
                continue
            for index, op in enumerate(step.migration.operations, start=1):
                if not op.is_reversible():
                    m = step.migration
                    raise IrreversibleError(
                        f"Cannot roll back {m.app_label}.{m.name}: operation {index} ({op.describe()}) is irreversible, "
                        f"so dorm refused the rollback before running anything (the schema is unchanged). "
                        f"Fix: {op.irreversible_hint()} in {m.path or m.name + '.py'}."
                    )

    def check_consistent(self, applied: set[Node]) -> None:
        for key in applied:
            if key not in self.loader.graph.nodes:
                continue
            for parent in self.loader.graph.parents[key]:
                if parent not in applied:
                    raise InconsistentMigrationHistory(
                        f"Migration {key[0]}.{key[1]} is applied on '{self.alias}' before its dependency {parent[0]}.{parent[1]}. "
                        "Apply the dependency with `dorm migrate --fake` if its schema is already there, or roll back the first."
                    )

    # -- running ----------------------------------------------------------------------

    def migrate(self, plan: list[PlanStep], *, fake: bool = False) -> None:
        """Run ``plan``; then raise for numbering conflicts that were refused.

        ``fake`` only records (un)applied migrations, so an irreversible step
        does not stop a faked rollback: nothing of it runs.
        """
        if not fake:
            self.check_reversible(plan)
        lock_conn: BaseConnection | None = None
        if self.wrapper.features.supports_migration_lock:
            lock_conn = self.wrapper.acquire()
            self.wrapper.schema_editor(lock_conn).lock_migrations()
        try:
            self.recorder.ensure_schema()
            applied = self.applied()
            self.check_consistent(applied)
            self._present = applied | {s.migration.key for s in plan if not s.backwards}
            for step in plan:
                self._run_step(step, fake=fake)
        finally:
            if lock_conn is not None:
                try:
                    self.wrapper.schema_editor(lock_conn).unlock_migrations()
                finally:
                    self.wrapper.release(lock_conn)
        self.raise_conflicts()

    def raise_conflicts(self) -> None:
        if self.loader.conflicts:
            raise MigrationConflictError("\n".join(c.message() for c in self.loader.conflicts))

    def _ops_atomic(self, migration: Migration) -> bool:
        return (
            migration.atomic
            and all(op.atomic for op in migration.operations)
            and self.wrapper.features.supports_transactional_ddl
        )

    def _run_step(self, step: PlanStep, *, fake: bool) -> None:
        from dorm import transaction
        from dorm.transaction import current_transaction

        migration = step.migration
        key = migration.key
        if self._ops_atomic(migration) or fake:
            with transaction.atomic(using=self.alias):
                tx = current_transaction(self.alias)
                assert tx is not None
                conn = tx.sync_connection()
                self.recorder.lock(conn)
                applied = key in self.applied(conn)  # re-read under the lock: another runner may have done it
                if applied != step.backwards:
                    self.progress(f"  {step.describe()}... skipped (already done by another run)")
                    return
                if not fake:
                    self._operations(step, self.wrapper.schema_editor(conn))
                self._record(step, conn)
            self.progress(f"  {step.describe()}... {'FAKED' if fake else 'OK'}")
            return
        # Non-atomic: each operation on its own (autocommit, or its own transaction).
        conn = self.wrapper.acquire()
        try:
            editor = self.wrapper.schema_editor(conn)
            self._operations(step, editor)
            self._record(step, conn)
        finally:
            self.wrapper.release(conn)
        self.progress(f"  {step.describe()}... OK")

    def _record(self, step: PlanStep, conn: BaseConnection) -> None:
        app, name = step.migration.key
        if step.backwards:
            self.recorder.record_unapplied(app, name, conn)
        else:
            self.recorder.record_applied(app, name, conn)

    def _states(self, migration: Migration) -> list[ProjectState]:
        states = [self.state_before(migration.key, self._present)]
        for op in migration.operations:
            nxt = states[-1].clone()
            op.state_forwards(migration.app_label, nxt)
            states.append(nxt)
        return states

    def _operations(self, step: PlanStep, editor: BaseDatabaseSchemaEditor) -> None:
        migration = step.migration
        app = migration.app_label
        editor.current_migration = f"{app}.{migration.name}"  # type: ignore[attr-defined]
        states = self._states(migration)
        indexes = range(len(migration.operations) - 1, -1, -1) if step.backwards else range(len(migration.operations))
        for i in indexes:
            op = migration.operations[i]
            if not self._allowed(app, op):
                continue
            try:
                if step.backwards:
                    op.database_backwards(app, editor, states[i + 1], states[i])
                else:
                    op.database_forwards(app, editor, states[i], states[i + 1])
            except DatabaseError as exc:
                if editor.collect_sql:
                    raise
                atomic = self._ops_atomic(migration)
                raise MigrationError(
                    f"{step.describe()} failed at operation {i + 1} ({op.describe()}): {exc}. "
                    + (
                        "Nothing of this migration was applied (its transaction rolled back); fix the migration or the data and run it again."
                        if atomic
                        else "This migration is not atomic: operations before this one stay applied; check the schema (dorm dbcheck) before running it again."
                    )
                ) from exc
        editor.flush_deferred()

    def _allowed(self, app: str, op: Operation) -> bool:
        """The routers' ``allow_migrate`` for the model an operation touches (or the app, for code)."""
        from dorm.db.router import router

        model_name = getattr(op, "model_name", None) or getattr(op, "name", None) or getattr(op, "old_name", None)
        if isinstance(op, (RunSQL, RunPython, SeparateDatabaseAndState)) or not isinstance(model_name, str):
            return router.allow_migrate(self.alias, app)
        return router.allow_migrate(self.alias, app, model_name=model_name.lower())

    def collect_sql(self, plan: list[PlanStep]) -> list[str]:
        """The SQL ``plan`` would run (``sqlmigrate``, ``migrate --plan``), without running it."""
        self.check_reversible(plan)
        lines: list[str] = []
        for step in plan:
            editor = self.wrapper.schema_editor(None, collect_sql=True)
            self._operations(step, editor)
            lines.append(f"-- {step.describe()}")
            lines.extend(editor.collected_sql)
        return lines
