"""Capability flags.  Core code and tests branch on these, never on vendor names.

Defaults are conservative: a new backend claims a capability by overriding
the flag.  One flag per line, each saying what it promises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper

__all__ = ["BaseDatabaseFeatures"]


class BaseDatabaseFeatures:
    # SAVEPOINT works, so nested atomic() blocks roll back independently.
    supports_savepoints = True
    # DDL runs inside transactions: a failed migration leaves no partial schema.
    supports_transactional_ddl = True
    # INSERT/UPDATE/DELETE ... RETURNING.
    supports_returning = False
    # A multi-row INSERT ... RETURNING gives back the primary keys of every row.
    can_return_rows_from_bulk_insert = False
    # The driver's lastrowid after a one-row INSERT is the new auto primary key (SQLite's
    # rowid alias): a save() that needs only the key reads it instead of RETURNING it.
    lastrowid_is_auto_pk = False
    # INSERT ... ON CONFLICT DO NOTHING (bulk_create(ignore_conflicts=True)).
    supports_ignore_conflicts = True
    # INSERT ... ON CONFLICT (...) DO UPDATE (bulk_create(update_conflicts=True)).
    supports_update_conflicts = True
    # update_conflicts needs the conflict target columns named.
    supports_update_conflicts_with_target = True
    # SELECT ... FOR UPDATE (with NOWAIT / SKIP LOCKED / OF).
    supports_select_for_update = False
    supports_select_for_update_nowait = False
    supports_select_for_update_skip_locked = False
    supports_select_for_update_of = False
    # iterator() streams through a server-side cursor instead of fetching everything.
    supports_server_side_cursors = False
    # Statement.timeout_ms makes the database cancel a slow statement.
    supports_statement_timeout = False
    # A running statement can be cancelled from another thread or task.
    supports_cancel = False
    # Native types.
    has_native_uuid_field = False
    has_native_json_field = False
    has_native_duration_field = False
    has_native_decimal_field = False
    has_native_boolean_field = False
    # Timestamps keep a time zone (timestamptz); otherwise UTC is stored naive.
    supports_timezones = False
    # REGEXP / ~ operators (regex, iregex lookups).
    supports_regex = True
    # JSON containment and key lookups (has_key, contains on JSONField).
    supports_json_field_contains = False
    supports_json_field = True
    # SELECT DISTINCT ON (...).
    supports_distinct_on = False
    # UNION / INTERSECT / EXCEPT of SELECTs with ORDER BY / LIMIT on the whole.
    supports_select_union = True
    supports_select_intersection = True
    supports_select_difference = True
    # CREATE INDEX CONCURRENTLY (outside a transaction).
    supports_concurrent_index = False
    # ALTER TABLE ... ADD COLUMN with a constant default is metadata-only (no rewrite).
    supports_metadata_only_default = False
    # ALTER TABLE can alter columns in place; otherwise the schema editor rebuilds the table.
    supports_alter_column = True
    # CHECK ... NOT VALID + VALIDATE CONSTRAINT.
    supports_not_valid_constraints = False
    # Partial (WHERE) indexes and UniqueConstraint(condition=...).
    supports_partial_indexes = True
    # Deferrable foreign keys / constraints.
    supports_deferrable_constraints = False
    # Foreign keys are enforced.
    supports_foreign_keys = True
    # NULLS FIRST / NULLS LAST in ORDER BY.
    supports_order_by_nulls_modifier = True
    # Column-level db_default (DEFAULT expression) is honoured.
    supports_db_default = True
    # Advisory lock (or an equivalent) serialises concurrent `dorm migrate` runs.
    supports_migration_lock = False
    # EXPLAIN output is available.
    supports_explain = True
    # A max number of query parameters per statement (None: no practical limit).
    max_query_params: int | None = None
    # Allows many threads to share one alias (connections per thread / pooled).
    supports_threads = True

    def __init__(self, wrapper: BaseDatabaseWrapper) -> None:
        self.wrapper = wrapper
