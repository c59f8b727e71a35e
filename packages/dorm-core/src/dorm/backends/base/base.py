"""``BaseDatabaseWrapper``: one object per configured alias, composed of small parts.

A backend subclasses it, sets the ``*_class`` slots and ``vendor``, and
implements connection checkout for the sync and async paths.  The core
never talks to a driver: it hands :class:`~dorm.backends.base.statement.Statement`
objects to the connections this class gives out.

Checkout contract:

* :meth:`acquire` / :meth:`release` (sync) and :meth:`aacquire` /
  :meth:`arelease` (async) give out a connection in autocommit mode and
  take it back.  The core calls them once per statement outside a
  transaction, and once per outermost ``atomic()`` block inside one, so
  they must be cheap (a thread-local connection, or a pool checkout).
* ``release(conn, broken=True)`` means the connection may be unusable
  (the statement failed with an operational error, or was cancelled): the
  backend checks or discards it.
* :meth:`close` / :meth:`aclose` drain everything (``dorm.close_all``).
* :meth:`pool_stats` never raises; before first use it returns
  ``{"status": "uninitialised"}``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from dorm.backends.base.connection import BaseAsyncConnection, BaseConnection
from dorm.backends.base.features import BaseDatabaseFeatures
from dorm.backends.base.introspection import BaseDatabaseIntrospection
from dorm.backends.base.operations import BaseDatabaseOperations
from dorm.backends.base.schema import BaseDatabaseSchemaEditor

if TYPE_CHECKING:
    from dorm.sql.compiler import SQLCompiler

__all__ = ["BaseDatabaseWrapper"]


class BaseDatabaseWrapper(ABC):
    """The backend of one alias.  Subclasses set the class slots below."""

    #: Short vendor name used in messages and by ``dbshell``; never branched on by the core.
    vendor: ClassVar[str] = "unknown"
    #: Human name for messages.
    display_name: ClassVar[str] = "Unknown"
    features_class: ClassVar[type[BaseDatabaseFeatures]] = BaseDatabaseFeatures
    operations_class: ClassVar[type[BaseDatabaseOperations]] = BaseDatabaseOperations
    introspection_class: ClassVar[type[BaseDatabaseIntrospection]] = BaseDatabaseIntrospection
    schema_editor_class: ClassVar[type[BaseDatabaseSchemaEditor]] = BaseDatabaseSchemaEditor
    #: The SQL compiler (a visitor); ``None`` means the core's generic ``SQLCompiler``.
    compiler_class: ClassVar[type[SQLCompiler] | None] = None

    def __init__(self, alias: str, settings_dict: dict[str, Any]) -> None:
        self.alias = alias
        self.settings_dict = settings_dict
        self.features = self.features_class(self)
        self.ops = self.operations_class(self)
        self.introspection = self.introspection_class(self)
        #: Compiled-SQL cache for this alias: query shape -> compiled statement template.
        self.compile_cache: dict[Any, Any] = {}

    # -- compiler ---------------------------------------------------------------

    def get_compiler_class(self) -> type[SQLCompiler]:
        cls = self.compiler_class
        if cls is None:
            from dorm.sql.compiler import SQLCompiler

            cls = SQLCompiler
        return cls

    # -- sync checkout ----------------------------------------------------------

    @abstractmethod
    def acquire(self) -> BaseConnection:
        """A connection in autocommit mode for the calling thread."""

    @abstractmethod
    def release(self, connection: BaseConnection, *, broken: bool = False) -> None:
        """Take back a connection from :meth:`acquire`."""

    # -- async checkout ---------------------------------------------------------

    @abstractmethod
    async def aacquire(self) -> BaseAsyncConnection:
        """An async connection in autocommit mode for the calling task."""

    @abstractmethod
    async def arelease(self, connection: BaseAsyncConnection, *, broken: bool = False) -> None:
        """Take back a connection from :meth:`aacquire`; must not be interruptible."""

    # -- lifecycle --------------------------------------------------------------

    @abstractmethod
    def close(self) -> None:
        """Close every connection and pool of this alias that can be closed synchronously."""

    async def aclose(self) -> None:
        """Close async pools too (those bound to the running event loop)."""
        self.close()

    def pool_stats(self) -> dict[str, Any]:
        """Pool numbers for monitoring; never raises."""
        return {"status": "uninitialised", "alias": self.alias, "vendor": self.vendor}

    # -- schema -----------------------------------------------------------------

    def schema_editor(
        self, connection: BaseConnection | None = None, *, collect_sql: bool = False
    ) -> BaseDatabaseSchemaEditor:
        """A schema editor running DDL on ``connection`` (or only collecting it)."""
        return self.schema_editor_class(self, connection, collect_sql=collect_sql)

    def server_version(self) -> tuple[int, ...] | None:
        """The server's version as a tuple when known (used for feature decisions)."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} alias={self.alias!r} vendor={self.vendor!r}>"
