"""The kernel façade: implemented() and skipping, statement wrappers, autoload and its switch."""

from __future__ import annotations

import sys
from collections.abc import Generator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

import dorm
from dorm import plugins
from dorm.backends.base.statement import Statement


def test_fresh_kernel_has_no_implementations(kernel: plugins.Kernel) -> None:
    assert plugins.kernel is kernel
    for hook in ("dorm_statement", "dorm_pre_save", "dorm_query_pre_compile", "dorm_connection_acquired"):
        assert kernel.implemented(hook) is False
    assert kernel.statement_wrappers() == ()
    assert dict(kernel.public_names()) == {}


def test_activate_swaps_and_restores_the_global_kernel(kernel: plugins.Kernel) -> None:
    other = plugins.Kernel(autoload=False)
    previous = other.activate()
    assert previous is kernel and plugins.kernel is other
    previous.activate()
    assert plugins.kernel is kernel


def test_facade_skips_hooks_nobody_implements(kernel: plugins.Kernel) -> None:
    called: list[str] = []
    undo = kernel.pm.add_hookcall_monitoring(
        lambda hook_name, impls, kwargs: called.append(hook_name), lambda outcome, hook_name, impls, kwargs: None
    )
    try:
        kernel.pre_delete(object(), "default")  # type: ignore[arg-type]
        kernel.connection_acquired("default", object())
        kernel.connection_released("default", object(), False)
        assert called == []  # pluggy was never entered

        class Plugin:
            @dorm.hookimpl
            def dorm_connection_acquired(self, alias: str, connection: object) -> None:
                pass

        kernel.register(Plugin())
        called.clear()  # registration itself calls the historic dorm_addhooks
        kernel.connection_acquired("default", object())
        kernel.pre_delete(object(), "default")  # type: ignore[arg-type]
        assert called == ["dorm_connection_acquired"]
    finally:
        undo()


def test_registering_a_plugin_refreshes_implemented(kernel: plugins.Kernel) -> None:
    seen: list[tuple[object, str]] = []

    class Plugin:
        @dorm.hookimpl
        def dorm_pre_delete(self, instance: object, alias: str) -> None:
            seen.append((instance, alias))

    marker = object()
    kernel.pre_delete(marker, "default")  # type: ignore[arg-type]
    assert seen == [] and kernel.implemented("dorm_pre_delete") is False

    plugin = Plugin()
    version = kernel.version
    kernel.register(plugin)
    assert kernel.version > version
    assert kernel.implemented("dorm_pre_delete") is True
    kernel.pre_delete(marker, "other")  # type: ignore[arg-type]
    assert seen == [(marker, "other")]

    kernel.unregister(plugin)
    assert kernel.implemented("dorm_pre_delete") is False


def test_public_names_come_from_plugins(kernel: plugins.Kernel) -> None:
    class Exporter:
        @dorm.hookimpl
        def dorm_public_names(self) -> dict[str, Any]:
            return {"budget": "the budget object", "shiny_helper": len}

    kernel.register(Exporter())
    assert dorm.budget == "the budget object"
    from dorm import shiny_helper  # type: ignore[attr-defined]

    assert shiny_helper is len


# --------------------------------------------------------------------------
# dorm_statement wrappers on a real raw execute (SQLite)
# --------------------------------------------------------------------------


