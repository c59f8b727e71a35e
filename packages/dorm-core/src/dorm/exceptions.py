"""Every exception djanorm raises, plugins' included.

Exceptions are kernel contract (SPEC §8): plugins raise the classes defined
here, so ``except dorm.BudgetExceeded`` works whether or not the plugin that
raises it is installed.  Database errors mirror PEP 249; the driver's own
exception is always kept as ``__cause__``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AsyncOnlyError",
    "BudgetExceeded",
    "CircuitOpenError",
    "DataError",
    "DatabaseError",
    "DormError",
    "EmptyResultSet",
    "FieldDoesNotExist",
    "FieldError",
    "ImproperlyConfigured",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "IrreversibleError",
    "MigrationConflictError",
    "MissingPluginError",
    "MultipleObjectsReturned",
    "NPlusOneError",
    "NoActiveTenantError",
    "NotSupportedError",
    "ObjectDoesNotExist",
    "OperationalError",
    "PoolTimeout",
    "QueryCanceledError",
    "ProgrammingError",
    "ProtectedError",
    "ReadOnlyModelError",
    "RestrictedError",
    "SyncInAsyncContextError",
    "TransactionManagementError",
    "UnloadedRelationError",
    "ValidationError",
]


class DormError(Exception):
    """Base class of djanorm's own (non-database) errors."""


# --------------------------------------------------------------------------
# configuration and plugins
# --------------------------------------------------------------------------


class ImproperlyConfigured(DormError):
    """Settings are missing, inconsistent, or name something not installed."""


class MissingPluginError(ImportError):
    """A public name or ``dorm.contrib`` module belongs to a plugin that is not installed.

    A subclass of :class:`ImportError` (not :class:`AttributeError`) so that
    ``from dorm import budget`` shows this message instead of Python's generic
    "cannot import name".
    """

    def __init__(self, name: str, distribution: str, extra: str) -> None:
        self.name_missing = name
        self.distribution = distribution
        self.extra = extra
        super().__init__(
            f"{name!r} is provided by the {distribution} plugin, which is not installed. "
            f"Install it with: pip install 'djanorm[{extra}]' "
            f"(from a checkout of djanorm, not the unrelated 'djanorm' on PyPI: add ./packages/{distribution} "
            "to the one pip install of the package paths)"
        )


# --------------------------------------------------------------------------
# models and queries
# --------------------------------------------------------------------------


class ObjectDoesNotExist(DormError):
    """The requested object does not exist (base of every ``Model.DoesNotExist``)."""


class MultipleObjectsReturned(DormError):
    """``get()`` matched more than one row (base of every ``Model.MultipleObjectsReturned``)."""


class FieldDoesNotExist(DormError):
    """A model has no field of the requested name."""


class FieldError(DormError):
    """A query used a field name, lookup or expression that does not fit the model."""


class EmptyResultSet(DormError):
    """Raised internally when a WHERE clause can never match (e.g. ``pk__in=[]``)."""


