"""A temporary project driven through the real ``dorm`` command, as a user would.

The ``project`` fixture (conftest) is parametrized over SQLite and PostgreSQL (database
``dorm_test_migrations_<pid>``, emptied before each test and dropped at the end; skipped with the reason
when no server is reachable, unless ``DORM_TEST_REQUIRE_POSTGRES=1``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_DSN = os.environ.get("DORM_TEST_MIGRATIONS_PG", "postgresql://postgres@127.0.0.1:5432/dorm_test_migrations")
REQUIRE_PG = os.environ.get("DORM_TEST_REQUIRE_POSTGRES") == "1"


def _pg_dbname() -> str:
    """``dorm_test_migrations_<pid>``: concurrent test sessions (xdist workers, other checkouts) never share one."""
    base = PG_DSN.rsplit("/", 1)[1]
    return f"{base}_{os.getpid()}"


def pg_drop_all() -> None:
    """Drop this process's test databases (end of session)."""
    try:
        import psycopg
        from psycopg import sql

        with psycopg.connect(PG_DSN.rsplit("/", 1)[0] + "/postgres", autocommit=True, connect_timeout=3) as conn:
            for name in (_pg_dbname(), f"{_pg_dbname()}_other"):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    except Exception:  # noqa: BLE001 - nothing to clean when the server is gone
        pass


def _pg_reset() -> str | None:
    """Empty (or create) the test database; the reason when PostgreSQL is unusable."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError as exc:
        return f"psycopg is not installed: {exc}"
    admin = PG_DSN.rsplit("/", 1)[0] + "/postgres"
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure to connect means unusable
        return f"PostgreSQL not reachable for {PG_DSN}: {type(exc).__name__}: {exc}"
    with conn:
        for name in (_pg_dbname(), f"{_pg_dbname()}_other"):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return None


def database_settings(backend: str, root: Path, name: str = "db") -> dict[str, Any]:
    if backend == "sqlite":
        return {"ENGINE": "sqlite", "NAME": str(root / f"{name}.sqlite3")}
    host_part = PG_DSN.rsplit("/", 1)[0]
    dbname = _pg_dbname() if name == "db" else f"{_pg_dbname()}_{name}"
    return {"URL": f"{host_part}/{dbname}"}


@dataclass
class Project:
    """A project folder with settings.py and app ``blog``; ``run`` calls the real CLI."""

    root: Path
    backend: str
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def app(self) -> Path:
        return self.root / "blog"

    def run(self, *args: str, check: int | None = 0, script: bool = False) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "DORM_SETTINGS_MODULE"}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if script:
            command = [str(Path(sys.executable).parent / "dorm"), *args]
        else:
            command = [sys.executable, "-m", "dorm.cli", *args]
        result = subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True, timeout=120)
        if check is not None and result.returncode != check:
            raise AssertionError(
                f"`dorm {' '.join(args)}` exited {result.returncode}, expected {check}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def write_models(self, source: str) -> None:
        (self.app / "models.py").write_text("import dorm\n\n" + textwrap.dedent(source))

    def write_settings(self) -> None:
        lines = ["DATABASES = {"]
        for alias, conf in self.aliases.items():
            lines.append(f"    {alias!r}: {conf!r},")
        lines.append("}")
        lines.append('INSTALLED_APPS = ["blog"]')
        (self.root / "settings.py").write_text("\n".join(lines) + "\n")

    def migration_files(self) -> list[str]:
        return sorted(p.name for p in (self.app / "migrations").glob("[0-9]*.py"))

    def sql(self, statement: str, alias: str = "default") -> list[tuple[Any, ...]]:
        """Run SQL directly with the driver (a 'hand edit' outside dorm)."""
        conf = self.aliases[alias]
        if self.backend == "sqlite":
            import sqlite3

            conn = sqlite3.connect(conf["NAME"])
            try:
                rows = conn.execute(statement).fetchall()
                conn.commit()
                return rows
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(conf["URL"], autocommit=True) as pg:
            cur = pg.execute(statement)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def tables(self, alias: str = "default") -> set[str]:
        if self.backend == "sqlite":
            return {r[0] for r in self.sql("SELECT name FROM sqlite_master WHERE type='table'", alias)}
        return {r[0] for r in self.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", alias)}
