"""djanorm: a Django-style ORM without Django, sync and async.

Everything a user types lives here (``dorm.Model``, ``dorm.CharField``,
``dorm.Q``, ``dorm.configure`` ...).  Names are imported lazily on first
access so ``import dorm`` stays cheap and imports no driver; a name no core
module defines is looked up among the names plugins export (the
``dorm_public_names`` hook), and a name that belongs to one of our optional
distributions raises :class:`~dorm.exceptions.MissingPluginError` saying
which extra to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dorm.exceptions import *  # noqa: F403  (exceptions are cheap and always importable)
from dorm.exceptions import __all__ as _exception_names

__version__ = "2.0.0"

# name -> module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    # settings, connections, plugins
    "configure": "dorm.conf",
    "settings": "dorm.conf",
    "get_connection": "dorm.db.connections",
    "connections": "dorm.db.connections",
    "pool_stats": "dorm.db.connections",
    "close_all": "dorm.db.connections",
    "close_all_async": "dorm.db.connections",
    "reset_backend_cache": "dorm.plugins",
    "hookimpl": "dorm.plugins",
    # models
    "Model": "dorm.models",
    "AsyncModel": "dorm.models",
    "Manager": "dorm.models",
    "QuerySet": "dorm.models",
    "Prefetch": "dorm.models",
    "Index": "dorm.models",
    "UniqueConstraint": "dorm.models",
    "CheckConstraint": "dorm.models",
    # fields
    "Field": "dorm.fields",
    "AutoField": "dorm.fields",
    "BigAutoField": "dorm.fields",
    "SmallAutoField": "dorm.fields",
    "SmallIntegerField": "dorm.fields",
    "IntegerField": "dorm.fields",
    "BigIntegerField": "dorm.fields",
    "PositiveIntegerField": "dorm.fields",
    "PositiveSmallIntegerField": "dorm.fields",
    "PositiveBigIntegerField": "dorm.fields",
    "FloatField": "dorm.fields",
    "DecimalField": "dorm.fields",
    "BooleanField": "dorm.fields",
    "CharField": "dorm.fields",
    "TextField": "dorm.fields",
    "SlugField": "dorm.fields",
    "EmailField": "dorm.fields",
    "URLField": "dorm.fields",
    "UUIDField": "dorm.fields",
    "DateField": "dorm.fields",
    "DateTimeField": "dorm.fields",
    "TimeField": "dorm.fields",
    "DurationField": "dorm.fields",
    "BinaryField": "dorm.fields",
    "JSONField": "dorm.fields",
    "GenericIPAddressField": "dorm.fields",
    "ForeignKey": "dorm.fields",
    "OneToOneField": "dorm.fields",
    "ManyToManyField": "dorm.fields",
    "CASCADE": "dorm.fields",
    "PROTECT": "dorm.fields",
    "RESTRICT": "dorm.fields",
    "SET_NULL": "dorm.fields",
    "SET_DEFAULT": "dorm.fields",
    "SET": "dorm.fields",
    "DO_NOTHING": "dorm.fields",
    "NOT_PROVIDED": "dorm.fields",
    # expressions
    "Q": "dorm.expressions",
    "F": "dorm.expressions",
    "Value": "dorm.expressions",
    "Case": "dorm.expressions",
    "When": "dorm.expressions",
    "Subquery": "dorm.expressions",
    "OuterRef": "dorm.expressions",
    "Exists": "dorm.expressions",
    "ExpressionWrapper": "dorm.expressions",
    "RawSQL": "dorm.expressions",
    "Count": "dorm.aggregates",
    "Sum": "dorm.aggregates",
    "Avg": "dorm.aggregates",
    "Min": "dorm.aggregates",
    "Max": "dorm.aggregates",
    "Coalesce": "dorm.functions",
    "Lower": "dorm.functions",
    "Upper": "dorm.functions",
    "Length": "dorm.functions",
    "Concat": "dorm.functions",
    "Now": "dorm.functions",
    "Cast": "dorm.functions",
}
# name -> submodule exposed as an attribute (``dorm.transaction.atomic``)
_SUBMODULES = frozenset({"transaction", "signals", "migrations", "exceptions", "contrib", "plugins", "conf", "db"})

__all__ = sorted([*_LAZY, *_SUBMODULES, *_exception_names, "__version__"])


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"dorm.{name}")
        globals()[name] = module
        return module
    if name.startswith("__"):
        raise AttributeError(name)
    from dorm import plugins

    exported = plugins.kernel.public_names()
    if name in exported:
        return exported[name]
    missing = plugins.missing_plugin(name, plugins.KNOWN_PUBLIC_NAMES)
    if missing is not None:
        raise missing
    raise AttributeError(f"module 'dorm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # static view of the lazy names, for type checkers and IDEs
    from dorm import conf as conf  # noqa: I001 (explicit re-exports, one statement per module)
    from dorm import contrib as contrib
    from dorm import db as db
    from dorm import migrations as migrations
    from dorm import plugins as plugins
    from dorm import signals as signals
    from dorm import transaction as transaction
    from dorm.aggregates import Avg as Avg, Count as Count, Max as Max, Min as Min, Sum as Sum
    from dorm.conf import configure as configure, settings as settings
    from dorm.db.connections import (
        close_all as close_all,
        close_all_async as close_all_async,
        connections as connections,
        get_connection as get_connection,
        pool_stats as pool_stats,
    )
    from dorm.expressions import (
        Case as Case,
        Exists as Exists,
        ExpressionWrapper as ExpressionWrapper,
        F as F,
        OuterRef as OuterRef,
        Q as Q,
        RawSQL as RawSQL,
        Subquery as Subquery,
        Value as Value,
        When as When,
    )
    from dorm.fields import (
        CASCADE as CASCADE,
        DO_NOTHING as DO_NOTHING,
        NOT_PROVIDED as NOT_PROVIDED,
        PROTECT as PROTECT,
        RESTRICT as RESTRICT,
        SET as SET,
        SET_DEFAULT as SET_DEFAULT,
        SET_NULL as SET_NULL,
        AutoField as AutoField,
        BigAutoField as BigAutoField,
        BigIntegerField as BigIntegerField,
        BinaryField as BinaryField,
        BooleanField as BooleanField,
        CharField as CharField,
        DateField as DateField,
        DateTimeField as DateTimeField,
        DecimalField as DecimalField,
        DurationField as DurationField,
        EmailField as EmailField,
        Field as Field,
        FloatField as FloatField,
        ForeignKey as ForeignKey,
        GenericIPAddressField as GenericIPAddressField,
        IntegerField as IntegerField,
        JSONField as JSONField,
        ManyToManyField as ManyToManyField,
        OneToOneField as OneToOneField,
        PositiveBigIntegerField as PositiveBigIntegerField,
        PositiveIntegerField as PositiveIntegerField,
        PositiveSmallIntegerField as PositiveSmallIntegerField,
        SlugField as SlugField,
        SmallAutoField as SmallAutoField,
        SmallIntegerField as SmallIntegerField,
        TextField as TextField,
        TimeField as TimeField,
        URLField as URLField,
        UUIDField as UUIDField,
    )
    from dorm.functions import (
        Cast as Cast,
        Coalesce as Coalesce,
        Concat as Concat,
        Length as Length,
        Lower as Lower,
        Now as Now,
        Upper as Upper,
    )
    from dorm.models import (
        AsyncModel as AsyncModel,
        CheckConstraint as CheckConstraint,
        Index as Index,
        Manager as Manager,
        Model as Model,
        Prefetch as Prefetch,
        QuerySet as QuerySet,
        UniqueConstraint as UniqueConstraint,
    )
    from dorm.plugins import hookimpl as hookimpl, reset_backend_cache as reset_backend_cache
