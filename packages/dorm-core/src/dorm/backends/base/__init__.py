"""The backend SPI base classes.  Third-party backends subclass these; see ``docs/backends.md``."""

from dorm.backends.base.base import BaseDatabaseWrapper
from dorm.backends.base.connection import BaseAsyncConnection, BaseConnection
from dorm.backends.base.features import BaseDatabaseFeatures
from dorm.backends.base.introspection import BaseDatabaseIntrospection
from dorm.backends.base.operations import BaseDatabaseOperations
from dorm.backends.base.schema import BaseDatabaseSchemaEditor
from dorm.backends.base.statement import FETCH_ALL, FETCH_NONE, FETCH_ONE, Statement

__all__ = [
    "FETCH_ALL",
    "FETCH_NONE",
    "FETCH_ONE",
    "BaseAsyncConnection",
    "BaseConnection",
    "BaseDatabaseFeatures",
    "BaseDatabaseIntrospection",
    "BaseDatabaseOperations",
    "BaseDatabaseSchemaEditor",
    "BaseDatabaseWrapper",
    "Statement",
]
