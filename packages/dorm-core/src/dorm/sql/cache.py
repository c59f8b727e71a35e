"""The compiled-shape cache: one compilation per query shape and backend wrapper.

The key is the query's structure with every value replaced by a
placeholder (:meth:`dorm.sql.query.Query.key`); the same walk collects the
parameters, so a cache hit costs one tree walk and no compilation.
"""

from __future__ import annotations

from typing import Any, Final

from dorm.sql.query import KeyContext, Query

__all__ = ["MAX_ENTRIES", "compiled"]

#: Entries per wrapper before the cache is emptied (shapes are few in real apps;
#: this bounds memory if an app builds unbounded shapes, e.g. ``in`` lists of every length).
MAX_ENTRIES: Final = 4096


def compiled(query: Query, wrapper: Any) -> tuple[str, list[Any], Any]:
    """``(sql, params, row_plan)`` for ``query`` on ``wrapper``, compiling only unseen shapes."""
    kc = KeyContext(wrapper)
    key = query.key(kc)
    cache = wrapper.compile_cache
    entry = cache.get(key)
    if entry is None:
        compiler = wrapper.get_compiler_class()(wrapper)
        sql, params, plan = compiler.compile_query(query)
        if params != kc.params:  # pragma: no cover - a node's key() and visit_*() disagree
            raise AssertionError(f"compile/key parameter mismatch for {query!r}: {params!r} != {kc.params!r}")
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        entry = (sql, plan)
        cache[key] = entry
    return entry[0], kc.params, entry[1]
