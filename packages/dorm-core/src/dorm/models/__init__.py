"""Models: ``Model``, ``AsyncModel``, constraints, the registry, and (from the
query engine) ``Manager``, ``QuerySet`` and ``Prefetch``."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dorm.models.base import DB_DEFAULT, AsyncModel, Model, ModelBase, ModelState
from dorm.models.constraints import CheckConstraint, Index, UniqueConstraint
from dorm.models.options import Options
from dorm.models.registry import apps

__all__ = [
    "DB_DEFAULT",
    "AsyncModel",
    "CheckConstraint",
    "Index",
    "Manager",
    "Model",
    "ModelBase",
    "ModelState",
    "Options",
    "Prefetch",
    "QuerySet",
    "UniqueConstraint",
    "apps",
]

# names owned by the query engine, imported on first use (keeps this package importable on its own)
_QUERY_NAMES = {"Manager": "dorm.models.manager", "QuerySet": "dorm.models.query", "Prefetch": "dorm.models.prefetch"}


def __getattr__(name: str) -> Any:
    module = _QUERY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'dorm.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from dorm.models.manager import Manager as Manager
    from dorm.models.prefetch import Prefetch as Prefetch
    from dorm.models.query import QuerySet as QuerySet
