"""Programmatic entry points (test fixtures, app start-up scripts): the ``dorm migrate`` engine without the CLI."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["create_tables", "migrate"]


def migrate(
    using: str = "default",
    app_label: str | None = None,
    target: str | None = None,
    *,
    fake: bool = False,
    apps: list[str] | None = None,
) -> list[str]:
    """Apply (or, with ``target``, roll back) migrations on ``using`` like ``dorm migrate``.

    ``apps`` overrides ``INSTALLED_APPS`` (dotted package names).  Returns the
    ``"Apply app.name"`` / ``"Unapply app.name"`` steps that ran.  Raises the
    same errors as the command (``IrreversibleError``, ``MigrationConflictError``, ...).
    """
    import importlib

    from dorm.migrations.executor import MigrationExecutor
    from dorm.migrations.loader import MigrationLoader, installed_apps

    for app in apps if apps is not None else installed_apps():
        try:
            importlib.import_module(f"{app}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.models":
                raise
    executor = MigrationExecutor(using, loader=MigrationLoader(apps), progress=lambda _message: None)
    plan = executor.plan(app_label, target)
    executor.migrate(plan, fake=fake)
    return [step.describe() for step in plan]


def create_tables(models: Iterable[Any], using: str = "default") -> None:
    """Create the tables of ``models`` (relation targets first, M2M tables included) in one transaction.

    For scripts and tests of code that has no migrations; an app with
    migrations should use :func:`migrate`.
    """
    from dorm import transaction
    from dorm.db.connections import connections
    from dorm.migrations.autodetector import MigrationAutodetector
    from dorm.migrations.state import ProjectState
    from dorm.transaction import current_transaction

    target = ProjectState.from_models(list(models))
    wrapper = connections[using]
    with transaction.atomic(using=using):
        tx = current_transaction(using)
        assert tx is not None
        editor = wrapper.schema_editor(tx.sync_connection())
        state = ProjectState()
        for app, ops in MigrationAutodetector(ProjectState(), target).changes().items():
            for op in ops:
                before = state.clone()
                op.state_forwards(app, state)
                op.database_forwards(app, editor, before, state)
