"""What DuckDB can do, as capability flags (see ``dorm.backends.base.features``)."""

from __future__ import annotations

from dorm.backends.base.features import BaseDatabaseFeatures

__all__ = ["DatabaseFeatures"]


class DatabaseFeatures(BaseDatabaseFeatures):
    # No SAVEPOINT in DuckDB: nested atomic() blocks are no-op boundaries and an
    # error escaping one makes the outermost block roll back.
    supports_savepoints = False
    # CREATE/ALTER/DROP run inside transactions and roll back with them.
    supports_transactional_ddl = True
    # INSERT/UPDATE/DELETE ... RETURNING, also for multi-row inserts.
    supports_returning = True
    can_return_rows_from_bulk_insert = True
    # INSERT ... ON CONFLICT DO NOTHING / DO UPDATE SET (needs a PRIMARY KEY or UNIQUE target).
    supports_ignore_conflicts = True
    supports_update_conflicts = True
    supports_update_conflicts_with_target = True
    # No row locks (optimistic concurrency: conflicting writers fail at write time).
    supports_select_for_update = False
    # Results are materialised by the in-process driver; no server cursor.
    supports_server_side_cursors = False
    # Statement.timeout_ms: a timer calls DuckDBPyConnection.interrupt().
    supports_statement_timeout = True
    # interrupt() may be called from another thread.
    supports_cancel = True
    # Native types the driver binds and returns as Python objects.
    has_native_uuid_field = True
    # JSON columns come back as text: the field decodes them.
    has_native_json_field = False
    has_native_duration_field = True
    has_native_decimal_field = True
    has_native_boolean_field = True
    # DateTimeField is TIMESTAMPTZ (ICU extension, bundled in the wheels).
    supports_timezones = True
    # regexp_matches() backs the regex / iregex lookups.
    supports_regex = True
    supports_json_field = True
    supports_json_field_contains = False
    supports_distinct_on = True
    supports_select_union = True
    supports_select_intersection = True
    supports_select_difference = True
    supports_concurrent_index = False
    supports_metadata_only_default = False
    # ALTER COLUMN TYPE / SET NOT NULL / DROP NOT NULL / SET DEFAULT exist.
    supports_alter_column = True
    supports_not_valid_constraints = False
    # CREATE INDEX ... WHERE is refused by DuckDB.
    supports_partial_indexes = False
    supports_deferrable_constraints = False
    # Not declared: DuckDB checks a foreign key against index entries that a delete earlier
    # in the same transaction has not yet removed, so the ORM's cascade (delete the children,
    # then the parent, in one transaction) would fail.  on_delete is done by the ORM anyway.
    supports_foreign_keys = False
    supports_order_by_nulls_modifier = True
    supports_db_default = True
    supports_migration_lock = False
    supports_explain = True
    max_query_params = None
    # One connection (cursor of the shared database) per thread; async ones own a worker thread.
    supports_threads = True
