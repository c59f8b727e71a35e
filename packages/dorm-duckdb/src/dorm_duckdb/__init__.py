"""DuckDB backend for djanorm (``ENGINE: "duckdb"``).

Not implemented yet in this version: the distribution is installable and
registers the ``duckdb`` name in the ``djanorm.backends`` entry point group,
so configuring it fails with a clear :class:`dorm.ImproperlyConfigured`
instead of "Unsupported database engine".  Coming: sync and async
connections on the ``duckdb`` driver, the type mapping, a schema editor
and introspection, and ``atomic()`` degrading nested blocks to no-op
boundaries (DuckDB has no SAVEPOINT).
"""

from __future__ import annotations

__all__: list[str] = []
