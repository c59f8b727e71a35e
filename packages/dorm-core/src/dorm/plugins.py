"""The plugin kernel: entry point discovery, lazy loading and a typed hook façade.

Everything in the core that calls a hook goes through :data:`kernel`
(a :class:`Kernel`), never through ``pm.hook`` directly.  The kernel knows
which hooks have implementations and caches that answer until the set of
plugins changes, so the hot path pays nothing for hooks nobody implements.

Entry point groups:

``djanorm.plugins``
    feature plugins: a module or object with ``dorm.hookimpl`` functions.
``djanorm.backends``
    ``name = "package.module:DatabaseWrapper"``; looked up by ``ENGINE``.
``djanorm.contrib``
    ``name = "package.module"``; served as ``dorm.contrib.<name>``.

Set ``DORM_DISABLE_PLUGIN_AUTOLOAD=1`` to skip ``djanorm.plugins`` entry
points (backends and contrib modules are still found, since configuration
names them explicitly).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast

import pluggy

from dorm import hookspecs
from dorm.exceptions import ImproperlyConfigured, MissingPluginError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.backends.base.statement import Statement
    from dorm.cli.base import Command
    from dorm.conf import Settings
    from dorm.models.base import Model
    from dorm.sql.query import Query

__all__ = [
    "KNOWN_BACKENDS",
    "KNOWN_CONTRIB",
    "KNOWN_PUBLIC_NAMES",
    "Kernel",
    "hookimpl",
    "hookspec",
    "kernel",
    "reset_backend_cache",
]

hookimpl: Final = pluggy.HookimplMarker("dorm")
#: For plugins publishing their own hook specs from ``dorm_addhooks``.
hookspec: Final = pluggy.HookspecMarker("dorm")

PLUGINS_GROUP: Final = "djanorm.plugins"
BACKENDS_GROUP: Final = "djanorm.backends"
CONTRIB_GROUP: Final = "djanorm.contrib"
AUTOLOAD_ENV: Final = "DORM_DISABLE_PLUGIN_AUTOLOAD"

# Names that belong to our own optional distributions: (distribution, extra).
KNOWN_PUBLIC_NAMES: Final[Mapping[str, tuple[str, str]]] = {
    "budget": ("dorm-resilience", "resilience"),
    "Budget": ("dorm-resilience", "resilience"),
    "circuit_breaker": ("dorm-resilience", "resilience"),
    "CircuitBreaker": ("dorm-resilience", "resilience"),
    "TenantModel": ("dorm-tenancy", "tenancy"),
    "current_tenant": ("dorm-tenancy", "tenancy"),
    "get_current_tenant": ("dorm-tenancy", "tenancy"),
    "TenantManager": ("dorm-tenancy", "tenancy"),
}
KNOWN_CONTRIB: Final[Mapping[str, tuple[str, str]]] = {
    "nplusone": ("dorm-resilience", "resilience"),
}
# ENGINE names served by our distributions: (distribution, extra or "" when `djanorm` itself has it).
KNOWN_BACKENDS: Final[Mapping[str, tuple[str, str]]] = {
    "sqlite": ("dorm-sqlite", ""),
    "sqlite3": ("dorm-sqlite", ""),
    "postgresql": ("dorm-postgres", "postgresql"),
    "postgres": ("dorm-postgres", "postgres"),
    "duckdb": ("dorm-duckdb", "duckdb"),
}

_StatementWrapper = Callable[["Statement"], Generator[None, None, None]]
#: key of the cached "any statement-path hook?" answer in ``Kernel._implemented`` (not a hook name)
_STATEMENT_PATH = " statement path"


def _entry_points(group: str) -> list[EntryPoint]:
    from importlib.metadata import entry_points

    return list(entry_points(group=group))


class Kernel:
    """The plugin manager façade.  One global instance, :data:`kernel`;
    tests may build their own and swap it in with :meth:`Kernel.activate`."""

    def __init__(self, *, autoload: bool | None = None) -> None:
        self.pm = pluggy.PluginManager("dorm")
        self.pm.add_hookspecs(hookspecs)
        # Called once: pluggy replays a historic call to every plugin registered later, so
        # registering (which plugins do per active feature) neither re-calls earlier plugins'
        # dorm_addhooks nor grows the call history.
        self.pm.hook.dorm_addhooks.call_historic(kwargs={"pluginmanager": self.pm})
        self._autoload = autoload
        self._loaded = False
        self._lock = threading.RLock()
        self._implemented: dict[str, bool] = {}
        self._express: dict[type[Model], bool] = {}
        self._wrappers: tuple[_StatementWrapper, ...] | None = None
        self._public_names: dict[str, Any] | None = None
        self._backend_eps: dict[str, EntryPoint] | None = None
        self._backend_classes: dict[str, type[BaseDatabaseWrapper]] = {}
        self._contrib_eps: dict[str, EntryPoint] | None = None
        self._version = 0

    # -- registration -------------------------------------------------------

    @property
    def version(self) -> int:
        """Bumped every time the set of plugins changes."""
        return self._version

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register a plugin object (module, class or instance) and refresh the caches."""
        with self._lock:
            if name is not None and self.pm.get_plugin(name) is not None:
                return name
            # dorm_addhooks is historic (called once in __init__): pluggy replays it to this plugin.
            result = self.pm.register(plugin, name)
            self._invalidate()
            return result

    def unregister(self, plugin: object | None = None, name: str | None = None) -> None:
        """Unregister a plugin (by object or name) and refresh the caches."""
        with self._lock:
            if plugin is None and name is not None:
                plugin = self.pm.get_plugin(name)
            if plugin is not None and self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._invalidate()

    def is_registered(self, plugin: object) -> bool:
        return self.pm.is_registered(plugin)

    def _invalidate(self) -> None:
        self._implemented.clear()
        self._express.clear()
        self._wrappers = None
        self._public_names = None
        self._version += 1

    # -- loading ------------------------------------------------------------

    def ensure_loaded(self) -> None:
        """Load ``djanorm.plugins`` entry points once (unless autoload is disabled)."""
        if self._loaded:
            return
        with self._lock:
            if not self._claim_loading():
                return
            autoload = self._autoload
            if autoload is None:
                autoload = not os.environ.get(AUTOLOAD_ENV)
            if not autoload:
                return
            for ep in _entry_points(PLUGINS_GROUP):
                if self.pm.get_plugin(ep.name) is not None:
                    continue
                try:
                    plugin = ep.load()
                except Exception as exc:  # a broken plugin must say who it is
                    raise ImproperlyConfigured(
                        f"Could not load djanorm plugin {ep.name!r} ({ep.value}) "
                        f"from the {PLUGINS_GROUP!r} entry point group: {exc}. "
                        f"Reinstall or remove the distribution that provides it, or set "
                        f"{AUTOLOAD_ENV}=1 to start without plugins."
                    ) from exc
                self.register(plugin, name=ep.name)

    def _claim_loading(self) -> bool:
        """True for the one caller that gets to load (double-checked under the lock)."""
        if self._loaded:
            return False
        self._loaded = True
        return True

    # -- backends -----------------------------------------------------------

    def backend_class(self, engine: str) -> type[BaseDatabaseWrapper]:
        """Resolve an ``ENGINE`` value: a registered backend name, else a dotted path.

        Raises ``ImproperlyConfigured: Unsupported database engine: '<name>'``
        with an install hint when the name is one of ours.
        """
        cls = self._backend_classes.get(engine)
        if cls is not None:
            return cls
        with self._lock:
            if self._backend_eps is None:
                self._backend_eps = {ep.name: ep for ep in _entry_points(BACKENDS_GROUP)}
            ep = self._backend_eps.get(engine)
            if ep is not None:
                try:
                    loaded = ep.load()
                except ImportError as exc:
                    raise ImproperlyConfigured(
                        f"Unsupported database engine: {engine!r} (its backend "
                        f"{ep.value!r} failed to import: {exc}). {_install_hint(engine)}"
                    ) from exc
            elif "." in engine or ":" in engine:
                loaded = _import_dotted(engine)
            else:
                raise ImproperlyConfigured(f"Unsupported database engine: {engine!r}. {_install_hint(engine)}")
            cls = _as_backend_class(engine, loaded)
            self._backend_classes[engine] = cls
            return cls

    def reset_backend_cache(self) -> None:
        """Forget discovered backends and contrib modules so new installs are found."""
        with self._lock:
            self._backend_eps = None
            self._backend_classes.clear()
            self._contrib_eps = None
            importlib.invalidate_caches()
            # importlib.metadata caches distribution lookups on the path finders.
            for finder in sys.meta_path:
                invalidate = getattr(finder, "invalidate_caches", None)
                if invalidate is not None:
                    try:
                        invalidate()
                    except Exception:  # pragma: no cover - third-party finders
                        pass

    # -- contrib ------------------------------------------------------------

    def contrib_target(self, name: str) -> str | None:
        """The module path registered as ``dorm.contrib.<name>``, if any."""
        with self._lock:
            if self._contrib_eps is None:
                self._contrib_eps = {ep.name: ep for ep in _entry_points(CONTRIB_GROUP)}
            ep = self._contrib_eps.get(name)
        return None if ep is None else ep.value.split(":", 1)[0]

    # -- typed hook calls ---------------------------------------------------

    def implemented(self, hook_name: str) -> bool:
        """True when at least one plugin implements ``hook_name`` (cached)."""
        found = self._implemented.get(hook_name)
        if found is None:
            caller = getattr(self.pm.hook, hook_name)
            found = bool(caller.get_hookimpls())
            self._implemented[hook_name] = found
        return found

    def statement_wrappers(self) -> tuple[_StatementWrapper, ...]:
        """The ``dorm_statement`` implementations, outermost first (cached)."""
        wrappers = self._wrappers
        if wrappers is None:
            impls = self.pm.hook.dorm_statement.get_hookimpls()
            # get_hookimpls() lists implementations in registration order (pluggy *calls*
            # them last-registered first); the contract is "first registered is outermost".
            wrappers = tuple(cast("_StatementWrapper", impl.function) for impl in impls)
            self._wrappers = wrappers
        return wrappers

    def statement_path_hooked(self) -> bool:
        """True when a plugin wraps statements (``dorm_statement``) or watches connection
        checkouts (``dorm_connection_acquired`` / ``_released``); the executor skips those
        steps otherwise (cached with the other hook caches)."""
        found = self._implemented.get(_STATEMENT_PATH)
        if found is None:
            found = bool(self.statement_wrappers()) or any(
                self.implemented(name) for name in ("dorm_connection_acquired", "dorm_connection_released")
            )
            self._implemented[_STATEMENT_PATH] = found
        return found

    def pre_compile_applies(self, model: type[Model]) -> bool:
        """True when some ``dorm_query_pre_compile`` may change a query of ``model`` alone
        (each implementing plugin is asked through ``dorm_query_pre_compile_applies``)."""
        if not self.implemented("dorm_query_pre_compile"):
            return False
        deciders = {
            impl.plugin_name: impl.function for impl in self.pm.hook.dorm_query_pre_compile_applies.get_hookimpls()
        }
        for impl in self.pm.hook.dorm_query_pre_compile.get_hookimpls():
            decide = deciders.get(impl.plugin_name)
            if decide is None or decide(model=model) is not False:
                return True
        return False

    def express_lane(self, model: type[Model]) -> bool:
        """True when no plugin would change or watch a one-table statement of ``model``:
        no statement-path hook and no pre-compile hook that applies to it (cached per model)."""
        found = self._express.get(model)
        if found is None:
            found = not self.statement_path_hooked() and not self.pre_compile_applies(model)
            if len(self._express) > 4096:  # models made on the fly (tests) must not pile up
                self._express.clear()
            self._express[model] = found
        return found

    def configure(self, settings: Settings) -> None:
        self.ensure_loaded()
        self.pm.hook.dorm_configure.call_historic(kwargs={"settings": settings})

    def class_prepared(self, model: type[Model]) -> None:
        self.ensure_loaded()
        if self.implemented("dorm_class_prepared"):
            self.pm.hook.dorm_class_prepared(model=model)

    def query_pre_compile(self, query: Query, alias: str) -> None:
        if self.implemented("dorm_query_pre_compile"):
            self.pm.hook.dorm_query_pre_compile(query=query, alias=alias)

    def pre_save(self, instance: Model, alias: str, adding: bool, update_fields: frozenset[str] | None) -> None:
        if self.implemented("dorm_pre_save"):
            self.pm.hook.dorm_pre_save(instance=instance, alias=alias, adding=adding, update_fields=update_fields)

    def pre_delete(self, instance: Model, alias: str) -> None:
        if self.implemented("dorm_pre_delete"):
            self.pm.hook.dorm_pre_delete(instance=instance, alias=alias)

    def pre_bulk_write(self, model: type[Model], objs: list[Model], alias: str, kind: str) -> None:
        if self.implemented("dorm_pre_bulk_write"):
            self.pm.hook.dorm_pre_bulk_write(model=model, objs=objs, alias=alias, kind=kind)

    def connection_acquired(self, alias: str, connection: Any) -> None:
        if self.implemented("dorm_connection_acquired"):
            self.pm.hook.dorm_connection_acquired(alias=alias, connection=connection)

    def connection_released(self, alias: str, connection: Any, broken: bool) -> None:
        if self.implemented("dorm_connection_released"):
            self.pm.hook.dorm_connection_released(alias=alias, connection=connection, broken=broken)

    def cli_commands(self) -> list[Command]:
        self.ensure_loaded()
        commands: list[Command] = []
        for result in self.pm.hook.dorm_cli_commands():
            commands.extend(result or ())
        return commands

    def public_names(self) -> Mapping[str, Any]:
        """Every name plugins export onto ``dorm`` (loads plugins on first use)."""
        names = self._public_names
        if names is None:
            self.ensure_loaded()
            names = {}
            for mapping in reversed(self.pm.hook.dorm_public_names()):
                names.update(mapping or {})
            self._public_names = names
        return names

    # -- swapping (tests) ---------------------------------------------------

    def activate(self) -> Kernel:
        """Make this kernel the global one; returns the previous kernel."""
        global kernel
        previous = kernel
        kernel = self
        return previous


