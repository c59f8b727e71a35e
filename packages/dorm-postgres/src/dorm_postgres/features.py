"""What PostgreSQL (12+) can do, as capability flags the core and tests branch on."""

from __future__ import annotations

from dorm.backends.base.features import BaseDatabaseFeatures

__all__ = ["DatabaseFeatures"]


class DatabaseFeatures(BaseDatabaseFeatures):
    # INSERT/UPDATE/DELETE ... RETURNING, for one row and for multi-row VALUES.
    supports_returning = True
    can_return_rows_from_bulk_insert = True
    # SELECT ... FOR UPDATE [NOWAIT | SKIP LOCKED] [OF table, ...].
    supports_select_for_update = True
    supports_select_for_update_nowait = True
    supports_select_for_update_skip_locked = True
    supports_select_for_update_of = True
    # iterator() streams through a named (server-side) cursor inside a transaction.
    supports_server_side_cursors = True
    # Statement.timeout_ms becomes SET LOCAL statement_timeout (QueryCanceledError on expiry).
    supports_statement_timeout = True
    # A running statement is cancelled on the server (psycopg cancel_safe; async task cancellation).
    supports_cancel = True
    # uuid, jsonb, interval, numeric and boolean are native types.
    has_native_uuid_field = True
    has_native_json_field = True
    has_native_duration_field = True
    has_native_decimal_field = True
    has_native_boolean_field = True
    # timestamptz keeps the instant; values come back aware.
    supports_timezones = True
    # ~ and ~* operators.
    supports_regex = True
    # jsonb @>, ?, #> and friends.
    supports_json_field_contains = True
    # SELECT DISTINCT ON (...).
    supports_distinct_on = True
    # CREATE INDEX CONCURRENTLY, run outside a transaction.
    supports_concurrent_index = True
    # ALTER TABLE ... ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT.
    supports_not_valid_constraints = True
    # DEFERRABLE INITIALLY DEFERRED foreign keys and unique constraints.
    supports_deferrable_constraints = True
    # pg_advisory_lock serialises concurrent `dorm migrate` runs.
    supports_migration_lock = True
    # 65535 bind parameters per statement (the wire protocol's Int16 count).
    max_query_params = 65535

    @property
    def supports_metadata_only_default(self) -> bool:  # type: ignore[override]
        """ADD COLUMN with a constant default is a catalog change only from PostgreSQL 11 on.

        Before the first connection the version is unknown; every supported
        server (12+) qualifies, so it answers True then.
        """
        version = self.wrapper.server_version()
        return version is None or version >= (11,)
