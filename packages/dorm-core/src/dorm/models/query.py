"""``QuerySet``: lazy, chainable queries with sync methods and their ``a*`` twins.

Every database operation is written once as a generator of statements
(``_op_*``): it builds statements (compile cache included), yields them
for execution, and hydrates what comes back.  The sync method drives it
through ``executor.run``; the ``a*`` twin through ``await executor.arun``.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from dorm import plugins
from dorm.backends.base.statement import FETCH_ALL, FETCH_NONE, Statement
from dorm.db import executor
from dorm.db.connections import connections
from dorm.db.router import router
from dorm.exceptions import FieldError, IntegrityError, NotSupportedError
from dorm.expressions import Case, Col, Expression, F, Q, Value, When
from dorm.models import express, guards
from dorm.models._drive import AtomicCall, Op, adrive, drive
from dorm.models.express import MISS
from dorm.sql.cache import compiled
from dorm.sql.hydration import hydrate
from dorm.sql.query import UPDATE, Query

if TYPE_CHECKING:
    from dorm.models.base import Model

__all__ = ["QuerySet", "RawQuerySet", "SelectRelatedWarning"]

M = TypeVar("M", bound="Model")
MAX_GET_RESULTS = express.MAX_GET_RESULTS


class SelectRelatedWarning(UserWarning):
    """``select_related()`` without names: follows every non-null FK; naming the paths is better."""


class QuerySet(Generic[M]):
    """A lazy database query over one model.  Chain methods return new querysets."""

    __slots__ = (
        "model",
        "_query",
        "_fast_kwargs",
        "_fast_tail",
        "_db",
        "_result_cache",
        "_prefetch",
        "_sticky_write",
        "_origin",
        "_known_related_objects",
        "__weakref__",
    )

    def __init__(self, model: type[M], query: Query | None = None, using: str | None = None) -> None:
        self.model = model
        #: built on first need (a manager's fresh queryset often never needs one: see the fast path)
        self._query = query
        #: ``filter(**kwargs)`` on a fresh queryset, validated but not yet added to a Query
        self._fast_kwargs: dict[str, Any] | None = None
        #: ``order_by(*names)`` / one slice on such a queryset, not yet in a Query:
        #: ``(names or None for Meta.ordering, start, stop)``
        self._fast_tail: tuple[tuple[str, ...] | None, int | None, int | None] | None = None
        self._db = using
        self._result_cache: list[Any] | None = None
        self._prefetch: tuple[Any, ...] = ()
        self._sticky_write = False
        #: what caused this query (``"Book.author"`` for a lazy relation load), for Statement.origin
        self._origin: str | None = None
        #: {fk_field: {fk_value: instance}}: set the reverse side on loaded rows (related managers)
        self._known_related_objects: dict[Any, dict[Any, Any]] | None = None

    # ------------------------------------------------------------------
    # cloning and building
    # ------------------------------------------------------------------

    @property
    def query(self) -> Query:
        """The query tree (built on first access)."""
        q = self._query
        if q is None:
            q = self._query = Query(self.model)
            pending = self._fast_kwargs
            if pending is not None:
                self._fast_kwargs = None
                q.add_q(Q(**pending))
            tail = self._fast_tail
            if tail is not None:
                self._fast_tail = None
                order, start, stop = tail
                if order is not None:
                    q.order_by_names(order)
                if start is not None or stop is not None:
                    q.set_limits(start, stop)
        return q

    @query.setter
    def query(self, value: Query) -> None:
        self._query = value
        self._fast_kwargs = None
        self._fast_tail = None

    @classmethod
    def _from_keywords(cls, model: type[M], using: str | None, kwargs: dict[str, Any]) -> QuerySet[M]:
        """``model``'s rows matching ``kwargs`` (validated now), the Query built only if needed."""
        known = _valid_names.get(model)
        if known is None:
            _validate_names(model, kwargs)
        else:
            for name in kwargs:
                if name not in known:
                    _validate_names(model, kwargs)
                    break
        qs = cls(model, None, using)
        qs._fast_kwargs = kwargs
        return qs

    def _clone(self) -> QuerySet[M]:
        qs = QuerySet.__new__(type(self))
        qs.model = self.model
        qs._query = self.query.clone()
        qs._fast_kwargs = None
        qs._fast_tail = None
        qs._result_cache = None
        return self._carry_context(qs)

    def _with_tail(self, tail: tuple[tuple[str, ...] | None, int | None, int | None]) -> QuerySet[M]:
        """A copy of this fresh queryset with ``order_by``/slice ``tail`` pending (no Query built)."""
        qs = QuerySet(self.model, None, self._db)
        qs._fast_kwargs = self._fast_kwargs
        qs._fast_tail = tail
        return self._carry_context(qs)

    def _carry_context(self, qs: QuerySet[M]) -> QuerySet[M]:
        """``qs`` with this queryset's alias, prefetches, write stickiness, origin and known related objects."""
        qs._db = self._db
        qs._prefetch = self._prefetch
        qs._sticky_write = self._sticky_write
        qs._origin = self._origin
        qs._known_related_objects = self._known_related_objects
        return qs

    def all(self) -> QuerySet[M]:
        """A copy of this queryset (re-evaluated on next use)."""
        return self._clone()

    def filter(self, *args: Any, **kwargs: Any) -> QuerySet[M]:
        """Rows matching every condition (``Q`` objects and ``name__lookup=value``)."""
        if (
            not args
            and kwargs
            and self._query is None
            and self._fast_kwargs is None
            and self._fast_tail is None
            and type(self) is QuerySet
        ):
            # A fresh queryset: keep the keywords (validated) and build the Query only if needed.
            return self._carry_context(QuerySet._from_keywords(self.model, self._db, kwargs))
        qs = self._clone()
        if args or kwargs:
            self._check_not_sliced("filter")
            qs.query.add_q(Q(*args, **kwargs))
        return qs

    def afilter(self, *args: Any, **kwargs: Any) -> QuerySet[M]:
        """Same as :meth:`filter` (building is not I/O); exists for symmetry in async code."""
        return self.filter(*args, **kwargs)

    def exclude(self, *args: Any, **kwargs: Any) -> QuerySet[M]:
        """Rows matching none of the conditions (NULL columns count as not matching).

        Across a multi-valued relation (``exclude(books__title="x")``) a row is
        excluded when *any* related row matches: ``pk NOT IN (subquery)``.
        """
        self._check_not_sliced("exclude")
        qs = self._clone()
        probe = Query(self.model)
        condition = Q(*args, **kwargs)
        probe.add_q(condition)
        if probe.used_many:
            matching = QuerySet(self.model).filter(condition).values("pk")
            qs.query.add_q(~Q(pk__in=matching))
        else:
            qs.query.add_q(condition, negate=True)
        return qs

    def _check_not_sliced(self, method: str) -> None:
        if self.query.is_sliced:
            raise TypeError(f"Cannot {method}() a queryset once it has been sliced; filter first, then slice.")

    def order_by(self, *fields: Any) -> QuerySet[M]:
        """Order by field names (``"-name"`` descending, ``"?"`` random) or expressions (``F("x").desc()``)."""
        if self._query is None and self._fast_tail is None and type(self) is QuerySet:
            names = _plain_ordering(self.model, fields)
            if names is not None:
                return self._with_tail((names, None, None))
        self._check_not_sliced("order_by")
        qs = self._clone()
        qs.query.order_by_names(fields)
        return qs

    def reverse(self) -> QuerySet[M]:
        """Reverse the ordering (the explicit one, or ``Meta.ordering``)."""
        qs = self._clone()
        qs.query.standard_ordering = not qs.query.standard_ordering
        return qs

    def distinct(self, *fields: str) -> QuerySet[M]:
        """``SELECT DISTINCT`` (``DISTINCT ON (fields)`` where the backend supports it)."""
        qs = self._clone()
        qs.query.distinct = True
        if fields:
            cols = []
            for name in fields:
                expr = qs.query.resolve_ref(name)
                if not isinstance(expr, Col):
                    raise FieldError(f"distinct() takes field names; {name!r} is not a column.")
                cols.append(expr)
            qs.query.distinct_fields = tuple(cols)
        return qs

    def values(self, *fields: str, **expressions: Any) -> QuerySet[Any]:
        """Rows as dicts of the named fields (every concrete field when none are named)."""
        qs = self._clone()
        qs.query.set_values(fields, "dict", expressions)
        return qs

    def values_list(self, *fields: str, flat: bool = False, named: bool = False) -> QuerySet[Any]:
        """Rows as tuples; ``flat=True`` with one field gives plain values; ``named=True`` named tuples."""
        if flat and named:
            raise TypeError("values_list() takes flat=True or named=True, not both.")
        if flat and len(fields) != 1:
            raise TypeError("values_list(flat=True) needs exactly one field name.")
        qs = self._clone()
        qs.query.set_values(fields, "flat" if flat else "named" if named else "tuple")
        return qs

    def annotate(self, *args: Any, **kwargs: Any) -> QuerySet[M]:
        """Add computed values (``F``, ``Count``...) to each row as attributes (or values() keys)."""
        qs = self._clone()
        for arg in args:
            alias = getattr(arg, "default_alias", None)
            if alias is None:
                raise TypeError(f"annotate() positional argument {arg!r} needs a keyword name.")
            kwargs[alias] = arg
        for name, expr in kwargs.items():
            qs.query.add_annotation(name, expr)
        return qs

    def select_related(self, *fields: str) -> QuerySet[M]:
        """Load forward relations in the same query with JOINs (``"author"``, ``"author__publisher"``).

        Without names every non-null forward FK is followed, which warns:
        name the paths you need.
        """
        if self.query.values_select is not None:
            raise TypeError("select_related() cannot follow values()/values_list().")
        qs = self._clone()
        if not fields:
            followed = qs.query.add_select_related(())
            forward = [f.name for f in self.model._meta.concrete_fields if f.is_relation]
            example = ", ".join(repr(name) for name in forward) or "'author'"
            warnings.warn(
                f"select_related() without field names followed every non-null foreign key of "
                f"{self.model.__name__} ({', '.join(followed) or 'none'}); nullable ones are not followed and "
                f"will still query per row. Name the paths you need: select_related({example}).",
                SelectRelatedWarning,
                stacklevel=2,
            )
        else:
            qs.query.add_select_related(fields)
        return qs

    def prefetch_related(self, *lookups: Any) -> QuerySet[M]:
        """Load relations (FK, reverse FK, M2M, nested, ``Prefetch``) with one extra query per level."""
        qs = self._clone()
        if lookups == (None,):
            qs._prefetch = ()
        else:
            from dorm.models.prefetch import normalize_lookups

            normalize_lookups(lookups)
            qs._prefetch = (*self._prefetch, *lookups)
        return qs

    def only(self, *fields: str) -> QuerySet[M]:
        """Load only these fields now (the pk always); the rest load on access."""
        qs = self._clone()
        qs.query.set_deferred(fields, only=True)
        return qs

    def defer(self, *fields: str | None) -> QuerySet[M]:
        """Leave these fields out of the query; they load on access."""
        qs = self._clone()
        if fields == (None,):  # defer(None) clears, as in Django
            qs.query.deferred = frozenset()
            qs.query.only_mode = False
        else:
            qs.query.set_deferred([f for f in fields if f is not None], only=False)
        return qs

    def select_for_update(self, nowait: bool = False, skip_locked: bool = False, of: Sequence[str] = ()) -> QuerySet[M]:
        """Lock the selected rows until the end of the transaction (``FOR UPDATE``)."""
        if nowait and skip_locked:
            raise ValueError("select_for_update() takes nowait or skip_locked, not both.")
        qs = self._clone()
        qs.query.for_update = (nowait, skip_locked, tuple(of))
        qs._sticky_write = True
        return qs

    def union(self, *others: QuerySet[Any], all: bool = False) -> QuerySet[M]:
        """``UNION`` (``UNION ALL`` with ``all=True``) of querysets selecting the same columns."""
        qs = self._clone()
        parts = [self.query, *(o.query for o in others)]
        combined = []
        for p in parts:
            c = p.clone()
            c.apply_default_ordering()
            c.clear_ordering()
            if c.is_sliced:
                raise NotSupportedError("Slice querysets after union(), not before.")
            combined.append(c)
        q = Query(self.model)
        q.combinator = "union all" if all else "union"
        q.combined = tuple(combined)
        q.values_select = self.query.values_select
        q.values_kind = self.query.values_kind
        q.select_exprs = dict(self.query.select_exprs)
        q.order_by = ()
        q.default_ordering = False
        qs.query = q
        return qs

    def using(self, alias: str | None) -> QuerySet[M]:
        """Run on database ``alias`` instead of the router's choice."""
        if alias is not None:
            from dorm.conf import settings

            settings.database(alias)
        qs = self._clone()
        qs._db = alias
        return qs

    def none(self) -> QuerySet[M]:
        """A queryset that matches nothing and never queries."""
        qs = self._clone()
        qs.query.is_empty = True
        return qs

    def limit(self, n: int) -> QuerySet[M]:
        """The first ``n`` rows (same as ``[:n]``)."""
        sliced: QuerySet[M] = self[:n]
        return sliced

    # ------------------------------------------------------------------
    # statement preparation (shared by sync and async)
    # ------------------------------------------------------------------

    @property
    def db(self) -> str:
        """The alias this queryset reads from (writes use :meth:`_db_for_write`)."""
        if self._db is not None:
            return self._db
        if self._sticky_write:
            return router.db_for_write(self.model)
        return router.db_for_read(self.model)

    def _db_for_write(self) -> str:
        return self._db if self._db is not None else router.db_for_write(self.model)

    def _statement(self, query: Query, alias: str, fetch: int = FETCH_ALL) -> tuple[Statement, Any]:
        if plugins.kernel.implemented("dorm_query_pre_compile"):
            query = query.clone()
            plugins.kernel.query_pre_compile(query, alias)
        wrapper = connections[alias]
        sql, params, plan = compiled(query, wrapper)
        return Statement(alias, sql, params, fetch=fetch, model=self.model, origin=self._origin), plan

    def _wrapped_statement(self, query: Query, template: str) -> Statement:
        """``template`` around this query compiled as a derived table (count/exists of
        sliced, distinct, grouped or combined querysets).  The inner SQL is cached by shape."""
        q = query.clone()
        if q.order_by is None:
            q.apply_default_ordering()
        if not q.is_sliced:
            q.clear_ordering()
        q.select_related = None
        alias = self.db
        stmt, _plan = self._statement(q, alias)
        quote = connections[alias].ops.quote_name
        stmt.sql = template.format(inner=stmt.sql, alias=quote("subquery"))
        return stmt

    def _op_fetch(self, query: Query | None = None) -> Op[list[Any]]:
        q = self.query if query is None else query
        if q.is_empty:
            return []
        if q.order_by is None:
            q.apply_default_ordering()
        alias = self.db
        stmt, plan = self._statement(q, alias)
        done = yield stmt
        results = hydrate(plan, done.rows or [], alias)
        known = self._known_related_objects
        if known and q.values_select is None:
            for field, mapping in known.items():
                attname, name = field.attname, field.name
                for obj in results:
                    target = mapping.get(obj.__dict__.get(attname))
                    if target is not None:
                        obj._state.fields_cache[name] = target
        if self._prefetch and results and q.values_select is None:
            from dorm.models.prefetch import op_prefetch

            yield from op_prefetch(results, self._prefetch, alias)
        return results

    # ------------------------------------------------------------------
    # evaluation
    # ------------------------------------------------------------------

    def _express_ready(self) -> bool:
        """A fresh ``filter(**kw)`` / ``all()`` queryset, with nothing the express lane does not do."""
        return (
            self._query is None
            and self._result_cache is None
            and not self._prefetch
            and self._known_related_objects is None
            and not self._sticky_write
        )

    def _fetch_all(self, method: str) -> list[Any]:
        cache = self._result_cache
        if cache is None:
            guards.check_sync_access(self.model, method)
            if self._express_ready():
                found = express.fetch(self.model, self._db, self._fast_kwargs or {}, method, self._fast_tail)
                if found is not MISS:
                    self._result_cache = found
                    return found  # type: ignore[no-any-return]
            q = self.query
            if self._prefetch or self._known_related_objects or q.is_empty:
                cache = drive(self._op_fetch(), method)
            else:
                # the common case without the generator driver (same steps as _op_fetch)
                if q.order_by is None:
                    q.apply_default_ordering()
                stmt, plan = self._statement(q, self.db)
                done = executor.run(stmt, method)
                cache = hydrate(plan, done.rows or [], stmt.alias)
            self._result_cache = cache
        return cache

    async def _afetch_all(self) -> list[Any]:
        cache = self._result_cache
        if cache is None:
            if self._express_ready():
                found = await express.afetch(self.model, self._db, self._fast_kwargs or {}, self._fast_tail)
                if found is not MISS:
                    self._result_cache = found
                    return found  # type: ignore[no-any-return]
            cache = self._result_cache = await adrive(self._op_fetch())
        return cache

    def __iter__(self) -> Iterator[M]:
        return iter(self._fetch_all("__iter__"))

    def __len__(self) -> int:
        return len(self._fetch_all("__len__"))

    def __bool__(self) -> bool:
        return bool(self._fetch_all("__bool__"))

    def __await__(self) -> Generator[Any, None, list[M]]:
        return self._afetch_all().__await__()

    async def __aiter__(self) -> AsyncIterator[M]:
        for obj in await self._afetch_all():
            yield obj

    def __getitem__(self, k: int | slice) -> Any:
        if isinstance(k, slice):
            if (k.start is not None and k.start < 0) or (k.stop is not None and k.stop < 0):
                raise ValueError("Negative indexing is not supported.")
            if k.step not in (None, 1):
                raise ValueError("Slicing with a step is not supported.")
            if self._result_cache is not None:
                return self._result_cache[k]
            if self._query is None and type(self) is QuerySet:
                tail = self._fast_tail
                if tail is None:
                    return self._with_tail((None, k.start, k.stop))
                if tail[1] is None and tail[2] is None:
                    return self._with_tail((tail[0], k.start, k.stop))
            qs = self._clone()
            qs.query.set_limits(k.start, k.stop)
            return qs
        if not isinstance(k, int):
            raise TypeError(f"QuerySet indices must be integers or slices, not {type(k).__name__}.")
        if k < 0:
            raise ValueError("Negative indexing is not supported.")
        if self._result_cache is not None:
            return self._result_cache[k]
        qs = self._clone()
        qs.query.set_limits(k, k + 1)
        rows = qs._fetch_all("__getitem__")
        if not rows:
            raise IndexError("QuerySet index out of range")
        return rows[0]

    def __repr__(self) -> str:
        """Like Django: the first 20 results (one ``LIMIT 21`` query when not evaluated yet).

        Inside a running event loop an unevaluated queryset is not fetched
        (that would block the loop); it says so instead.
        """
        data = self._result_cache
        if data is None:
            if asyncio._get_running_loop() is not None:
                return f"<QuerySet {self.model.__name__} (not evaluated: await it or use async for)>"
            data = list(self[:21])
        data = data[:21]
        text = ", ".join(repr(o) for o in data[:20])
        if len(data) > 20:
            text += ", ...(remaining elements truncated)..."
        return f"<QuerySet [{text}]>"

    def __class_getitem__(cls, item: Any) -> Any:
        return cls

    # ------------------------------------------------------------------
    # single objects
    # ------------------------------------------------------------------

    def _op_get(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Op[M]:
        qs = self.filter(*args, **kwargs) if (args or kwargs) else self._clone()
        q = qs.query
        if not q.is_sliced and q.values_select is None:
            q.clear_ordering()
        if not q.is_sliced:
            q.set_limits(None, MAX_GET_RESULTS)
        results = yield from qs._op_fetch(q)
        if len(results) == 1:
            return results[0]  # type: ignore[no-any-return]
        raise express.get_error(self.model, len(results))

    def get(self, *args: Any, **kwargs: Any) -> M:
        """The one row matching; ``DoesNotExist`` / ``MultipleObjectsReturned`` otherwise."""
        guards.check_sync_access(self.model, "get")
        if (
            not args
            and self._query is None
            and self._fast_kwargs is None
            and self._fast_tail is None
            and not self._prefetch
        ):
            found = express.get(self.model, self._db, kwargs)
            if found is not MISS:
                return found  # type: ignore[no-any-return]
        return drive(self._op_get(args, kwargs), "get")

    async def aget(self, *args: Any, **kwargs: Any) -> M:
        if (
            not args
            and self._query is None
            and self._fast_kwargs is None
            and self._fast_tail is None
            and not self._prefetch
        ):
            found = await express.aget(self.model, self._db, kwargs)
            if found is not MISS:
                return found  # type: ignore[no-any-return]
        return await adrive(self._op_get(args, kwargs))

    def _op_get_or_none(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Op[M | None]:
        try:
            return (yield from self._op_get(args, kwargs))
        except self.model.DoesNotExist:
            return None

    def get_or_none(self, *args: Any, **kwargs: Any) -> M | None:
        """The one row matching, or ``None``; still ``MultipleObjectsReturned`` on several."""
        guards.check_sync_access(self.model, "get_or_none")
        return drive(self._op_get_or_none(args, kwargs), "get_or_none")

    async def aget_or_none(self, *args: Any, **kwargs: Any) -> M | None:
        return await adrive(self._op_get_or_none(args, kwargs))

    def _op_first(self, last: bool) -> Op[M | None]:
        qs = self._clone()
        q = qs.query
        if q.order_by is None:
            q.apply_default_ordering()
        if not q.order_by:
            q.add_ordering(["pk"])
        if last:
            q.standard_ordering = not q.standard_ordering
        if q.is_sliced:
            rows = yield from qs._op_fetch(q)
            if last:
                return rows[-1] if rows else None
            return rows[0] if rows else None
        q.set_limits(None, 1)
        rows = yield from qs._op_fetch(q)
        return rows[0] if rows else None

    def first(self) -> M | None:
        """The first row (by the ordering, else by pk), or ``None``."""
        guards.check_sync_access(self.model, "first")
        if self._express_ready() and self._fast_tail is None:
            found = express.first(self.model, self._db, self._fast_kwargs or {})
            if found is not MISS:
                return found  # type: ignore[no-any-return]
        return drive(self._op_first(False), "first")

    async def afirst(self) -> M | None:
        if self._express_ready() and self._fast_tail is None:
            found = await express.afirst(self.model, self._db, self._fast_kwargs or {})
            if found is not MISS:
                return found  # type: ignore[no-any-return]
        return await adrive(self._op_first(False))

    def last(self) -> M | None:
        """The last row (by the ordering, else by pk), or ``None``."""
        guards.check_sync_access(self.model, "last")
        return drive(self._op_first(True), "last")

    async def alast(self) -> M | None:
        return await adrive(self._op_first(True))

    def _latest_qs(self, fields: tuple[str, ...], descending: bool) -> QuerySet[M]:
        if not fields:
            by = self.model._meta.get_latest_by
            if not by:
                raise ValueError("earliest()/latest() need a field name or Meta.get_latest_by.")
            fields = tuple(by) if isinstance(by, (list, tuple)) else (by,)
        order = [f if not descending else (f[1:] if f.startswith("-") else "-" + f) for f in fields]
        return self.order_by(*order)

    def earliest(self, *fields: str) -> M:
        """The row with the smallest value of ``fields`` (or ``Meta.get_latest_by``)."""
        guards.check_sync_access(self.model, "earliest")
        return drive(self._latest_qs(fields, False)._op_one(), "earliest")

    async def aearliest(self, *fields: str) -> M:
        return await adrive(self._latest_qs(fields, False)._op_one())

    def latest(self, *fields: str) -> M:
        """The row with the largest value of ``fields`` (or ``Meta.get_latest_by``)."""
        guards.check_sync_access(self.model, "latest")
        return drive(self._latest_qs(fields, True)._op_one(), "latest")

    async def alatest(self, *fields: str) -> M:
        return await adrive(self._latest_qs(fields, True)._op_one())

    def _op_one(self) -> Op[M]:
        qs = self._clone()
        qs.query.set_limits(None, 1)
        rows = yield from qs._op_fetch(qs.query)
        if not rows:
            raise self.model.DoesNotExist(f"{self.model.__name__} matching query does not exist.")
        return rows[0]  # type: ignore[no-any-return]

    # ------------------------------------------------------------------
    # counting and aggregation
    # ------------------------------------------------------------------

    def _op_exists(self) -> Op[bool]:
        if self._result_cache is not None:
            return bool(self._result_cache)
        q = self.query.clone()
        if q.is_empty:
            return False
        if q.combinator or q.distinct or q.has_aggregates():
            done = yield self._wrapped_statement(q, "SELECT 1 FROM ({inner}) {alias} LIMIT 1")
            return bool(done.rows)
        q.is_exists = True
        q.clear_ordering()
        q.select_related = None
        q.set_limits(None, 1)
        stmt, _plan = self._statement(q, self.db)
        done = yield stmt
        return bool(done.rows)

    def exists(self) -> bool:
        """True when at least one row matches (``SELECT 1 ... LIMIT 1``)."""
        guards.check_sync_access(self.model, "exists")
        if self._express_ready() and self._fast_tail is None:
            found = express.exists(self.model, self._db, self._fast_kwargs or {})
            if found is not MISS:
                return found  # type: ignore[no-any-return]
        return drive(self._op_exists(), "exists")

    async def aexists(self) -> bool:
        if self._express_ready() and self._fast_tail is None:
            found = await express.aexists(self.model, self._db, self._fast_kwargs or {})
            if found is not MISS:
                return found  # type: ignore[no-any-return]
        return await adrive(self._op_exists())

    def _op_count(self) -> Op[int]:
        if self._result_cache is not None:
            return len(self._result_cache)
        q = self.query
        if q.is_empty:
            return 0
        if q.combinator or q.distinct or q.is_sliced or q.has_aggregates() or q.group_by is not None:
            done = yield self._wrapped_statement(q, "SELECT COUNT(*) FROM ({inner}) {alias}")
            return int(done.rows[0][0]) if done.rows else 0
        from dorm.aggregates import Count

        q = q.clone()
        q.clear_ordering()
        q.select_related = None
        q.annotations = {}
        q.annotation_mask = None
        q.values_select = ("__count",)
        q.select_exprs = {"__count": Count().resolve(q)}
        q.values_kind = "flat"
        stmt, plan = self._statement(q, self.db)
        done = yield stmt
        return int(done.rows[0][0]) if done.rows else 0

    def count(self) -> int:
        """The number of matching rows (``SELECT COUNT(*)``; the cached length if evaluated)."""
        if self.model._meta.async_only:
            raise guards.sync_access_error(self.model, "count")
        if (
            self._query is None
            and self._fast_tail is None
            and self._result_cache is None
            and self._known_related_objects is None
        ):
            found = express.count(self.model, self._db, self._fast_kwargs or {})
            if found is not MISS:
                return found  # type: ignore[no-any-return]
        return drive(self._op_count(), "count")

    async def acount(self) -> int:
        if (
            self._query is None
            and self._fast_tail is None
            and self._result_cache is None
            and self._known_related_objects is None
        ):
            found = await express.acount(self.model, self._db, self._fast_kwargs or {})
            if found is not MISS:
                return found  # type: ignore[no-any-return]
        return await adrive(self._op_count())

    def _op_aggregate(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Op[dict[str, Any]]:
        for arg in args:
            kwargs[arg.default_alias] = arg
        if not kwargs:
            return {}
        q = self.query.clone()
        if (q.is_sliced or q.distinct) and not (q.combinator or q.has_aggregates() or q.values_select is not None):
            # aggregate over exactly these rows: the model filtered by pk IN (this queryset)
            subset: QuerySet[M] = QuerySet(self.model, using=self._db).filter(pk__in=self.values("pk"))
            return (yield from subset._op_aggregate(args, kwargs))
        if q.is_sliced or q.distinct or q.combinator or q.has_aggregates():
            return (yield from self._op_aggregate_derived(q, kwargs))
        q.clear_ordering()
        q.select_related = None
        exprs: dict[str, Expression] = {}
        for name, expr in kwargs.items():
            if not isinstance(expr, Expression) or not expr.has_aggregate():
                raise TypeError(f"aggregate({name}=...) takes an aggregate (Count, Sum, Avg, Min, Max), not {expr!r}.")
            if not name.isidentifier() or name.startswith("_"):
                raise FieldError(f"Invalid aggregate name {name!r}: use an identifier not starting with '_'.")
            exprs[name] = expr.resolve(q)
        q.annotations = dict(exprs)
        q.annotation_mask = None
        q.values_select = tuple(exprs)
        q.select_exprs = exprs
        q.values_kind = "dict"
        q.group_by = None
        if q.is_empty:
            return {name: None for name in exprs}
        stmt, plan = self._statement(q, self.db)
        done = yield stmt
        rows = hydrate(plan, done.rows or [], stmt.alias)
        return rows[0] if rows else {name: None for name in exprs}

    def _op_aggregate_derived(self, q: Query, aggregates: dict[str, Any]) -> Op[dict[str, Any]]:
        """Aggregates over this queryset's result rows, run as a derived table (see dorm.sql.derived)."""
        from dorm.sql.derived import wrap_aggregates

        for name in aggregates:
            if not name.isidentifier() or name.startswith("_"):
                raise FieldError(f"Invalid aggregate name {name!r}: use an identifier not starting with '_'.")
        if not q.is_sliced:
            q.clear_ordering()
        q.select_related = None
        if q.is_empty:
            return {name: None for name in aggregates}
        alias = self.db
        stmt, _plan = self._statement(q, alias)
        stmt.sql, stmt.params, outputs = wrap_aggregates(
            stmt.sql, list(stmt.params or ()), q, aggregates, connections[alias]
        )
        done = yield stmt
        row = done.rows[0] if done.rows else (None,) * len(outputs)
        return {
            name: value if convert is None or value is None else convert(value)
            for (name, convert), value in zip(outputs, row, strict=True)
        }

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Aggregate over the whole queryset: ``aggregate(total=Sum("price"))`` -> ``{"total": ...}``."""
        guards.check_sync_access(self.model, "aggregate")
        return drive(self._op_aggregate(args, kwargs), "aggregate")

    async def aaggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return await adrive(self._op_aggregate(args, kwargs))

    def _op_in_bulk(self, id_list: Iterable[Any] | None, field_name: str) -> Op[dict[Any, M]]:
        if self.query.is_sliced:
            raise TypeError("Cannot use in_bulk() on a sliced queryset.")
        if id_list is not None:
            ids = list(id_list)
            if not ids:
                return {}
            qs = self.filter(**{f"{field_name}__in": ids})
        else:
            qs = self._clone()
        rows = yield from qs._op_fetch()
        attr = "pk" if field_name == "pk" else field_name
        return {getattr(obj, attr): obj for obj in rows}

    def in_bulk(self, id_list: Iterable[Any] | None = None, *, field_name: str = "pk") -> dict[Any, M]:
        """``{pk: obj}`` for the given ids (or every row)."""
        guards.check_sync_access(self.model, "in_bulk")
        return drive(self._op_in_bulk(id_list, field_name), "in_bulk")

    async def ain_bulk(self, id_list: Iterable[Any] | None = None, *, field_name: str = "pk") -> dict[Any, M]:
        return await adrive(self._op_in_bulk(id_list, field_name))

    # ------------------------------------------------------------------
    # streaming
    # ------------------------------------------------------------------

    def iterator(self, chunk_size: int = 2000) -> Generator[M, None, None]:
        """Stream rows without caching them (a server-side cursor where the backend has one).

        The statement goes through the executor like any other: wrappers see
        it once, as a streamed statement (``Statement.streamed``), when the
        iteration ends or is abandoned.
        """
        guards.check_sync_access(self.model, "iterator")
        executor.ensure_sync_allowed("iterator")
        q = self.query
        if q.is_empty:
            return
        q.apply_default_ordering()
        alias = self.db
        stmt, plan = self._statement(q, alias)
        prefetch = self._prefetch
        # Prefetching runs statements between chunks: the rows are then fetched in one go.
        chunks = executor.stream(stmt, chunk_size, "iterator", server_side=not prefetch)
        try:
            for chunk in chunks:
                objs = hydrate(plan, chunk, alias)
                if prefetch and q.values_select is None:
                    from dorm.models.prefetch import op_prefetch

                    drive(op_prefetch(objs, prefetch, alias), "iterator")
                yield from objs
        finally:
            chunks.close()  # an abandoned iteration gives its connection back now

    async def aiterator(self, chunk_size: int = 2000) -> AsyncGenerator[M, None]:
        """Async twin of :meth:`iterator`: ``async for obj in qs.aiterator()``."""
        q = self.query
        if q.is_empty:
            return
        q.apply_default_ordering()
        alias = self.db
        stmt, plan = self._statement(q, alias)
        prefetch = self._prefetch
        chunks = executor.astream(stmt, chunk_size, server_side=not prefetch)
        try:
            async for chunk in chunks:
                objs = hydrate(plan, chunk, alias)
                if prefetch and q.values_select is None:
                    from dorm.models.prefetch import op_prefetch

                    await adrive(op_prefetch(objs, prefetch, alias))
                for obj in objs:
                    yield obj
        finally:
            await chunks.aclose()  # an abandoned iteration gives its connection back now

    # ------------------------------------------------------------------
    # writes
    # ------------------------------------------------------------------

    def _op_update(self, kwargs: dict[str, Any]) -> Op[int]:
        if not kwargs:
            return 0
        q = self.query.clone()
        if q.values_select is not None or q.combinator:
            raise TypeError("update() cannot follow values(), values_list() or union().")
        q.kind = UPDATE
        if not q.is_sliced:
            q.clear_ordering()
        elif q.order_by is None:
            q.apply_default_ordering()
        q.select_related = None
        meta = self.model._meta
        for name, value in kwargs.items():
            field = _concrete_field(self.model, name, "update")
            if isinstance(value, Expression):
                joins_before = len(q.alias_map)
                expr = value.resolve(q)
                if expr.has_aggregate():
                    raise FieldError(f"update({name}=...) cannot use an aggregate.")
                if len(q.alias_map) != joins_before:
                    raise FieldError(
                        f"update({name}=...) refers to a field of a related model; UPDATE can only read "
                        f"columns of {self.model.__name__}'s own table. Use a Subquery() with OuterRef() instead."
                    )
            else:
                if hasattr(value, "_meta") and field.is_relation:
                    value = value.pk
                expr = Value(value, field)
            q.update_values.append((field, expr))
        del meta
        if q.is_empty:
            return 0
        alias = self._db_for_write()
        stmt, _plan = self._statement(q, alias, FETCH_NONE)
        done = yield stmt
        return int(done.rowcount)

    def update(self, **kwargs: Any) -> int:
        """``UPDATE`` every matching row (``F`` expressions allowed); returns the row count.

        Field validation does not run here (nor do ``save()`` signals): the
        values go to the database as given.
        """
        guards.check_sync_access(self.model, "update")
        guards.check_writable(self.model, "update")
        pending = self._fast_kwargs
        if pending is not None and self._query is None and self._fast_tail is None and not self._sticky_write:
            found = express.update(self.model, self._db, pending, kwargs)
            if found is not MISS:
                return found  # type: ignore[no-any-return]
        return drive(self._op_update(kwargs), "update")

    async def aupdate(self, **kwargs: Any) -> int:
        guards.check_writable(self.model, "aupdate")
        pending = self._fast_kwargs
        if pending is not None and self._query is None and self._fast_tail is None and not self._sticky_write:
            found = await express.aupdate(self.model, self._db, pending, kwargs)
            if found is not MISS:
                return found  # type: ignore[no-any-return]
        return await adrive(self._op_update(kwargs))

    def _op_delete(self) -> Op[tuple[int, dict[str, int]]]:
        if self.query.values_select is not None or self.query.combinator:
            raise TypeError("delete() cannot follow values(), values_list() or union().")
        if self.query.distinct:
            raise TypeError("delete() cannot follow distinct().")
        from dorm.models.deletion import op_delete_queryset

        return (yield from op_delete_queryset(self, self._db_for_write()))

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete matching rows and what ``on_delete`` cascades, in one transaction.

        Returns ``(total, {"app.Model": count, ...})``.
        """
        guards.check_sync_access(self.model, "delete")
        guards.check_writable(self.model, "delete")
        return drive(self._op_delete(), "delete", atomic_alias=self._db_for_write())

    async def adelete(self) -> tuple[int, dict[str, int]]:
        guards.check_writable(self.model, "adelete")
        return await adrive(self._op_delete(), atomic_alias=self._db_for_write())

    def _op_create(self, kwargs: dict[str, Any]) -> Op[M]:
        from dorm.models.persistence import op_save

        obj = self.model(**kwargs)
        yield from op_save(obj, force_insert=True, using=self._db_for_write())
        return obj

    def create(self, **kwargs: Any) -> M:
        """Build an instance (validated) and INSERT it."""
        guards.check_sync_access(self.model, "create")
        guards.check_writable(self.model, "create")
        return drive(self._op_create(kwargs), "create")

    async def acreate(self, **kwargs: Any) -> M:
        guards.check_writable(self.model, "acreate")
        return await adrive(self._op_create(kwargs))

    def _op_get_or_create(self, defaults: dict[str, Any] | None, kwargs: dict[str, Any]) -> Op[tuple[M, bool]]:
        try:
            return (yield from self._op_get((), kwargs)), False
        except self.model.DoesNotExist:
            pass
        params = {k: v for k, v in kwargs.items() if "__" not in k}
        params.update(defaults or {})
        params = {k: (v() if callable(v) else v) for k, v in params.items()}
        try:
            # in a savepoint: a unique-constraint race must leave the caller's transaction usable
            obj = yield AtomicCall(self._op_create(params), self._db_for_write())
            return obj, True
        except IntegrityError as exc:
            try:
                return (yield from self._op_get((), kwargs)), False
            except self.model.DoesNotExist:
                raise exc from None

    def get_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> tuple[M, bool]:
        """``(obj, created)``: the matching row, or a new one built from ``kwargs`` and ``defaults``."""
        guards.check_sync_access(self.model, "get_or_create")
        guards.check_writable(self.model, "get_or_create")
        return drive(self._op_get_or_create(defaults, kwargs), "get_or_create", atomic_alias=self._db_for_write())

    async def aget_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> tuple[M, bool]:
        guards.check_writable(self.model, "aget_or_create")
        return await adrive(self._op_get_or_create(defaults, kwargs), atomic_alias=self._db_for_write())

    def _op_update_or_create(self, defaults: dict[str, Any] | None, kwargs: dict[str, Any]) -> Op[tuple[M, bool]]:
        from dorm.models.persistence import op_save

        alias = self._db_for_write()
        qs = self.using(alias)
        if connections[alias].features.supports_select_for_update:
            qs = qs.select_for_update()
        try:
            obj = yield from qs._op_get((), kwargs)
        except self.model.DoesNotExist:
            obj, created = yield from qs._op_get_or_create(defaults, kwargs)
            return obj, created
        for name, value in (defaults or {}).items():
            setattr(obj, name, value() if callable(value) else value)
        yield from op_save(obj, using=alias)
        return obj, False

    def update_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> tuple[M, bool]:
        """Update the matching row with ``defaults`` (or create it), atomically."""
        guards.check_sync_access(self.model, "update_or_create")
        guards.check_writable(self.model, "update_or_create")
        return drive(self._op_update_or_create(defaults, kwargs), "update_or_create", atomic_alias=self._db_for_write())

    async def aupdate_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> tuple[M, bool]:
        guards.check_writable(self.model, "aupdate_or_create")
        return await adrive(self._op_update_or_create(defaults, kwargs), atomic_alias=self._db_for_write())

    def bulk_create(
        self,
        objs: Iterable[M],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Sequence[str] | None = None,
        unique_fields: Sequence[str] | None = None,
    ) -> list[M]:
        """INSERT many instances in multi-row statements; sets pks where the backend returns them.

        ``ignore_conflicts=True`` skips rows that violate a unique constraint
        (``ON CONFLICT DO NOTHING``); ``update_conflicts=True`` updates
        ``update_fields`` of the existing row (``unique_fields`` name the conflict target).
        Signals are not sent.
        """
        guards.check_sync_access(self.model, "bulk_create")
        guards.check_writable(self.model, "bulk_create")
        from dorm.models.persistence import op_bulk_create

        objs = list(objs)
        alias = self._db_for_write()
        op = op_bulk_create(
            self.model, objs, alias, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields
        )
        return drive(op, "bulk_create", atomic_alias=alias if len(objs) > 1 else None)

    async def abulk_create(
        self,
        objs: Iterable[M],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Sequence[str] | None = None,
        unique_fields: Sequence[str] | None = None,
    ) -> list[M]:
        guards.check_writable(self.model, "abulk_create")
        from dorm.models.persistence import op_bulk_create

        objs = list(objs)
        alias = self._db_for_write()
        op = op_bulk_create(
            self.model, objs, alias, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields
        )
        return await adrive(op, atomic_alias=alias if len(objs) > 1 else None)

    def _op_bulk_update(self, objs: list[M], fields: Sequence[str], batch_size: int | None) -> Op[int]:
        if not fields:
            raise ValueError("bulk_update() needs field names to update.")
        if batch_size is not None and batch_size <= 0:
            raise ValueError("batch_size must be a positive integer.")
        model_fields = [_concrete_field(self.model, name, "bulk_update") for name in fields]
        if any(f.primary_key for f in model_fields):
            raise ValueError("bulk_update() cannot update primary keys.")
        for obj in objs:
            if obj.pk is None:
                raise ValueError("All bulk_update() objects must have a primary key set.")
        if not objs:
            return 0
        alias = self._db_for_write()
        plugins.kernel.pre_bulk_write(self.model, list(objs), alias, "update")
        ops = connections[alias].ops
        per_obj = 2 * len(model_fields) + 1
        size = min(batch_size or len(objs), ops.bulk_batch_size(per_obj, len(objs)))
        total = 0
        pk = self.model._meta.pk
        for start in range(0, len(objs), size):
            batch = objs[start : start + size]
            q = Query(self.model)
            q.kind = UPDATE
            for field in model_fields:
                whens = [When(Q(pk=obj.pk), then=Value(field.pre_save(obj, False), field)) for obj in batch]
                case = Case(*whens, default=F(field.name), output_field=field)
                q.update_values.append((field, case.resolve(q)))
            q.add_q(Q(pk__in=[obj.pk for obj in batch]))
            stmt, _plan = self._statement(q, alias, FETCH_NONE)
            done = yield stmt
            total += max(done.rowcount, 0)
        del pk
        return total

    def bulk_update(self, objs: Iterable[M], fields: Sequence[str], batch_size: int | None = None) -> int:
        """UPDATE ``fields`` of many instances: at most ceil(n / batch_size) statements (CASE WHEN)."""
        guards.check_sync_access(self.model, "bulk_update")
        guards.check_writable(self.model, "bulk_update")
        objs = list(objs)
        return drive(
            self._op_bulk_update(objs, fields, batch_size),
            "bulk_update",
            atomic_alias=self._db_for_write() if len(objs) > 1 else None,
        )

    async def abulk_update(self, objs: Iterable[M], fields: Sequence[str], batch_size: int | None = None) -> int:
        guards.check_writable(self.model, "abulk_update")
        objs = list(objs)
        return await adrive(
            self._op_bulk_update(objs, fields, batch_size), atomic_alias=self._db_for_write() if len(objs) > 1 else None
        )

    # ------------------------------------------------------------------
    # raw SQL and explain
    # ------------------------------------------------------------------

    def raw(self, raw_query: str, params: Sequence[Any] = ()) -> RawQuerySet[M]:
        """Model instances from your own SQL (``%s`` placeholders); columns map to attnames."""
        return RawQuerySet(self.model, raw_query, params, using=self._db)

    def _op_explain(self, format: str | None, options: dict[str, Any]) -> Op[str]:
        q = self.query
        q.apply_default_ordering()
        alias = self.db
        stmt, _plan = self._statement(q, alias)
        stmt.sql = connections[alias].ops.explain_prefix(format, **options) + " " + stmt.sql
        done = yield stmt
        return "\n".join(" ".join(str(c) for c in row) for row in done.rows or [])

    def explain(self, format: str | None = None, **options: Any) -> str:
        """The database's plan for this query (``EXPLAIN``)."""
        guards.check_sync_access(self.model, "explain")
        return drive(self._op_explain(format, options), "explain")

    async def aexplain(self, format: str | None = None, **options: Any) -> str:
        return await adrive(self._op_explain(format, options))


#: ``(model, names)`` -> the names when they are plain orderings of the model (else None), checked once
_plain_orderings: dict[tuple[Any, tuple[Any, ...]], tuple[str, ...] | None] = {}


def _plain_ordering(model: Any, fields: tuple[Any, ...]) -> tuple[str, ...] | None:
    """``fields`` when every one is a field name (``"-x"``, ``"x"``) ``order_by()`` accepts, else None.

    Raises ``FieldError`` for an unknown name now, as ``order_by()`` always does.
    """
    key = (model, fields)
    try:
        return _plain_orderings[key]
    except (KeyError, TypeError):  # TypeError: an unhashable expression among the fields
        pass
    names: tuple[str, ...] | None = None
    if all(isinstance(f, str) and f != "?" for f in fields):
        Query(model).add_ordering(fields)  # FieldError for a bad name
        names = tuple(fields)
    if len(_plain_orderings) > 4096:
        _plain_orderings.clear()
    try:
        _plain_orderings[key] = names
    except TypeError:
        pass
    return names


#: per model, the filter keyword names already checked (checking builds a probe Query)
_valid_names: dict[Any, set[str]] = {}


def _validate_names(model: Any, kwargs: dict[str, Any]) -> None:
    """Raise ``FieldError`` for a bad keyword now, as ``filter()`` always does (cached per name)."""
    known = _valid_names.get(model)
    if known is None:
        if len(_valid_names) > 4096:  # models made on the fly (tests) must not pile up
            _valid_names.clear()
        known = _valid_names[model] = set()
    for name in kwargs:
        if name not in known:
            Query(model).setup_and_check(name)
            known.add(name)


def _concrete_field(model: Any, name: str, method: str) -> Any:
    from dorm.sql import paths

    step = paths.resolve_name(model, name)
    if step is None or step.kind not in (paths.PLAIN, paths.FORWARD):
        choices = [f.name for f in model._meta.concrete_fields]
        raise FieldError(
            f"{method}() takes concrete field names of {model.__name__}; {name!r} is not one. Choices are: {', '.join(choices)}."
        )
    return step.field


class RawQuerySet(Generic[M]):
    """Instances of ``model`` from raw SQL; selected columns map to attnames (others become attributes)."""

    def __init__(self, model: type[M], raw_query: str, params: Sequence[Any] = (), using: str | None = None) -> None:
        self.model = model
        self.raw_query = raw_query
        self.params = list(params)
        self._db = using

    @property
    def db(self) -> str:
        return self._db if self._db is not None else router.db_for_read(self.model)

    def _op_fetch(self) -> Op[list[M]]:
        """The raw SQL runs as a subquery selecting the model's columns by name, so the
        result maps onto fields without the driver's cursor description."""
        alias = self.db
        wrapper = connections[alias]
        q = wrapper.ops.quote_name
        meta = self.model._meta
        raw = wrapper.ops.convert_raw_placeholders(self.raw_query, self.params)
        cols = ", ".join(f"{q('_raw')}.{q(f.column)}" for f in meta.concrete_fields)
        sql = f"SELECT {cols} FROM ({raw}) {q('_raw')}"
        stmt = Statement(alias, sql, self.params, fetch=FETCH_ALL, model=self.model)
        done = yield stmt
        columns = [f.column for f in meta.concrete_fields]
        return _hydrate_raw(self.model, columns, done.rows or [], alias, wrapper)

    def __iter__(self) -> Iterator[M]:
        guards.check_sync_access(self.model, "__iter__")
        return iter(drive(self._op_fetch(), "__iter__"))

    def __await__(self) -> Generator[Any, None, list[M]]:
        return adrive(self._op_fetch()).__await__()

    async def __aiter__(self) -> AsyncIterator[M]:
        for obj in await adrive(self._op_fetch()):
            yield obj

    def __repr__(self) -> str:
        return f"<RawQuerySet: {self.raw_query}>"


def _hydrate_raw(model: Any, columns: list[str], rows: list[Any], alias: str, wrapper: Any) -> list[Any]:
    from dorm.sql.hydration import new_state

    meta = model._meta
    by_column = {f.column: f for f in meta.concrete_fields}
    by_column.update({f.attname: f for f in meta.concrete_fields})
    names: list[str] = []
    convs: list[Any] = []
    for c in columns:
        f = by_column.get(c)
        names.append(f.attname if f is not None else c)
        convs.append(f.get_db_converter(wrapper) if f is not None else None)
    out = []
    for row in rows:
        obj = model.__new__(model)
        d = obj.__dict__
        for name, conv, v in zip(names, convs, row, strict=False):
            d[name] = conv(v) if (conv is not None and v is not None) else v
        d["_state"] = new_state(alias)
        out.append(obj)
    return out