def _install_hint(engine: str) -> str:
    known = KNOWN_BACKENDS.get(engine)
    if known is None:
        return (
            "Use a registered backend name (sqlite, postgresql, duckdb, or one a third-party "
            f"package registers in the {BACKENDS_GROUP!r} entry point group) or a dotted path "
            "to a backend class. If you just installed a backend, call dorm.reset_backend_cache()."
        )
    dist, extra = known
    install = f"pip install 'djanorm[{extra}]'" if extra else "pip install djanorm"
    return (
        f"ENGINE {engine!r} requires the {dist} distribution: {install} "
        f"(from a checkout of djanorm, not the unrelated 'djanorm' on PyPI: add ./packages/{dist} "
        "to the one pip install of the package paths). If it is already installed, check the active virtualenv with `dorm --version` "
        "(it lists every installed djanorm distribution) and call dorm.reset_backend_cache()."
    )


def _import_dotted(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    if not attr:
        try:
            return importlib.import_module(path)
        except ImportError:
            module_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImproperlyConfigured(f"Unsupported database engine: {path!r} ({exc}).") from exc
    try:
        return getattr(module, attr) if attr else module
    except AttributeError as exc:
        raise ImproperlyConfigured(
            f"Unsupported database engine: {path!r} ({module_name!r} has no attribute {attr!r})."
        ) from exc


def _as_backend_class(engine: str, loaded: Any) -> type[BaseDatabaseWrapper]:
    from dorm.backends.base.base import BaseDatabaseWrapper

    if isinstance(loaded, type) and issubclass(loaded, BaseDatabaseWrapper):
        return loaded
    candidate = getattr(loaded, "DatabaseWrapper", None)
    if isinstance(candidate, type) and issubclass(candidate, BaseDatabaseWrapper):
        return candidate
    raise ImproperlyConfigured(
        f"Unsupported database engine: {engine!r} ({loaded!r} is not a "
        "dorm.backends.base.BaseDatabaseWrapper subclass)."
    )


#: The active kernel.  Core code reads it as ``plugins.kernel`` (module
#: attribute) so that :meth:`Kernel.activate` swaps it everywhere.
kernel: Kernel = Kernel()


def reset_backend_cache() -> None:
    """Forget loaded backends and contrib registrations; the next lookup rescans entry points."""
    kernel.reset_backend_cache()


def missing_plugin(name: str, table: Mapping[str, tuple[str, str]]) -> MissingPluginError | None:
    known = table.get(name)
    if known is None:
        return None
    return MissingPluginError(name, *known)


def iter_plugins() -> Iterable[tuple[str | None, object]]:
    """(name, plugin) for every registered plugin: handy for ``dorm --version`` and debugging."""
    return kernel.pm.list_name_plugin()
