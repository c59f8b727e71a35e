"""pytester projects: a temporary djanorm project (settings, models, one migration) run in a subprocess.

Each inner run is a fresh ``pytest`` process, so it finds pytest-djanorm only
through its ``pytest11`` entry point, exactly like a user's project.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

pytest_plugins = ["pytester"]

PG_URL = os.environ.get("DORM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/dorm_test_pytest_plugin")
REQUIRE_PG = os.environ.get("DORM_TEST_REQUIRE_POSTGRES") == "1"

MODELS = """
import dorm


class Author(dorm.Model):
    name = dorm.CharField(max_length=50, unique=True)


class Book(dorm.Model):
    title = dorm.CharField(max_length=100)
    author = dorm.ForeignKey(Author, on_delete=dorm.CASCADE, related_name="books")
"""

MIGRATION = """
import dorm
from dorm import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Author",
            fields=[
                ("id", dorm.BigAutoField(primary_key=True)),
                ("name", dorm.CharField(max_length=50, unique=True)),
            ],
            options={"db_table": "library_author"},
        ),
        migrations.CreateModel(
            name="Book",
            fields=[
                ("id", dorm.BigAutoField(primary_key=True)),
                ("title", dorm.CharField(max_length=100)),
                ("author", dorm.ForeignKey(related_name="books", to="library.Author", on_delete=dorm.CASCADE)),
            ],
            options={"db_table": "library_book"},
        ),
    ]
"""

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
filterwarnings = error
addopts = -p no:cacheprovider -p no:randomly
"""


def _postgres_reason() -> str | None:
    try:
        import psycopg

        psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
    except Exception as exc:  # any failure means: not reachable
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}: {exc}"
    return None


def settings_source(engine: str) -> str:
    if engine == "sqlite":
        db = {"ENGINE": "sqlite", "NAME": "app.sqlite3"}
    else:
        reason = _postgres_reason()
        if reason is not None:
            if REQUIRE_PG:
                pytest.fail(reason + " (DORM_TEST_REQUIRE_POSTGRES=1)")
            pytest.skip(reason)
        db = {"URL": PG_URL, "MAX_POOL_SIZE": 4}
    return f"DATABASES = {{'default': {db!r}}}\nINSTALLED_APPS = ['library']\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Callable[..., pytest.Pytester]:
    """``project(engine, tests={...}, migrations=True)``: write the temporary project; returns pytester."""
    monkeypatch.delenv("DORM_SETTINGS_MODULE", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # the inner run is not a worker of ours

    def make(
        engine: str = "sqlite", tests: dict[str, str] | None = None, migrations: bool = True, settings: bool = True
    ) -> pytest.Pytester:
        files: dict[str, Any] = {"library/__init__.py": "", "library/models.py": MODELS}
        if migrations:
            files["library/migrations/__init__.py"] = ""
            files["library/migrations/0001_initial.py"] = MIGRATION
        if settings:
            files["settings.py"] = settings_source(engine)
        for name, source in (tests or {}).items():
            files[name] = textwrap.dedent(source)
        for name, source in files.items():
            path = pytester.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)
        pytester.makeini(INI)
        return pytester

    return make
