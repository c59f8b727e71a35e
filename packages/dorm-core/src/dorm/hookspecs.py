"""The kernel contract: every hook djanorm calls, in lifecycle order.

Plugins implement these with ``dorm.hookimpl`` and register through the
``djanorm.plugins`` entry point group (a module or object), or at run time
with ``dorm.plugins.kernel.register(obj)``.  The pluggy project name is
``dorm``.

Lifecycle banners below: plugin registration → settings configured → model
prepared → query built → statement executed → instance saved/deleted →
connections → CLI → public names.

Cost rule: the core asks the kernel once which hooks have implementations
(and again only when the set of plugins changes) and skips hooks nobody
implements, so an unused hook costs nothing on the hot path.  Plugins whose
feature is idle should not stay registered on per-statement hooks; register
a small object while the feature is active and unregister it afterwards
(``kernel.register`` / ``kernel.unregister`` are cheap and invalidate the
cache).

A plugin that needs extension points of its own publishes them through
:func:`dorm_addhooks` instead of editing this module.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from dorm.backends.base.statement import Statement
    from dorm.cli.base import Command
    from dorm.conf import Settings
    from dorm.models.base import Model
    from dorm.sql.query import Query

hookspec = pluggy.HookspecMarker("dorm")

# ==========================================================================
# plugin registration
# ==========================================================================


@hookspec(historic=True)
def dorm_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add a plugin's own hook specifications.

    Called once for every plugin as it is registered (historic: a plugin
    registered later still sees earlier calls).  Call
    ``pluginmanager.add_hookspecs(module_or_class)`` with the plugin's spec
    module; other plugins then implement those hooks as usual.

    :param pluginmanager: the kernel's pluggy ``PluginManager``.
    :return: nothing.
    Implemented by plugins that offer extension points of their own.
    """


# ==========================================================================
# settings
# ==========================================================================


@hookspec(historic=True)
def dorm_configure(settings: Settings) -> None:
    """Settings were configured (by ``dorm.configure``, a settings module or ``settings.py``).

    Called after each successful configuration, again when ``configure()`` is
    called again.  Historic: a plugin loaded later is called with the last
    settings.  Plugins read their own keys here (e.g. an alias's
    ``CIRCUIT_BREAKER``) and may raise ``ImproperlyConfigured`` for bad
    values.

    :param settings: the :class:`dorm.conf.Settings` object now in force.
    :return: nothing.
    """


# ==========================================================================
# models
# ==========================================================================


@hookspec
def dorm_class_prepared(model: type[Model]) -> None:
    """A concrete model class was created and its ``_meta`` is complete.

    Called once per model class, after fields, managers and reverse
    relations are installed.  Plugins may add fields or managers, set flags
    on ``model._meta`` (e.g. tenancy marks tenant models), or validate.
    Abstract models are not reported.

    :param model: the new model class.
    :return: nothing.
    """


# ==========================================================================
# queries
# ==========================================================================


@hookspec
def dorm_query_pre_compile(query: Query, alias: str) -> None:
    """A query is about to be compiled to SQL for ``alias``.

    Called for every SELECT, UPDATE, DELETE and INSERT query (``query.kind``
    tells which; ``query.model`` is the model) before the compiled-SQL cache
    is consulted, so a filter added here becomes part of the query's shape
    and its value a parameter.  Implementations may mutate ``query`` (it is
    a private clone) by calling its public methods (``add_q``,
    ``add_insert_value`` ...) or raise to refuse the query.  Tenancy adds its
    tenant filter here; it must be cheap since it runs per query.

    :param query: the :class:`dorm.sql.query.Query` about to compile.
    :param alias: the database alias it will run on.
    :return: nothing.
    """


@hookspec
def dorm_query_pre_compile_applies(model: type[Model]) -> bool:
    """Whether this plugin's ``dorm_query_pre_compile`` can change a query of ``model`` alone.

    The optional companion of ``dorm_query_pre_compile``.  Return ``False``
    for a model whose queries the plugin leaves untouched when they read or
    write only that model's table (no join, no subquery).  The core then
    runs such queries of that model through its express lane
    (``get(**kw)``, ``filter(**kw).count()``, ``filter(**kw).update(**kw)``
    with plain values) without building a Query, so the pre-compile hook
    is not called for them.  A plugin that implements
    ``dorm_query_pre_compile`` without this hook is consulted on every
    query of every model.  The answer is cached per model until the set of
    plugins changes, so it must depend on the model class only (never on
    context such as the current tenant).

    :param model: a concrete model class.
    :return: ``True`` when the pre-compile hook may change such a query.
    """
    return True  # pragma: no cover


