"""``dorm dbcheck``: compare one alias's live schema with the migration state.

Exit 0 when they match, 1 with a readable diff when they drift.
"""

from __future__ import annotations

import argparse
from typing import Any

from dorm.cli.base import Command, load_apps


def schema_drift(alias: str) -> tuple[list[str], list[str]]:
    """``(differences, notes)`` between the migration state and the live schema of ``alias``."""
    from dorm.backends.base.schema import TableView, column_of, index_name
    from dorm.db.connections import connections
    from dorm.db.router import router
    from dorm.migrations.loader import MigrationLoader
    from dorm.migrations.recorder import MigrationRecorder

    wrapper = connections[alias]
    introspection = wrapper.introspection
    editor = wrapper.schema_editor(None, collect_sql=True)
    loader = MigrationLoader()
    state = loader.project_state()
    notes: list[str] = []
    applied = set(MigrationRecorder(alias).applied_migrations())
    pending = sorted(k for k in loader.migrations if k not in applied)
    if pending:
        shown = ", ".join(f"{a}.{n}" for a, n in pending[:5]) + (" ..." if len(pending) > 5 else "")
        notes.append(f"{len(pending)} migration(s) are not applied on '{alias}': {shown}")
    diffs: list[str] = []
    live_tables = set(introspection.table_names())
    expected_tables: set[str] = set()
    norm = introspection.normalize_type
    for (app, _name), ms in sorted(state.models.items()):
        if not router.allow_migrate(alias, app, model_name=ms.name_lower):
            continue
        model = state.render(app, ms.name)
        views = [TableView.of(model)]
        for m2m in views[0].many_to_many:
            through = editor.auto_through(model, m2m)
            if through is not None:
                views.append(TableView.of(through))
        for view in views:
            expected_tables.add(view.db_table)
            if view.db_table not in live_tables:
                diffs.append(f"- table {view.db_table}: missing from the database (the migration state has it)")
                continue
            diffs.extend(_table_diff(editor, introspection, view, norm, column_of, index_name))
    for table in sorted(live_tables - expected_tables - set(introspection.ignored_tables)):
        diffs.append(f"+ table {table}: in the database but not in the migration state")
    return diffs, notes


