"""DuckDB backend for djanorm (``ENGINE: "duckdb"``): see ``dorm_duckdb.base`` and ``docs/duckdb.md``."""

from __future__ import annotations

__all__: list[str] = []
