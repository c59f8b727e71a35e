"""What SQLite can do, as capability flags (see ``dorm.backends.base.features``)."""

from __future__ import annotations

import sqlite3

from dorm.backends.base.features import BaseDatabaseFeatures

__all__ = ["DatabaseFeatures"]

#: The linked SQLite library's version (not the ``sqlite3`` module's).
SQLITE_VERSION = sqlite3.sqlite_version_info
_HAS_RETURNING = SQLITE_VERSION >= (3, 35, 0)


class DatabaseFeatures(BaseDatabaseFeatures):
    # SAVEPOINT / RELEASE / ROLLBACK TO work inside BEGIN IMMEDIATE.
    supports_savepoints = True
    # CREATE/ALTER/DROP are transactional: a failed migration rolls back whole.
    supports_transactional_ddl = True
    # INSERT/UPDATE/DELETE ... RETURNING arrived in SQLite 3.35.
    supports_returning = _HAS_RETURNING
    # A multi-row INSERT ... RETURNING reports every new primary key.
    can_return_rows_from_bulk_insert = _HAS_RETURNING
    # An auto key is INTEGER PRIMARY KEY, the rowid's alias: lastrowid is cheaper than RETURNING.
    lastrowid_is_auto_pk = True
    # INSERT ... ON CONFLICT DO NOTHING / DO UPDATE (upsert, SQLite >= 3.24).
    supports_ignore_conflicts = True
    supports_update_conflicts = True
    supports_update_conflicts_with_target = True
    # No row locks: writers serialise on the database lock (BEGIN IMMEDIATE).
    supports_select_for_update = False
    # The driver materialises results in the process; there is no server cursor.
    supports_server_side_cursors = False
    # Statement.timeout_ms is enforced with a progress handler that interrupts.
    supports_statement_timeout = True
    # sqlite3.Connection.interrupt() is safe to call from another thread.
    supports_cancel = True
    # Values that SQLite stores as text or integers; the ORM converts them.
    has_native_uuid_field = False
    has_native_json_field = False
    has_native_duration_field = False
    has_native_decimal_field = False
    has_native_boolean_field = False
    supports_timezones = False
    # REGEXP is a Python function registered on every connection.
    supports_regex = True
    # JSON1 (json_extract) is built in; containment is emulated poorly, so not claimed.
    supports_json_field = True
    supports_json_field_contains = False
    supports_distinct_on = False
    supports_select_union = True
    supports_select_intersection = True
    supports_select_difference = True
    supports_concurrent_index = False
    supports_metadata_only_default = False
    # ALTER TABLE cannot change a column: the schema editor rebuilds the table.
    supports_alter_column = False
    supports_not_valid_constraints = False
    supports_partial_indexes = True
    # Only foreign keys can be DEFERRABLE in SQLite; unique constraints cannot.
    supports_deferrable_constraints = False
    # Enforced because every connection runs PRAGMA foreign_keys=ON.
    supports_foreign_keys = True
    # NULLS FIRST / NULLS LAST arrived in SQLite 3.30.
    supports_order_by_nulls_modifier = SQLITE_VERSION >= (3, 30, 0)
    supports_db_default = True
    supports_explain = True
    # SQLITE_MAX_VARIABLE_NUMBER: 32766 since 3.32, 999 before.
    max_query_params = 32766 if SQLITE_VERSION >= (3, 32, 0) else 999
    # One connection per thread; async connections each own a worker thread.
    supports_threads = True
