"""Test databases: derive their settings, create them, migrate them, drop them.

One set of test databases per pytest process: an xdist worker adds its id
(``PYTEST_XDIST_WORKER``, e.g. ``gw0``) to every name, so ``pytest -n 4``
never shares a database between workers.

* PostgreSQL: ``test_<NAME>[_<worker>]`` (or ``TEST["NAME"]``), created with
  ``CREATE DATABASE`` through an admin connection to the ``postgres``
  database with the alias's credentials; dropped at the end.
* A backend class that defines ``create_test_database(settings_dict)`` and
  ``destroy_test_database(settings_dict)`` (static or class methods; a
  server database of a third party): those, with ``NAME`` set to the test name.
* Any other backend (SQLite, DuckDB, third-party file databases): a file
  ``test_<name>[_<worker>]`` in a fresh temporary folder (or ``TEST["NAME"]``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NO_SETTINGS", "NoSettingsError", "TestDatabases", "build_schema", "test_database_name", "test_databases"]

NO_SETTINGS = (
    "pytest-djanorm found no dorm settings for the test databases. Fix one of: "
    "pass --dorm-settings=myproject.settings; set DORM_SETTINGS_MODULE; put a settings.py "
    "(defining DATABASES) in the directory you run pytest from; or override the "
    "`djanorm_settings` fixture in conftest.py to return a dict for dorm.configure()."
)


class NoSettingsError(Exception):
    """No settings to derive test databases from (the message says how to give them)."""


def worker_suffix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"_{worker}" if worker else ""


def test_database_name(config: Mapping[str, Any]) -> str:
    """``TEST["NAME"]`` if given, else ``test_<NAME>`` plus the xdist worker suffix."""
    explicit = (config.get("TEST") or {}).get("NAME")
    if explicit:
        return f"{explicit}{worker_suffix()}"
    base = os.path.basename(str(config.get("NAME") or "")) or "dorm"
    if base == ":memory:":
        base = "dorm"
    stem, dot, ext = base.partition(".")
    return f"test_{stem}{worker_suffix()}{dot}{ext}"


def _is_postgres(config: Mapping[str, Any]) -> bool:
    return str(config.get("ENGINE", "")).lower() in ("postgresql", "postgres", "pgsql", "dorm_postgres")


def _pg_conninfo(config: Mapping[str, Any], dbname: str) -> dict[str, Any]:
    info: dict[str, Any] = {"dbname": dbname, "connect_timeout": 5}
    for key, name in (("USER", "user"), ("PASSWORD", "password"), ("HOST", "host"), ("PORT", "port")):
        if config.get(key):
            info[name] = config[key]
    return info


def _backend_hooks(config: Mapping[str, Any]) -> Any:
    """The backend class when it creates its own test databases, else None."""
    from dorm import plugins

    plugins.kernel.ensure_loaded()
    cls = plugins.kernel.backend_class(str(config.get("ENGINE", "")))
    if callable(getattr(cls, "create_test_database", None)) and callable(getattr(cls, "destroy_test_database", None)):
        return cls
    return None


@dataclass
class TestDatabases:
    """The test settings derived from the real ones, and how to undo them."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    original: dict[str, Any]
    databases: dict[str, dict[str, Any]] = field(default_factory=dict)
    tempdir: str | None = None
    created_pg: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    created_by_backend: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def derive(cls, settings: Mapping[str, Any]) -> TestDatabases:
        from dorm.conf import normalize_database

        result = cls(dict(settings))
        raw = settings.get("DATABASES") or {}
        for alias, value in raw.items():
            config = normalize_database(alias, value)
            name = test_database_name(config)
            if _backend_hooks(config) is not None or _is_postgres(config):
                config["NAME"] = name
            else:
                if result.tempdir is None:
                    result.tempdir = tempfile.mkdtemp(prefix="pytest-djanorm-")
                config["NAME"] = os.path.join(result.tempdir, name)
            result.databases[alias] = config
        return result

    def activate(self) -> None:
        """Point dorm at the test databases again if something reconfigured it meanwhile (cheap when not)."""
        import dorm
        from dorm.conf import settings

        current = settings._values if settings.configured else None
        if current is None or current.get("DATABASES") != self.databases:
            dorm.configure(**self.test_settings())

    def test_settings(self) -> dict[str, Any]:
        values = dict(self.original)
        values["DATABASES"] = self.databases
        return values

    def create(self) -> None:
        """Create the server databases: through the backend's hooks, or PostgreSQL's CREATE DATABASE (leftovers dropped first)."""
        seen: set[tuple[Any, ...]] = set()
        for config in self.databases.values():
            hooks = _backend_hooks(config)
            if hooks is not None:
                hooks.create_test_database(config)
                self.created_by_backend.append((hooks, config))
                continue
            if not _is_postgres(config):
                continue
            key = (config.get("HOST"), config.get("PORT"), config["NAME"])
            if key in seen:  # two aliases on one database
                continue
            seen.add(key)
            self._create_pg(config)

    def _create_pg(self, config: dict[str, Any]) -> None:
        import psycopg
        from psycopg import sql

        name = config["NAME"]
        info = _pg_conninfo(config, "postgres")
        try:
            with psycopg.connect(**info, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise RuntimeError(
                f"pytest-djanorm could not create the test database {name!r} on "
                f"{config.get('HOST') or 'localhost'}:{config.get('PORT') or 5432}: {exc}. "
                "The user needs the CREATEDB privilege and access to the 'postgres' database; "
                "or point the alias at a server where it has them."
            ) from exc
        self.created_pg.append((config, name))

    def destroy(self) -> None:
        """Drop what :meth:`create` made and remove the temporary folder."""
        for config, name in self.created_pg:
            import psycopg  # only PostgreSQL aliases need it (dorm-postgres depends on it)
            from psycopg import sql

            try:
                with psycopg.connect(**_pg_conninfo(config, "postgres"), autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            except psycopg.Error:
                pass  # the server went away: nothing left to clean
        self.created_pg.clear()
        for hooks, config in reversed(self.created_by_backend):
            hooks.destroy_test_database(config)
        self.created_by_backend.clear()
        if self.tempdir is not None:
            shutil.rmtree(self.tempdir, ignore_errors=True)
            self.tempdir = None


@contextmanager
def test_databases(settings: Mapping[str, Any] | None, *, build: bool = True) -> Iterator[TestDatabases]:
    """Create the test databases for ``settings``, point dorm at them (and build the schema); undo at exit."""
    import dorm

    if not settings or not settings.get("DATABASES"):
        raise NoSettingsError(NO_SETTINGS)
    dbs = TestDatabases.derive(settings)
    dbs.create()
    try:
        dorm.configure(**dbs.test_settings())
        if build:
            build_schema(list(dbs.databases))
        yield dbs
    finally:
        dorm.close_all()
        dbs.destroy()


def build_schema(aliases: list[str]) -> None:
    """Apply migrations on every alias; create tables from models for installed apps without migrations.

    Models outside ``INSTALLED_APPS`` get no table (create them yourself with
    ``dorm.migrations.create_tables``)."""
    from dorm.migrations import api
    from dorm.migrations.loader import MigrationLoader, app_label_of, installed_apps
    from dorm.models.registry import apps as registry

    apps = installed_apps()
    labels = {app_label_of(a) for a in apps}
    loader = MigrationLoader(apps)
    migrated = {app_label_of(a) for a in apps if loader.app_migrations(app_label_of(a))}
    for alias in aliases:
        if migrated:
            api.migrate(using=alias)
        # import models of installed apps (migrate did it if there were migrations)
        _import_models(apps)
        plain = [
            m
            for m in registry.get_models(include_auto_created=False)
            if m._meta.app_label in labels and m._meta.app_label not in migrated
        ]
        plain = [m for m in plain if not getattr(m._meta, "abstract", False) and getattr(m._meta, "managed", True)]
        if plain:
            api.create_tables(plain, using=alias)


def _import_models(apps: list[str]) -> None:
    import importlib

    for app in apps:
        try:
            importlib.import_module(f"{app}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.models":
                raise
