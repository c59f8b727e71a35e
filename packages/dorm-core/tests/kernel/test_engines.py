"""ENGINE resolution: entry points, dotted paths, the Unsupported message and hints, reset_backend_cache()."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from importlib.metadata import entry_points as real_entry_points
from pathlib import Path

import pytest

import dorm
from dorm import plugins

FAKE_EP = "fake_backend.base:DatabaseWrapper"


def test_duckdb_without_dorm_duckdb_names_the_extra(entry_points: dict[str, list[EntryPoint]], tmp_path: Path) -> None:
    # every real backend except duckdb: as if dorm-duckdb were not installed
    entry_points[plugins.BACKENDS_GROUP] += [
        ep for ep in real_entry_points(group=plugins.BACKENDS_GROUP) if ep.name != "duckdb"
    ]
    dorm.configure(DATABASES={"default": {"ENGINE": "duckdb", "NAME": str(tmp_path / "x.duckdb")}})
    with pytest.raises(dorm.ImproperlyConfigured) as info:
        dorm.get_connection().execute("SELECT 1")
    message = str(info.value)
    assert message.startswith("Unsupported database engine: 'duckdb'")
    assert "pip install 'djanorm[duckdb]'" in message
    assert "./packages/dorm-duckdb" in message and "unrelated 'djanorm' on PyPI" in message
    assert "reset_backend_cache()" in message


@pytest.mark.parametrize(
    ("engine", "hint"),
    [
        ("postgresql", "pip install 'djanorm[postgresql]'"),
        ("postgres", "pip install 'djanorm[postgres]'"),
        ("sqlite", "pip install djanorm"),
    ],
)
def test_our_engines_name_their_install(entry_points: dict[str, list[EntryPoint]], engine: str, hint: str) -> None:
    with pytest.raises(dorm.ImproperlyConfigured, match=rf"^Unsupported database engine: '{engine}'") as info:
        plugins.kernel.backend_class(engine)
    assert hint in str(info.value)


def test_unknown_engine_explains_the_options(entry_points: dict[str, list[EntryPoint]]) -> None:
    with pytest.raises(dorm.ImproperlyConfigured, match=r"^Unsupported database engine: 'oracle'") as info:
        plugins.kernel.backend_class("oracle")
    assert "djanorm.backends" in str(info.value)
    assert "dotted path" in str(info.value)


def test_dotted_path_engine(fake_db: dict[str, str]) -> None:
    dorm.configure(DATABASES={"default": fake_db})
    conn = dorm.get_connection()
    conn.execute_script("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (%s)", [5])
    assert conn.execute("SELECT x * 2 FROM t") == [(10,)]


def test_dotted_path_to_something_that_is_not_a_backend() -> None:
    with pytest.raises(dorm.ImproperlyConfigured, match="is not a dorm.backends.base.BaseDatabaseWrapper subclass"):
        plugins.kernel.backend_class("collections.OrderedDict")
    with pytest.raises(dorm.ImproperlyConfigured, match=r"^Unsupported database engine: 'no_such_pkg_x.base'"):
        plugins.kernel.backend_class("no_such_pkg_x.base")


def test_new_backend_found_after_reset_backend_cache(
    entry_points: dict[str, list[EntryPoint]], fake_db: dict[str, str]
) -> None:
    db = dict(fake_db, ENGINE="fakedb")
    dorm.configure(DATABASES={"default": db})
    with pytest.raises(dorm.ImproperlyConfigured, match="^Unsupported database engine: 'fakedb'"):
        dorm.get_connection().execute("SELECT 1")

    # "pip install" the backend: its entry point appears, but the kernel has cached the scan
    entry_points[plugins.BACKENDS_GROUP].append(EntryPoint(name="fakedb", value=FAKE_EP, group=plugins.BACKENDS_GROUP))
    with pytest.raises(dorm.ImproperlyConfigured, match="^Unsupported database engine: 'fakedb'"):
        dorm.get_connection().execute("SELECT 1")

    dorm.reset_backend_cache()
    assert dorm.get_connection().execute("SELECT 40 + 2") == [(42,)]
    assert type(dorm.get_connection().backend).__module__ == "fake_backend.base"

    # found again after another reset (rescanned, not remembered)
    dorm.reset_backend_cache()
    assert plugins.kernel.backend_class("fakedb").vendor == "fakedb"


def test_backend_whose_import_fails_says_so(entry_points: dict[str, list[EntryPoint]]) -> None:
    entry_points[plugins.BACKENDS_GROUP].append(
        EntryPoint(name="brokendb", value="no_such_module_q.base:DatabaseWrapper", group=plugins.BACKENDS_GROUP)
    )
    with pytest.raises(dorm.ImproperlyConfigured, match="^Unsupported database engine: 'brokendb'") as info:
        plugins.kernel.backend_class("brokendb")
    assert "failed to import" in str(info.value)
