"""``make_app``: a throw-away app package with migration files, run by the real executor."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


class TempApp:
    def __init__(self, root: Path, name: str, alias: str) -> None:
        self.root = root
        self.name = name
        self.alias = alias
        self.package = root / name
        (self.package / "migrations").mkdir(parents=True)
        (self.package / "__init__.py").write_text("")
        (self.package / "migrations" / "__init__.py").write_text("")

    def migration(self, filename: str, body: str) -> None:
        (self.package / "migrations" / filename).write_text(textwrap.dedent(body).lstrip())

    def executor(self, **kwargs: Any) -> Any:
        from dorm.migrations.executor import MigrationExecutor
        from dorm.migrations.loader import MigrationLoader

        return MigrationExecutor(self.alias, loader=MigrationLoader(apps=[self.name]), **kwargs)

    def migrate(self, target: str | None = None, **kwargs: Any) -> Any:
        executor = self.executor(**kwargs)
        executor.migrate(executor.plan(self.name, target))
        return executor

    def table(self, model: str) -> str:
        return f"{self.name}_{model.lower()}"


@pytest.fixture
def make_app(tmp_path: Path, alias: str) -> Iterator[Callable[[], TempApp]]:
    made: list[TempApp] = []
    sys.path.insert(0, str(tmp_path))

    def make() -> TempApp:
        app = TempApp(tmp_path, f"h7app_{uuid.uuid4().hex[:8]}", alias)
        made.append(app)
        return app

    yield make
    sys.path.remove(str(tmp_path))
    from dorm.db.connections import get_connection

    conn = get_connection(alias)
    q = conn.backend.ops.quote_name
    cascade = " CASCADE" if conn.backend.vendor == "postgresql" else ""
    for app in made:
        tables = [t for t in conn.backend.introspection.table_names() if t.startswith(app.name + "_")]
        for table in tables:
            conn.execute(f"DROP TABLE IF EXISTS {q(table)}{cascade}")
        if "dorm_migrations" in conn.backend.introspection.table_names():
            conn.execute(f"DELETE FROM {q('dorm_migrations')} WHERE {q('app')} = %s", [app.name])
        for module in [m for m in sys.modules if m == app.name or m.startswith(app.name + ".")]:
            del sys.modules[module]