def _table_diff(editor: Any, introspection: Any, view: Any, norm: Any, column_of: Any, index_name: Any) -> list[str]:
    table = view.db_table
    diffs: list[str] = []
    live = {c.name: c for c in introspection.get_table_description(table)}
    expected: dict[str, Any] = {}
    for field in view.fields:
        col_type = editor.column_type(field)
        if col_type is not None:
            expected[column_of(field)] = field
    for column, field in expected.items():
        info = live.get(column)
        if info is None:
            diffs.append(f"- {table}.{column}: column missing from the database")
            continue
        want_type = norm(editor.column_type(field))
        if info.type != want_type:
            diffs.append(
                f"~ {table}.{column}: type is {info.type!r} in the database, {want_type!r} in the migration state"
            )
        want_null = bool(field.null) and not field.primary_key
        if info.null != want_null:
            diffs.append(
                f"~ {table}.{column}: {'NULL allowed' if info.null else 'NOT NULL'} in the database, "
                f"{'NULL allowed' if want_null else 'NOT NULL'} in the migration state"
            )
        if info.primary_key != bool(field.primary_key):
            diffs.append(
                f"~ {table}.{column}: primary key differs (database: {info.primary_key}, state: {bool(field.primary_key)})"
            )
    for column in live:
        if column not in expected:
            diffs.append(f"+ {table}.{column}: column in the database but not in the migration state")
    constraints = introspection.get_constraints(table)
    # Indexes (by name).
    want_indexes: dict[str, list[str]] = {}
    for field in view.fields:
        if editor.field_indexes_sql(view, field):
            want_indexes[editor.fk_index_name(view, field)] = [column_of(field)]
    for index in view.indexes:
        name, _cols, _cond = editor._index_parts(view, index)
        want_indexes[name] = [view.column_for(f.lstrip("-")) for f in index.fields]
    for constraint in view.constraints:
        if editor.constraint_kind(constraint) == "unique" and editor.constraint_body(view, constraint) is None:
            want_indexes[constraint.name] = [view.column_for(f) for f in constraint.fields]
    live_indexes = {name: info["columns"] for name, info in constraints.items() if info.get("index")}
    for name, cols in want_indexes.items():
        if name not in live_indexes:
            diffs.append(f"- {table}: index {name} on ({', '.join(cols)}) missing from the database")
        elif live_indexes[name] != cols:
            diffs.append(
                f"~ {table}: index {name} covers ({', '.join(live_indexes[name])}) in the database, ({', '.join(cols)}) in the state"
            )
    for name, cols in live_indexes.items():
        if name not in want_indexes:
            diffs.append(
                f"+ {table}: index {name} on ({', '.join(cols)}) in the database but not in the migration state"
            )
    # Unique constraints (by column set: databases name them differently).
    want_unique = {(column_of(f),) for f in view.fields if f.unique and not f.primary_key}
    want_unique |= {tuple(view.column_for(n) for n in ut) for ut in view.unique_together}
    want_unique |= {
        tuple(view.column_for(n) for n in c.fields)
        for c in view.constraints
        if editor.constraint_kind(c) == "unique" and editor.constraint_body(view, c) is not None
    }
    live_unique = {
        tuple(info["columns"])
        for info in constraints.values()
        if info.get("unique") and not info.get("primary_key") and not info.get("index")
    }
    for missing in sorted(want_unique - live_unique):
        cols = list(missing)
        diffs.append(f"- {table}: UNIQUE ({', '.join(cols)}) missing from the database")
    for extra in sorted(live_unique - want_unique):
        cols = list(extra)
        diffs.append(f"+ {table}: UNIQUE ({', '.join(cols)}) in the database but not in the migration state")
    # Check constraints (by name; unnamed column checks are the backend's own).
    want_checks = {c.name for c in view.constraints if editor.constraint_kind(c) == "check"}
    live_checks = {name for name, info in constraints.items() if info.get("check") and not name.startswith("__")}
    for name in sorted(want_checks - live_checks):
        diffs.append(f"- {table}: CHECK constraint {name} missing from the database")
    for name in sorted(live_checks - want_checks):
        if not name.endswith("_check") or name in want_checks:
            diffs.append(f"+ {table}: CHECK constraint {name} in the database but not in the migration state")
    # Foreign keys.
    want_fks: dict[str, tuple[str, str]] = {}
    # The schema editor declares foreign keys only where the backend has them (not on DuckDB).
    for field in view.fields if editor.wrapper.features.supports_foreign_keys else ():
        related = editor.related_target(field)
        if related is not None and getattr(field, "db_constraint", True):
            want_fks[column_of(field)] = (related[0]._meta.db_table, column_of(related[1]))
    live_fks = introspection.get_relations(table)
    for column, ref in want_fks.items():
        if live_fks.get(column) != ref:
            got = live_fks.get(column)
            diffs.append(
                f"- {table}.{column}: FOREIGN KEY to {ref[0]}.{ref[1]} "
                + (f"points at {got[0]}.{got[1]} in the database" if got else "missing from the database")
            )
    for column, ref in live_fks.items():
        if column not in want_fks:
            diffs.append(
                f"+ {table}.{column}: FOREIGN KEY to {ref[0]}.{ref[1]} in the database but not in the migration state"
            )
    return diffs


class DbCheckCommand(Command):
    name = "dbcheck"
    help = "Compare an alias's live schema with the migration state; exit 1 with a diff when they drift."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--database", default="default", help="alias to check (default: default)")

    def handle(self, args: argparse.Namespace) -> int:
        load_apps()
        diffs, notes = schema_drift(args.database)
        if not diffs:
            self.write(f"No drift: the schema of '{args.database}' matches the migration state.")
            for note in notes:
                self.write(f"Note: {note}")
            return 0
        self.write(
            f"Schema drift on '{args.database}' ({len(diffs)} difference(s)); '-' expected but missing, '+' unexpected, '~' different:"
        )
        for line in diffs:
            self.write(f"  {line}")
        for note in notes:
            self.write(f"Note: {note}")
        self.write(
            "Fix: if the migrations were applied to another alias, compare `dorm showmigrations <app> --settings=...` with "
            "this environment and run `dorm migrate --database <alias>`. If someone hand-edited the table, encode the "
            "change in a migration: `dorm makemigrations <app> --empty --name <suffix>` and add a "
            "migrations.RunSQL(sql, reverse_sql) (wrapped in SeparateDatabaseAndState with state_operations if the models changed too)."
        )
        return 1