class ValidationError(DormError, ValueError):
    """A value failed a field's validation.

    ``message_dict`` maps field names to lists of messages when the error
    comes from :meth:`Model.full_clean`; ``messages`` is the flat list.
    """

    def __init__(
        self,
        message: str | list[Any] | dict[str, Any],
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.params = params
        self.messages: list[str]
        if isinstance(message, dict):
            self.error_dict: dict[str, list[str]] = {}
            for field, messages in message.items():
                if isinstance(messages, ValidationError):
                    self.error_dict[field] = messages.messages
                elif isinstance(messages, (list, tuple)):
                    flat: list[str] = []
                    for m in messages:
                        flat.extend(m.messages if isinstance(m, ValidationError) else [str(m)])
                    self.error_dict[field] = flat
                else:
                    self.error_dict[field] = [str(messages)]
            self.messages = [m for ms in self.error_dict.values() for m in ms]
            text = "; ".join(f"{k}: {', '.join(v)}" for k, v in self.error_dict.items())
        elif isinstance(message, list):
            self.messages = []
            for m in message:
                self.messages.extend(m.messages if isinstance(m, ValidationError) else [str(m)])
            text = "; ".join(self.messages)
        else:
            if params:
                message = message % params
            self.messages = [message]
            text = message
        super().__init__(text)

    @property
    def message_dict(self) -> dict[str, list[str]]:
        return getattr(self, "error_dict", {"__all__": self.messages})


class ReadOnlyModelError(DormError):
    """A write (save, delete, update, bulk_create...) on a model with ``Meta.read_only = True``."""


class AsyncOnlyError(DormError):
    """A sync database call on a :class:`dorm.AsyncModel`; use the ``a*`` twin."""


class SyncInAsyncContextError(DormError, RuntimeError):
    """A sync database call ran inside a running event loop.

    The message always contains ``this event loop is already running`` and
    names the ``a*`` method to await instead.
    """


class UnloadedRelationError(SyncInAsyncContextError):
    """A relation (or deferred field) that was not loaded was touched inside a running event loop.

    Loading it would be a sync query, so it is the same refusal as
    :class:`SyncInAsyncContextError` (and its message also says ``this event
    loop is already running``).  Load it with ``select_related``/``prefetch_related``
    or ``await obj.afetch_related(...)``.
    """


class ProtectedError(DormError):
    """Deleting an object is blocked by a ``PROTECT`` foreign key."""

    def __init__(self, msg: str, protected_objects: Any = ()) -> None:
        self.protected_objects = protected_objects
        super().__init__(msg)


class RestrictedError(DormError):
    """Deleting an object is blocked by a ``RESTRICT`` foreign key."""

    def __init__(self, msg: str, restricted_objects: Any = ()) -> None:
        self.restricted_objects = restricted_objects
        super().__init__(msg)


class TransactionManagementError(DormError):
    """A transaction was used in a way that cannot work (e.g. a durable block nested)."""


# --------------------------------------------------------------------------
# migrations
# --------------------------------------------------------------------------


class IrreversibleError(DormError):
    """A migration step cannot be reversed; refused before anything runs."""


class MigrationConflictError(DormError):
    """Two migrations of one app share a number (or the graph has two leaves)."""


# --------------------------------------------------------------------------
# database errors (PEP 249 shape)
# --------------------------------------------------------------------------


class DatabaseError(DormError):
    """Base of every error that comes from the database or its driver."""


class InterfaceError(DatabaseError):
    """The driver interface failed (not the database)."""


class DataError(DatabaseError):
    """The database rejected a value (out of range, bad encoding...)."""


class OperationalError(DatabaseError):
    """The database could not run the statement (connection lost, locked, cancelled...)."""


class IntegrityError(DatabaseError):
    """A constraint (unique, foreign key, not null, check) was violated."""


class InternalError(DatabaseError):
    """The database reported an internal error."""


class ProgrammingError(DatabaseError):
    """The SQL was wrong for this database (missing table, syntax error...)."""


class NotSupportedError(DatabaseError):
    """The backend does not support the requested feature."""


class QueryCanceledError(OperationalError):
    """The database cancelled the statement (statement timeout or a cancel request).

    Backends raise it for ``Statement.timeout_ms`` expiries and cancellations so
    that wrappers (budgets) can tell a cancelled statement from other failures.
    """


class PoolTimeout(OperationalError):
    """No pooled connection became free within ``POOL_TIMEOUT`` seconds."""


# --------------------------------------------------------------------------
# plugin features (raised by plugins, defined here: SPEC §8)
# --------------------------------------------------------------------------


class BudgetExceeded(OperationalError):
    """A statement broke the active ``dorm.budget`` (rows, time or query count).

    Also an :class:`OperationalError`, since a timeout is a cancelled statement.
    """


class CircuitOpenError(OperationalError):
    """The circuit breaker guarding a call is OPEN; the call was not attempted."""


class NoActiveTenantError(DormError):
    """A query on a ``TenantModel`` ran without ``with current_tenant(...)`` active."""


class NPlusOneError(AssertionError):
    """The N+1 detector saw one SQL template run more often than its threshold.

    An :class:`AssertionError` so pytest renders it like a failed assert.
    """
