"""The vendor-free query tree, the compiler visitor, the compile cache and hydration."""

from dorm.sql.cache import compiled
from dorm.sql.query import Query

__all__ = ["Query", "compiled"]
