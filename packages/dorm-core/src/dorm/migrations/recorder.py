"""The ``dorm_migrations`` table: which migrations ran on an alias (one table per database).

Also keeps ``dorm_migration_progress``, where :class:`BackfillBatch` records
the last finished primary-key range so an interrupted backfill resumes.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from dorm.backends.base._through import StandInField, StandInMeta, StandInModel
from dorm.backends.base.statement import FETCH_ALL, FETCH_NONE, Statement

if TYPE_CHECKING:
    from dorm.backends.base.connection import BaseConnection

__all__ = ["MigrationRecorder"]

TABLE = "dorm_migrations"
PROGRESS_TABLE = "dorm_migration_progress"
LOCK_TABLE = "dorm_migration_lock"


def _recorder_model() -> StandInModel:
    return StandInModel(
        StandInMeta(
            db_table=TABLE,
            model_name="migration",
            fields=[
                StandInField("id", "AutoField", primary_key=True, unique=True),
                StandInField("app", "CharField", max_length=255),
                StandInField("name", "CharField", max_length=255),
                StandInField("applied", "DateTimeField"),
            ],
            auto_created=False,
        )
    )


def _progress_model() -> StandInModel:
    return StandInModel(
        StandInMeta(
            db_table=PROGRESS_TABLE,
            model_name="progress",
            fields=[
                StandInField("key", "CharField", max_length=255, primary_key=True, unique=True),
                StandInField("position", "TextField"),
            ],
            auto_created=False,
        )
    )


def _lock_model() -> StandInModel:
    return StandInModel(
        StandInMeta(
            db_table=LOCK_TABLE,
            model_name="lock",
            fields=[
                StandInField("id", "IntegerField", primary_key=True, unique=True),
                StandInField("runs", "BigIntegerField"),
            ],
            auto_created=False,
        )
    )


class MigrationRecorder:
    """Reads and writes the recorder table of one alias."""

    def __init__(self, alias: str) -> None:
        from dorm.db.connections import connections

        self.alias = alias
        self.wrapper = connections[alias]

    def _run(
        self, sql: str, params: Any = None, *, fetch: int = FETCH_ALL, connection: BaseConnection | None = None
    ) -> list[tuple[Any, ...]]:
        from dorm.db.executor import run, run_on

        sql = self.wrapper.ops.convert_raw_placeholders(sql, params) if params else sql
        stmt = Statement(self.alias, sql, params, fetch=fetch)
        if connection is None:
            run(stmt, "migrate")
        else:
            run_on(connection, stmt)
        return list(stmt.rows or [])

    def _q(self, name: str) -> str:
        return self.wrapper.ops.quote_name(name)

    def has_table(self, connection: BaseConnection | None = None) -> bool:
        return TABLE in self.wrapper.introspection.table_names(connection)

    def ensure_schema(self, connection: BaseConnection | None = None) -> None:
        """Create the recorder tables if they do not exist yet."""
        tables = self.wrapper.introspection.table_names(connection)
        if TABLE in tables and PROGRESS_TABLE in tables and LOCK_TABLE in tables:
            return
        if connection is None:
            conn = self.wrapper.acquire()
            try:
                self._create(conn, tables)
            finally:
                self.wrapper.release(conn)
        else:
            self._create(connection, tables)

    def _create(self, conn: BaseConnection, tables: list[str]) -> None:
        from dorm.exceptions import DatabaseError

        editor = self.wrapper.schema_editor(conn)
        for name, build in ((TABLE, _recorder_model), (PROGRESS_TABLE, _progress_model), (LOCK_TABLE, _lock_model)):
            if name in tables:
                continue
            try:
                editor.create_model(build())
            except DatabaseError:
                # Another `dorm migrate` created it meanwhile: fine; anything else re-raises.
                if name not in self.wrapper.introspection.table_names(conn):
                    raise
        try:
            self._run(
                f"INSERT INTO {self._q(LOCK_TABLE)} ({self._q('id')}, {self._q('runs')}) "
                f"SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM {self._q(LOCK_TABLE)} WHERE {self._q('id')} = 1)",
                fetch=FETCH_NONE,
                connection=conn,
            )
        except DatabaseError:
            pass  # a concurrent run inserted the row first

    def lock(self, connection: BaseConnection) -> None:
        """Take the row lock that serialises migrations, inside the caller's transaction.

        An ``UPDATE`` of the single row of ``dorm_migration_lock`` blocks every other
        runner's until commit on any backend with row locks (SQLite's ``BEGIN IMMEDIATE``
        already holds the database write lock), so two ``dorm migrate`` runs never apply
        the same migration twice, even where the backend has no advisory lock.
        """
        self._run(
            f"UPDATE {self._q(LOCK_TABLE)} SET {self._q('runs')} = {self._q('runs')} + 1 WHERE {self._q('id')} = 1",
            fetch=FETCH_NONE,
            connection=connection,
        )

    def applied_migrations(self, connection: BaseConnection | None = None) -> list[tuple[str, str]]:
        """``(app, name)`` of every applied migration, in the order they ran."""
        if not self.has_table(connection):
            return []
        rows = self._run(
            f"SELECT {self._q('app')}, {self._q('name')} FROM {self._q(TABLE)} ORDER BY {self._q('id')}",
            connection=connection,
        )
        return [(str(a), str(n)) for a, n in rows]

    def record_applied(self, app: str, name: str, connection: BaseConnection | None = None) -> None:
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None).isoformat(sep=" ")
        self._run(
            f"INSERT INTO {self._q(TABLE)} ({self._q('app')}, {self._q('name')}, {self._q('applied')}) VALUES (%s, %s, %s)",
            [app, name, now],
            fetch=FETCH_NONE,
            connection=connection,
        )

    def record_unapplied(self, app: str, name: str, connection: BaseConnection | None = None) -> None:
        self._run(
            f"DELETE FROM {self._q(TABLE)} WHERE {self._q('app')} = %s AND {self._q('name')} = %s",
            [app, name],
            fetch=FETCH_NONE,
            connection=connection,
        )

    # -- backfill progress ------------------------------------------------------------

    def progress(self, key: str) -> Any:
        rows = self._run(
            f"SELECT {self._q('position')} FROM {self._q(PROGRESS_TABLE)} WHERE {self._q('key')} = %s", [key]
        )
        if not rows:
            return None
        text = str(rows[0][0])
        try:
            return int(text)
        except ValueError:
            return text

    def set_progress(self, key: str, position: Any, connection: BaseConnection | None = None) -> None:
        self._run(
            f"DELETE FROM {self._q(PROGRESS_TABLE)} WHERE {self._q('key')} = %s",
            [key],
            fetch=FETCH_NONE,
            connection=connection,
        )
        self._run(
            f"INSERT INTO {self._q(PROGRESS_TABLE)} ({self._q('key')}, {self._q('position')}) VALUES (%s, %s)",
            [key, str(position)],
            fetch=FETCH_NONE,
            connection=connection,
        )

    def clear_progress(self, key: str) -> None:
        self._run(f"DELETE FROM {self._q(PROGRESS_TABLE)} WHERE {self._q('key')} = %s", [key], fetch=FETCH_NONE)