# ==========================================================================
# statements
# ==========================================================================


@hookspec
def dorm_statement(statement: Statement) -> Generator[None, None, None]:
    """Wrap the execution of every SQL statement.

    Implement as a **generator that yields exactly once**.  Code before the
    ``yield`` runs before the statement is sent (it may set
    ``statement.timeout_ms`` or raise to refuse it); outside a transaction
    it runs before a connection is checked out, so a failed checkout is
    thrown in at the ``yield`` like a failed statement; the ``yield``
    expression raises the statement's exception if it failed (a wrapper may
    let it propagate or raise another one from it); code after the ``yield``
    sees the outcome in ``statement.rows`` / ``statement.rowcount`` and may
    raise (e.g. ``BudgetExceeded`` for too many rows).  The kernel drives
    these generators itself, the same way for sync and async statements, so
    a wrapper never awaits.  Wrappers nest in registration order (the first
    registered is outermost).

    Examples: query budgets, circuit breakers, the N+1 detector, query
    logging.  Because it runs per statement, register the implementation
    only while the feature is active.

    :param statement: the :class:`dorm.backends.base.statement.Statement`
        (alias, sql, params, many, model, and after the yield: rows,
        rowcount, duration).
    :return: a generator; its return value is ignored.
    """
    yield  # pragma: no cover - spec body is never run


# ==========================================================================
# instances
# ==========================================================================


@hookspec
def dorm_pre_save(instance: Model, alias: str, adding: bool, update_fields: frozenset[str] | None) -> None:
    """An instance is about to be inserted or updated (sync or async path).

    Called before ``pre_save`` signal receivers.  Implementations may set
    attributes (tenancy stamps the tenant id) or raise to refuse.

    :param instance: the model instance.
    :param alias: the database alias it is saved to.
    :param adding: True for an INSERT, False for an UPDATE.
    :param update_fields: the fields named in ``save(update_fields=...)``, or None.
    :return: nothing.
    """


@hookspec
def dorm_pre_delete(instance: Model, alias: str) -> None:
    """An instance is about to be deleted through ``delete()`` / ``adelete()``.

    :param instance: the model instance.
    :param alias: the database alias.
    :return: nothing; raise to refuse the delete.
    """


@hookspec
def dorm_pre_bulk_write(model: type[Model], objs: list[Model], alias: str, kind: str) -> None:
    """``bulk_create`` (``kind="create"``) or ``bulk_update`` (``"update"``) is about to run.

    Bulk paths skip per-instance signals; this hook is where plugins that
    must see every written row (tenancy stamps or checks the tenant) act.

    :param model: the model class.
    :param objs: the instances, in order.
    :param alias: the database alias.
    :param kind: ``"create"`` or ``"update"``.
    :return: nothing; raise to refuse.
    """


# ==========================================================================
# connections
# ==========================================================================


@hookspec
def dorm_connection_acquired(alias: str, connection: Any) -> None:
    """A physical connection was taken for ``alias`` (from a pool or opened).

    Called on both sync and async paths, outside the statement wrappers.
    Use it for per-connection setup (``SET search_path`` ...) through
    ``connection.raw`` only for things the backend does not already do.

    :param alias: the database alias.
    :param connection: the backend's ``BaseConnection`` / ``BaseAsyncConnection``.
    :return: nothing.
    """


@hookspec
def dorm_connection_released(alias: str, connection: Any, broken: bool) -> None:
    """A physical connection for ``alias`` was given back (to the pool, or closed).

    :param alias: the database alias.
    :param connection: the backend connection object.
    :param broken: True when the connection was discarded instead of reused.
    :return: nothing.
    """


# ==========================================================================
# command line
# ==========================================================================


@hookspec
def dorm_cli_commands() -> list[Command]:
    """Contribute sub-commands to the ``dorm`` command line.

    Called once when the CLI builds its parser.  Each result is a list of
    :class:`dorm.cli.base.Command` instances (``name``, ``help``,
    ``add_arguments(parser)``, ``handle(args) -> int``).  A name that clashes
    with a built-in command is an error.

    :return: a list of commands (may be empty).
    """
    return []  # pragma: no cover


# ==========================================================================
# public names
# ==========================================================================


@hookspec
def dorm_public_names() -> Mapping[str, Any]:
    """Names a plugin adds to the ``dorm`` namespace (``dorm.budget`` ...).

    Called lazily, the first time ``dorm.<name>`` misses the core's own
    names.  Return a mapping of attribute name to object.  The same objects
    must be importable from the plugin's own package.

    :return: a mapping (may be empty).
    """
    return {}  # pragma: no cover