@pytest.fixture
def sqlite_db(tmp_path: Path) -> None:
    dorm.configure(DATABASES={"default": {"ENGINE": "sqlite", "NAME": str(tmp_path / "hooks.sqlite3")}})
    dorm.get_connection().execute_script("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, Any, str | None]] = []

    @dorm.hookimpl
    def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
        before = (statement.sql, statement.params)
        error: str | None = None
        try:
            yield
        except dorm.DatabaseError as exc:
            error = type(exc).__name__
            raise
        finally:
            self.seen.append((*before, statement.rows, error))


def test_statement_wrapper_sees_sql_params_and_rows(kernel: plugins.Kernel, sqlite_db: None) -> None:
    recorder = Recorder()
    kernel.register(recorder)
    assert kernel.implemented("dorm_statement")
    conn = dorm.get_connection()
    conn.execute("INSERT INTO item (name) VALUES (%s)", ["widget"])
    rows = conn.execute("SELECT id, name FROM item WHERE name = %s", ["widget"])
    assert rows == [(1, "widget")]
    insert, select = recorder.seen
    assert "INSERT INTO item" in insert[0] and list(insert[1]) == ["widget"] and insert[3] is None
    assert "SELECT id, name FROM item" in select[0] and list(select[1]) == ["widget"]
    assert select[2] == [(1, "widget")]

    with pytest.raises(dorm.IntegrityError):
        conn.execute("INSERT INTO item (name) VALUES (%s)", ["widget"])
    assert recorder.seen[-1][3] == "IntegrityError"

    kernel.unregister(recorder)
    conn.execute("SELECT 1")
    assert len(recorder.seen) == 3


def test_wrappers_nest_in_registration_order(kernel: plugins.Kernel, sqlite_db: None) -> None:
    events: list[str] = []

    def make(label: str) -> object:
        class Wrapper:
            @dorm.hookimpl
            def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
                events.append(f"{label}:before")
                yield
                events.append(f"{label}:after")

        return Wrapper()

    kernel.register(make("outer"))
    kernel.register(make("inner"))
    dorm.get_connection().execute("SELECT 1")
    assert events == ["outer:before", "inner:before", "inner:after", "outer:after"]


class BudgetLikeError(dorm.OperationalError):
    pass


def test_wrapper_may_replace_an_error(kernel: plugins.Kernel, sqlite_db: None) -> None:
    class Replacer:
        @dorm.hookimpl
        def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
            try:
                yield
            except dorm.ProgrammingError as exc:
                raise BudgetLikeError(f"replaced: {exc}") from exc

    kernel.register(Replacer())
    with pytest.raises(BudgetLikeError, match="replaced:") as info:
        dorm.get_connection().execute("SELECT * FROM no_such_table")
    assert isinstance(info.value.__cause__, dorm.DatabaseError)


def test_wrapper_cannot_swallow_an_error(kernel: plugins.Kernel, sqlite_db: None) -> None:
    class Swallower:
        @dorm.hookimpl
        def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
            try:
                yield
            except dorm.DatabaseError:
                return  # tries to hide the failure

    kernel.register(Swallower())
    with pytest.raises(dorm.DatabaseError, match="no_such_table"):
        dorm.get_connection().execute("SELECT * FROM no_such_table")


def test_wrapper_may_refuse_a_statement_after_it_ran(kernel: plugins.Kernel, sqlite_db: None) -> None:
    class RowCeiling:
        @dorm.hookimpl
        def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
            yield
            if statement.rows is not None and len(statement.rows) > 1:
                raise BudgetLikeError(f"Query returned {len(statement.rows)} rows")

    conn = dorm.get_connection()
    conn.execute("INSERT INTO item (name) VALUES (%s), (%s)", ["a", "b"])
    kernel.register(RowCeiling())
    assert conn.execute("SELECT name FROM item WHERE name = %s", ["a"]) == [("a",)]
    with pytest.raises(BudgetLikeError, match="Query returned 2 rows"):
        conn.execute("SELECT name FROM item")


async def test_statement_wrapper_sees_async_statements(kernel: plugins.Kernel, sqlite_db: None) -> None:
    recorder = Recorder()
    kernel.register(recorder)
    rows = await dorm.get_connection().aexecute("SELECT %s + 1", [41])
    assert rows == [(42,)]
    assert recorder.seen == [(recorder.seen[0][0], recorder.seen[0][1], [(42,)], None)]
    assert list(recorder.seen[0][1]) == [41]


# --------------------------------------------------------------------------
# autoload of djanorm.plugins and DORM_DISABLE_PLUGIN_AUTOLOAD
# --------------------------------------------------------------------------


@pytest.fixture
def autoload_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry_points: dict[str, list[EntryPoint]]) -> str:
    """A module registered under djanorm.plugins that exports one public name."""
    name = "dorm_autoload_probe"
    (tmp_path / f"{name}.py").write_text(
        "import dorm\n\n@dorm.hookimpl\ndef dorm_public_names():\n    return {'probe_value': 'loaded'}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    entry_points[plugins.PLUGINS_GROUP].append(EntryPoint(name="probe", value=name, group=plugins.PLUGINS_GROUP))
    return name


def test_plugins_autoload_once_on_first_need(autoload_plugin: str) -> None:
    fresh = plugins.Kernel()  # autoload decided by the environment
    assert autoload_plugin not in sys.modules
    assert fresh.public_names()["probe_value"] == "loaded"
    assert fresh.pm.get_plugin("probe") is sys.modules[autoload_plugin]
    fresh.ensure_loaded()
    assert len([p for p in fresh.pm.get_plugins() if p is sys.modules[autoload_plugin]]) == 1


def test_disable_plugin_autoload_switch(autoload_plugin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DORM_DISABLE_PLUGIN_AUTOLOAD", "1")
    fresh = plugins.Kernel()
    assert "probe_value" not in fresh.public_names()
    assert autoload_plugin not in sys.modules
    assert fresh.pm.get_plugin("probe") is None


def test_broken_plugin_says_who_it_is(entry_points: dict[str, list[EntryPoint]]) -> None:
    entry_points[plugins.PLUGINS_GROUP].append(
        EntryPoint(name="broken", value="no_such_module_for_dorm.plugin", group=plugins.PLUGINS_GROUP)
    )
    with pytest.raises(dorm.ImproperlyConfigured, match="Could not load djanorm plugin 'broken'") as info:
        plugins.Kernel().ensure_loaded()
    assert "DORM_DISABLE_PLUGIN_AUTOLOAD=1" in str(info.value)
