"""Empty the tables of every model (``live_db``'s teardown)."""

from __future__ import annotations

from dorm.db.connections import connections, get_connection

__all__ = ["flush_tables"]

#: dorm's own bookkeeping tables: the migration history must survive a flush.
KEEP = frozenset({"dorm_migrations", "dorm_migration_progress"})


def model_tables() -> list[str]:
    from dorm.models.registry import apps

    tables: list[str] = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if getattr(meta, "abstract", False) or getattr(meta, "proxy", False):
            continue
        if meta.db_table not in tables:
            tables.append(meta.db_table)
    return tables


def existing_tables(alias: str) -> list[str]:
    """The backend's ``introspection.table_names()``; on PostgreSQL a catalog query if the backend lacks it."""
    wrapper = connections[alias]
    try:
        return wrapper.introspection.table_names()
    except NotImplementedError:
        if wrapper.vendor != "postgresql":
            raise
    rows = get_connection(alias).execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return [r[0] for r in rows]


def flush_tables(alias: str) -> list[str]:
    """Delete every row of every model table that exists on ``alias``; returns the tables emptied.

    PostgreSQL: one ``TRUNCATE ... RESTART IDENTITY CASCADE``.  Elsewhere:
    ``DELETE FROM`` each table, retrying tables a foreign key held back
    until a pass makes no progress.
    """
    wrapper = connections[alias]
    existing = set(existing_tables(alias))
    tables = [t for t in model_tables() if t in existing and t not in KEEP]
    if not tables:
        return []
    conn = get_connection(alias)
    q = wrapper.ops.quote_name
    if wrapper.vendor == "postgresql":
        conn.execute(f"TRUNCATE {', '.join(q(t) for t in tables)} RESTART IDENTITY CASCADE")
        return tables
    pending = list(reversed(tables))  # children are usually registered after their parents
    while pending:
        failed: list[str] = []
        error: Exception | None = None
        for table in pending:
            try:
                conn.execute(f"DELETE FROM {q(table)}")
            except Exception as exc:  # a foreign key from a table not emptied yet
                failed.append(table)
                error = exc
        if len(failed) == len(pending):
            raise RuntimeError(f"live_db could not empty the tables {failed} on {alias!r}: {error}") from error
        pending = failed
    return tables
