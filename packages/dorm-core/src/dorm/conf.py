"""Settings: ``dorm.configure(...)``, ``DORM_SETTINGS_MODULE``, or ``settings.py`` in the working directory.

Resolution order on first use (first that applies wins):

1. whatever ``dorm.configure(...)`` was given;
2. the module named by the ``DORM_SETTINGS_MODULE`` environment variable
   (the CLI's ``--settings=module`` sets it);
3. a ``settings.py`` in the current working directory.

Only UPPER_CASE names are settings.  ``configure()`` may be called again:
aliases whose settings changed get their connections and pools closed (and
reopened lazily); the others keep theirs.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from dorm.exceptions import ImproperlyConfigured

__all__ = ["DEFAULT_ALIAS_SETTINGS", "Settings", "configure", "normalize_database", "settings"]

SETTINGS_ENV: Final = "DORM_SETTINGS_MODULE"

NOT_CONFIGURED_MESSAGE: Final = (
    "DATABASES is not configured. dorm found no settings before the first query. Fix it by one of:\n"
    "  - set DORM_SETTINGS_MODULE=myproject.settings (a module defining DATABASES), or\n"
    "  - call dorm.configure(DATABASES={...}) at app start (e.g. in a FastAPI lifespan), or\n"
    "  - run from the directory containing settings.py."
)

#: Defaults applied to every alias in ``DATABASES``.
DEFAULT_ALIAS_SETTINGS: Final[Mapping[str, Any]] = {
    "NAME": "",
    "USER": "",
    "PASSWORD": "",
    "HOST": "",
    "PORT": "",
    "OPTIONS": {},
    "MIN_POOL_SIZE": 1,
    "MAX_POOL_SIZE": 10,
    "POOL_TIMEOUT": 30.0,
    "POOL_CHECK": False,
    "MAX_IDLE": 600.0,
    "MAX_LIFETIME": 3600.0,
    "PREPARE_THRESHOLD": 5,
    "ATOMIC_REQUESTS": False,
    "TEST": {},
}

#: Defaults of the global settings.
DEFAULT_SETTINGS: Final[Mapping[str, Any]] = {
    "INSTALLED_APPS": [],
    "DATABASE_ROUTERS": [],
    "USE_TZ": True,
    "TIME_ZONE": "UTC",
    # Statements slower than this are logged at WARNING on the ``dorm.db`` logger.
    "SLOW_QUERY_MS": 500.0,
    "DEFAULT_AUTO_FIELD": "dorm.BigAutoField",
}

_URL_SCHEMES: Final[Mapping[str, str]] = {
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "pgsql": "postgresql",
    "duckdb": "duckdb",
}


def parse_database_url(url: str) -> dict[str, Any]:
    """Turn ``postgresql://user:pw@host:5432/db?sslmode=require`` or
    ``sqlite:///path.db`` into alias settings."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    engine = _URL_SCHEMES.get(scheme, scheme)
    if not engine:
        raise ImproperlyConfigured(f"Database URL {url!r} has no scheme (expected e.g. postgresql:// or sqlite:///).")
    if engine in ("sqlite", "duckdb"):
        # sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:, sqlite://
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        name = unquote(path.split("?", 1)[0]) or ":memory:"
        return {"ENGINE": engine, "NAME": name, "OPTIONS": dict(parse_qsl(parts.query))}
    return {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": parts.port or "",
        "OPTIONS": dict(parse_qsl(parts.query)),
    }


def normalize_database(alias: str, raw: Mapping[str, Any] | str) -> dict[str, Any]:
    """Fill defaults, expand ``URL`` and check an alias's settings."""
    if isinstance(raw, str):
        raw = {"URL": raw}
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(f"DATABASES[{alias!r}] must be a dict (or a URL string), not {type(raw).__name__}.")
    config: dict[str, Any] = dict(DEFAULT_ALIAS_SETTINGS)
    if raw.get("URL"):
        config.update(parse_database_url(str(raw["URL"])))
    config.update({k: v for k, v in raw.items() if k != "URL"})
    config["OPTIONS"] = dict(config.get("OPTIONS") or {})
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(
            f"DATABASES[{alias!r}] has no ENGINE. Set ENGINE (e.g. 'sqlite' or 'postgresql') "
            "or a URL such as 'sqlite:///db.sqlite3'."
        )
    if int(config["MAX_POOL_SIZE"]) < 1 or int(config["MIN_POOL_SIZE"]) < 0:
        raise ImproperlyConfigured(f"DATABASES[{alias!r}]: MAX_POOL_SIZE must be >= 1 and MIN_POOL_SIZE >= 0.")
    if int(config["MIN_POOL_SIZE"]) > int(config["MAX_POOL_SIZE"]):
        raise ImproperlyConfigured(
            f"DATABASES[{alias!r}]: MIN_POOL_SIZE ({config['MIN_POOL_SIZE']}) is larger than "
            f"MAX_POOL_SIZE ({config['MAX_POOL_SIZE']})."
        )
    return config


