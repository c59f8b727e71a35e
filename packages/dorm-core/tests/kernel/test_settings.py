"""Settings discovery (configure(), DORM_SETTINGS_MODULE, settings.py in the cwd), messages, URL keys, reconfigure."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

import dorm
from dorm import conf
from dorm.db.connections import connections
from dorm.db.router import router


def write_settings_module(folder: Path, name: str, db_name: str, engine: str = "sqlite") -> None:
    (folder / f"{name}.py").write_text(
        f"DATABASES = {{'default': {{'ENGINE': {engine!r}, 'NAME': {db_name!r}}}}}\n"
        "SLOW_QUERY_MS = 123\n"
        "lowercase_is_not_a_setting = 1\n"
    )


# --------------------------------------------------------------------------
# discovery paths
# --------------------------------------------------------------------------


def test_configure_in_code() -> None:
    dorm.configure(DATABASES={"default": {"ENGINE": "sqlite", "NAME": "app.db"}}, USE_TZ=False)
    assert conf.settings.source == "dorm.configure()"
    assert conf.settings.USE_TZ is False
    default = conf.settings.DATABASES["default"]
    assert (default["ENGINE"], default["NAME"]) == ("sqlite", "app.db")
    # defaults filled for every alias key SPEC §3 lists
    assert (default["MIN_POOL_SIZE"], default["MAX_POOL_SIZE"], default["POOL_TIMEOUT"]) == (1, 10, 30.0)


def test_dorm_settings_module_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"proj_settings_{uuid.uuid4().hex}"
    write_settings_module(tmp_path, name, "from-env.db")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("DORM_SETTINGS_MODULE", name)
    assert conf.settings.DATABASES["default"]["NAME"] == "from-env.db"
    assert conf.settings.SLOW_QUERY_MS == 123
    assert conf.settings.source == name
    with pytest.raises(AttributeError):
        conf.settings.lowercase_is_not_a_setting  # noqa: B018


def test_dorm_settings_module_that_cannot_be_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DORM_SETTINGS_MODULE", "no_such_pkg_for_dorm.settings")
    with pytest.raises(dorm.ImproperlyConfigured, match=r"DORM_SETTINGS_MODULE='no_such_pkg_for_dorm.settings'"):
        conf.settings.DATABASES  # noqa: B018


def test_settings_py_in_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_settings_module(tmp_path, "settings", "from-cwd.db")
    monkeypatch.chdir(tmp_path)
    assert conf.settings.DATABASES["default"]["NAME"] == "from-cwd.db"
    assert conf.settings.source == str(tmp_path / "settings.py")


def test_env_module_wins_over_settings_py(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_settings_module(tmp_path, "settings", "from-cwd.db")
    name = f"proj_settings_{uuid.uuid4().hex}"
    write_settings_module(tmp_path, name, "from-env.db")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DORM_SETTINGS_MODULE", name)
    assert conf.settings.DATABASES["default"]["NAME"] == "from-env.db"


def test_configure_wins_over_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_settings_module(tmp_path, "settings", "from-cwd.db")
    monkeypatch.chdir(tmp_path)
    dorm.configure(DATABASES={"default": {"ENGINE": "sqlite", "NAME": "from-code.db"}})
    assert conf.settings.DATABASES["default"]["NAME"] == "from-code.db"


# --------------------------------------------------------------------------
# the seed's messages
# --------------------------------------------------------------------------


def test_not_configured_message_names_the_three_fixes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no settings.py here, no env var, no configure()
    with pytest.raises(dorm.ImproperlyConfigured) as info:
        dorm.get_connection()
    message = str(info.value)
    assert message.startswith("DATABASES is not configured")
    assert "DORM_SETTINGS_MODULE=myproject.settings" in message
    assert "dorm.configure(DATABASES={...})" in message
    assert "run from the directory containing settings.py" in message


def test_not_configured_when_settings_module_has_no_databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings.py").write_text("USE_TZ = True\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(dorm.ImproperlyConfigured, match="^DATABASES is not configured"):
        dorm.get_connection()


def test_alias_not_found_via_get_connection(fake_db: dict[str, str]) -> None:
    dorm.configure(DATABASES={"default": fake_db})
    with pytest.raises(dorm.ImproperlyConfigured) as info:
        dorm.get_connection("replica")
    message = str(info.value)
    assert message.startswith("Database alias 'replica' not found")
    assert "Add 'replica' to DATABASES" in message
    assert "router" in message


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: Any, **hints: Any) -> None:
        return None


def test_alias_not_found_via_router(fake_db: dict[str, str]) -> None:
    dorm.configure(DATABASES={"default": fake_db}, DATABASE_ROUTERS=[ReplicaRouter()])
    with pytest.raises(dorm.ImproperlyConfigured, match="^Database alias 'replica' not found"):
        router.db_for_read(None)
    assert router.db_for_write(None) == "default"


def test_router_returning_an_existing_alias(fake_db: dict[str, str], tmp_path: Path) -> None:
    replica = dict(fake_db, NAME=str(tmp_path / "replica.sqlite3"))
    dorm.configure(DATABASES={"default": fake_db, "replica": replica}, DATABASE_ROUTERS=[ReplicaRouter])
    assert router.db_for_read(None) == "replica"


def test_missing_default_alias_and_engine() -> None:
    with pytest.raises(dorm.ImproperlyConfigured, match="no 'default' alias"):
        dorm.configure(DATABASES={"main": {"ENGINE": "sqlite", "NAME": "x.db"}})
    with pytest.raises(dorm.ImproperlyConfigured, match=r"DATABASES\['default'\] has no ENGINE"):
        dorm.configure(DATABASES={"default": {"NAME": "x.db"}})


# --------------------------------------------------------------------------
# URL keys
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://app:p%40ss@db.example.com:6543/shop?sslmode=require",
            {
                "ENGINE": "postgresql",
                "NAME": "shop",
                "USER": "app",
                "PASSWORD": "p@ss",
                "HOST": "db.example.com",
                "PORT": 6543,
                "OPTIONS": {"sslmode": "require"},
            },
        ),
        ("postgres://localhost/shop", {"ENGINE": "postgresql", "NAME": "shop", "HOST": "localhost", "PORT": ""}),
        ("sqlite:///relative.db", {"ENGINE": "sqlite", "NAME": "relative.db"}),
        ("sqlite:////srv/data/app.db", {"ENGINE": "sqlite", "NAME": "/srv/data/app.db"}),
        ("sqlite://", {"ENGINE": "sqlite", "NAME": ":memory:"}),
        ("sqlite:///:memory:", {"ENGINE": "sqlite", "NAME": ":memory:"}),
        ("duckdb:///warehouse.duckdb", {"ENGINE": "duckdb", "NAME": "warehouse.duckdb"}),
    ],
)
def test_url_key(url: str, expected: dict[str, Any]) -> None:
    dorm.configure(DATABASES={"default": {"URL": url}})
    default = conf.settings.DATABASES["default"]
    assert {key: default[key] for key in expected} == expected
    assert default["MAX_POOL_SIZE"] == 10  # defaults still filled


def test_url_string_alias_and_explicit_keys_win() -> None:
    dorm.configure(
        DATABASES={
            "default": "sqlite:///a.db",
            "other": {"URL": "postgresql://u@h/db", "NAME": "override", "MAX_POOL_SIZE": 3},
        }
    )
    assert conf.settings.DATABASES["default"]["NAME"] == "a.db"
    other = conf.settings.DATABASES["other"]
    assert (other["NAME"], other["USER"], other["MAX_POOL_SIZE"]) == ("override", "u", 3)


def test_url_without_scheme_is_refused() -> None:
    with pytest.raises(dorm.ImproperlyConfigured, match="has no scheme"):
        dorm.configure(DATABASES={"default": {"URL": "just-a-path.db"}})


# --------------------------------------------------------------------------
# reconfiguration
# --------------------------------------------------------------------------


def test_reconfigure_closes_only_changed_aliases(fake_db: dict[str, str], tmp_path: Path) -> None:
    other = dict(fake_db, NAME=str(tmp_path / "other.sqlite3"))
    dorm.configure(DATABASES={"default": fake_db, "other": other})
    assert dorm.get_connection("default").execute("SELECT 1") == [(1,)]
    assert dorm.get_connection("other").execute("SELECT 2") == [(2,)]
    default_before = connections["default"]
    other_before = connections["other"]

    moved = dict(other, NAME=str(tmp_path / "moved.sqlite3"))
    dorm.configure(DATABASES={"default": dict(fake_db), "other": moved})

    assert connections["default"] is default_before
    assert not default_before.closed  # type: ignore[attr-defined]
    assert other_before.closed  # type: ignore[attr-defined]
    other_after = connections["other"]
    assert other_after is not other_before
    assert other_after.settings_dict["NAME"] == moved["NAME"]
    dorm.get_connection("other").execute("CREATE TABLE t (x)")
    assert (tmp_path / "moved.sqlite3").exists()


def test_reconfigure_drops_removed_aliases(fake_db: dict[str, str], tmp_path: Path) -> None:
    other = dict(fake_db, NAME=str(tmp_path / "other.sqlite3"))
    dorm.configure(DATABASES={"default": fake_db, "other": other})
    other_before = connections["other"]
    dorm.configure(DATABASES={"default": fake_db})
    assert other_before.closed  # type: ignore[attr-defined]
    with pytest.raises(dorm.ImproperlyConfigured, match="^Database alias 'other' not found"):
        dorm.get_connection("other")