class Settings:
    """The settings in force.  Attribute access: ``settings.DATABASES``.

    ``DATABASES`` is normalised (defaults filled, ``URL`` expanded).  Reading
    any attribute triggers discovery the first time.
    """

    def __init__(self) -> None:
        self._values: dict[str, Any] | None = None
        self._lock = threading.RLock()
        self.source: str | None = None

    # -- discovery ------------------------------------------------------------

    @property
    def configured(self) -> bool:
        """True once settings were given or discovered."""
        return self._values is not None

    def _setup(self) -> dict[str, Any]:
        values = self._values
        if values is not None:
            return values
        with self._lock:
            if self._values is None:
                module_values, source = _discover()
                if module_values is None:
                    raise ImproperlyConfigured(NOT_CONFIGURED_MESSAGE)
                self._apply(module_values, source)
            assert self._values is not None
            return self._values

    def try_setup(self) -> bool:
        """Discover settings if possible; False (instead of an error) when there are none."""
        try:
            self._setup()
        except ImproperlyConfigured as exc:
            if str(exc) == NOT_CONFIGURED_MESSAGE:
                return False
            raise
        return True

    def _apply(self, given: Mapping[str, Any], source: str) -> None:
        values: dict[str, Any] = dict(DEFAULT_SETTINGS)
        values.update({k: v for k, v in given.items() if k.isupper()})
        databases = values.get("DATABASES")
        if not databases:
            raise ImproperlyConfigured(NOT_CONFIGURED_MESSAGE)
        if not isinstance(databases, Mapping):
            raise ImproperlyConfigured("DATABASES must be a dict of alias -> settings.")
        if "default" not in databases:
            raise ImproperlyConfigured(
                "DATABASES has no 'default' alias. Name one of your databases 'default'; "
                "dorm uses it when no router or using() picks another."
            )
        values["DATABASES"] = {alias: normalize_database(alias, raw) for alias, raw in databases.items()}
        previous = self._values
        self._values = values
        self.source = source
        from dorm import plugins

        if previous is not None:
            _close_changed_aliases(previous.get("DATABASES", {}), values["DATABASES"])
        _reset_routers()
        from dorm.db import executor

        executor.set_slow_query_threshold(values.get("SLOW_QUERY_MS"))
        plugins.kernel.configure(self)

    # -- access ---------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not name.isupper():
            raise AttributeError(name)
        values = self._setup()
        try:
            return values[name]
        except KeyError:
            raise AttributeError(f"Setting {name!r} is not defined.") from None

    def get(self, name: str, default: Any = None) -> Any:
        """A setting's value, or ``default`` when it is not set."""
        return self._setup().get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._setup())

    def database(self, alias: str) -> dict[str, Any]:
        """One alias's normalised settings, or ``Database alias '<alias>' not found``."""
        databases: dict[str, dict[str, Any]] = self._setup()["DATABASES"]
        try:
            return databases[alias]
        except KeyError:
            known = ", ".join(repr(a) for a in databases)
            raise ImproperlyConfigured(
                f"Database alias {alias!r} not found. DATABASES defines: {known}. "
                f"Add {alias!r} to DATABASES, or fix the using() call or router that asked for it "
                "so it only returns aliases that exist."
            ) from None

    def reset(self) -> None:
        """Forget the settings (tests).  Connections of every alias are closed."""
        with self._lock:
            if self._values is not None:
                _close_changed_aliases(self._values.get("DATABASES", {}), {})
            self._values = None
            self.source = None
            _reset_routers()


def _discover() -> tuple[dict[str, Any] | None, str]:
    module_name = os.environ.get(SETTINGS_ENV)
    if module_name:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"{SETTINGS_ENV}={module_name!r} could not be imported: {exc}. "
                "Check the module path and that its folder is on sys.path (run from the project root)."
            ) from exc
        return vars(module), module_name
    path = os.path.join(os.getcwd(), "settings.py")
    if os.path.isfile(path):
        existing = sys.modules.get("settings")
        if existing is not None and os.path.abspath(getattr(existing, "__file__", "") or "") == path:
            return vars(existing), path
        spec = importlib.util.spec_from_file_location("settings", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["settings"] = module
        spec.loader.exec_module(module)
        return vars(module), path
    return None, ""


def _close_changed_aliases(old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    from dorm.db import connections

    for alias, config in old.items():
        if new.get(alias) != config:
            connections.discard(alias)


def _reset_routers() -> None:
    from dorm.db import router

    router.reset()


settings: Final = Settings()


def configure(**values: Any) -> Settings:
    """Configure dorm in code (call it at app start).

    Example::

        dorm.configure(DATABASES={"default": {"ENGINE": "sqlite", "NAME": "app.db"}})

    Calling it again replaces the settings; aliases whose settings changed
    have their connections and pools closed and reopened lazily.
    """
    with settings._lock:
        settings._apply(values, "dorm.configure()")
    return settings
