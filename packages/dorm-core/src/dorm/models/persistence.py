"""Saving, deleting and refreshing single instances; ``bulk_create``.

``Model.save/asave/delete/adelete/refresh_from_db/arefresh_from_db/afetch_related``
delegate here.  Each operation is a generator of statements (see
``dorm.models._drive``) so the sync and async paths share it.  Hooks and
signals are skipped when nothing implements or listens to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from operator import is_
from typing import Any

from dorm import plugins
from dorm.backends.base.statement import FETCH_ALL, FETCH_NONE, Statement
from dorm.db.connections import connections
from dorm.db.router import router
from dorm.models._drive import Op, SignalCall, adrive, drive

__all__ = [
    "adelete_instance",
    "afetch_related",
    "arefresh_instance",
    "asave_instance",
    "delete_instance",
    "op_bulk_create",
    "op_save",
    "refresh_instance",
    "save_instance",
]


_signals: Any = None


def _signal(name: str) -> Any:
    """The signal ``name`` when some receiver is connected to it, else None."""
    global _signals
    signals = _signals
    if signals is None:
        from dorm import signals

        _signals = signals
    sig = getattr(signals, name, None)
    if sig is None or not sig.has_listeners():
        return None
    return sig


def _send(name: str, sender: Any, **kwargs: Any) -> Op[None]:
    """Send signal ``name`` through the driver (async receivers run on async paths)."""
    sig = _signal(name)
    if sig is not None:
        yield SignalCall(sig, sender, kwargs)


_marker: Any = None


def _db_default_marker() -> Any:
    global _marker
    if _marker is None:
        from dorm.models.base import DB_DEFAULT

        _marker = DB_DEFAULT
    return _marker


def _insert_sql(
    wrapper: Any, model: Any, fields: tuple[Any, ...], rows: int, returning: tuple[Any, ...], conflict: tuple[Any, ...]
) -> str:
    # fields are identity-hashed objects of one model: they key the cache as well as their columns would
    key = ("insert", model, fields, rows, returning, conflict)
    cache = wrapper.compile_cache
    sql: str | None = cache.get(key)
    if sql is None:
        compiler = wrapper.get_compiler_class()(wrapper)
        ignore, update_fields, unique_fields = conflict if conflict else (False, None, None)
        sql = compiler.compile_insert(
            model,
            list(fields),
            rows,
            returning=list(returning) or None,
            ignore_conflicts=ignore,
            update_fields=list(update_fields) if update_fields else None,
            unique_fields=list(unique_fields) if unique_fields else None,
        )
        cache[key] = sql
    return sql


def op_save(
    instance: Any,
    force_insert: bool = False,
    force_update: bool = False,
    using: str | None = None,
    update_fields: Iterable[str] | None = None,
) -> Op[None]:
    """INSERT or UPDATE one instance."""
    cls = type(instance)
    meta = cls._meta
    alias = using or router.db_for_write(cls, instance=instance)
    wrapper = connections[alias]
    adding = instance._state.adding
    fields_set = frozenset(update_fields) if update_fields is not None else None
    if fields_set is not None and not fields_set:
        return
    if plugins.kernel.implemented("dorm_pre_save"):
        plugins.kernel.pre_save(instance, alias, adding, fields_set)
    pk = meta.pk
    data = instance.__dict__
    raw = False
    if _signal("pre_save") is not None:
        yield from _send("pre_save", cls, instance=instance, raw=raw, using=alias, update_fields=fields_set)
    pk_val = data.get(pk.attname)
    created = False
    if not force_insert and (force_update or (not adding and pk_val is not None)):
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        if fields_set is not None:
            names = fields_set
            fields = [f for f in fields if f.name in names or f.attname in names]
        else:
            # fields deferred by only()/defer() were never loaded: leave their columns alone
            fields = [f for f in fields if f.attname in data]
        marker = _db_default_marker()
        values = []
        raw_values = []
        cols = []
        for f in fields:
            value = f.pre_save(instance, False)
            if value is marker:
                continue
            cols.append(f)
            raw_values.append(value)
            values.append(f.get_db_prep_value(value, wrapper))
        rowcount = 1
        if cols and plugins.kernel.implemented("dorm_query_pre_compile"):
            # a plugin may filter the UPDATE (tenancy): build it as a Query so the hook sees it
            done = yield _hooked_save_update(cls, alias, cols, raw_values, pk_val)
            rowcount = done.rowcount
        elif cols:
            key = ("save-update", cls, tuple(f.column for f in cols))
            sql = wrapper.compile_cache.get(key)
            if sql is None:
                q = wrapper.ops.quote_name
                ph = wrapper.ops.param_placeholder
                sets = ", ".join(f"{q(f.column)} = {ph}" for f in cols)
                sql = f"UPDATE {q(meta.db_table)} SET {sets} WHERE {q(pk.column)} = {ph}"
                wrapper.compile_cache[key] = sql
            values.append(pk.get_db_prep_value(pk_val, wrapper))
            done = yield Statement(alias, sql, values, fetch=FETCH_NONE, model=cls)
            rowcount = done.rowcount
        if rowcount == 0:
            if force_update or fields_set is not None:
                from dorm.exceptions import DatabaseError

                raise DatabaseError(
                    f"{cls.__name__} with pk {pk_val!r} did not affect any row: it is not in the database."
                )
            created = True
            yield from _op_insert(instance, alias, wrapper)
    else:
        created = True
        yield from _op_insert(instance, alias, wrapper)
    state = instance._state
    state.adding = False
    state.db = alias
    if _signal("post_save") is not None:
        yield from _send(
            "post_save", cls, instance=instance, created=created, raw=raw, using=alias, update_fields=fields_set
        )


def _hooked_save_update(cls: Any, alias: str, cols: list[Any], raw_values: list[Any], pk_val: Any) -> Statement:
    """The ``save()`` UPDATE as a Query passed through ``dorm_query_pre_compile``."""
    from dorm.expressions import Q, Value
    from dorm.models.query import QuerySet
    from dorm.sql.query import UPDATE, Query

    q = Query(cls)
    q.kind = UPDATE
    q.default_ordering = False
    q.order_by = ()
    q.add_q(Q(pk=pk_val))
    q.update_values = [(f, Value(v, f)) for f, v in zip(cols, raw_values, strict=True)]
    stmt, _plan = QuerySet(cls, using=alias)._statement(q, alias, FETCH_NONE)
    return stmt


def _insert_hook(model: Any, objs: list[Any], alias: str, conflict: tuple[Any, ...] = ()) -> None:
    """``dorm_query_pre_compile`` for INSERTs (only when a plugin implements it)."""
    if plugins.kernel.implemented("dorm_query_pre_compile"):
        from dorm.sql.query import InsertQuery

        plugins.kernel.query_pre_compile(InsertQuery(model, objs, conflict), alias)  # type: ignore[arg-type]


def _op_insert(instance: Any, alias: str, wrapper: Any) -> Op[None]:
    cls = type(instance)
    _insert_hook(cls, [instance], alias)
    meta = cls._meta
    pk = meta.pk
    data = instance.__dict__
    marker = _db_default_marker()
    fields: list[Any] | tuple[Any, ...]
    values: list[Any]
    db_defaults: list[Any] = []
    skip_pk = data.get(pk.attname) is None and _is_auto(pk)
    plain = _plain_insert_fields(meta, skip_pk)
    if plain is not None:
        # no field can be left to a database default: the columns are known, build the row in one go
        fields = plain
        values = _params_builder(cls, plain)([instance], wrapper)
    else:
        fields, values = [], []
        for f in meta.concrete_fields:
            if f is pk and skip_pk:
                continue
            value = f.pre_save(instance, True)
            if value is marker:
                db_defaults.append(f)
                continue
            fields.append(f)
            values.append(f.get_db_prep_value(value, wrapper))
    need_pk = data.get(pk.attname) is None
    returning: tuple[Any, ...] = ()
    features = wrapper.features
    # only the auto key is needed and the driver's lastrowid is it: no RETURNING (SQLite)
    key_from_lastrowid = skip_pk and not db_defaults and features.lastrowid_is_auto_pk
    if features.supports_returning and (need_pk or db_defaults) and not key_from_lastrowid:
        returning = ((pk,) if need_pk else ()) + tuple(db_defaults)
    sql = _insert_sql(wrapper, cls, tuple(fields), 1, returning, ())
    done = yield Statement(alias, sql, values, fetch=FETCH_ALL if returning else FETCH_NONE, model=cls)
    if returning and done.rows:
        row = done.rows[0]
        for f, value in zip(returning, row, strict=False):
            conv = f.get_db_converter(wrapper)
            data[f.attname] = conv(value) if conv is not None and value is not None else value
    elif need_pk:
        data[pk.attname] = done.lastrowid
    if db_defaults and not returning:
        # Without RETURNING the database-side defaults are read back.
        from dorm.models.query import QuerySet

        fresh = (
            yield from QuerySet(cls, using=alias)
            .filter(pk=data[pk.attname])
            .values(*(f.attname for f in db_defaults))
            ._op_fetch()
        )
        if fresh:
            data.update(fresh[0])


def _writers(fields: Sequence[Any]) -> list[tuple[str, Any, Any]]:
    """Per field: ``(attname, pre_save or None, get_db_prep_value or None)``.

    ``None`` marks the base implementations, which for an instance's stored
    value (already coerced on assignment, hence ``prepared=True``) are a
    plain dict read and the identity; bulk paths skip those calls.
    """
    from dorm.fields.base import Field
    from dorm.fields.related import ForeignKey

    base_pre = Field.pre_save
    base_prep = Field.get_db_prep_value
    out = []
    for f in fields:
        cls = type(f)
        pre = None if cls.pre_save is base_pre else f.pre_save
        prep_field = f
        if cls.get_db_prep_value is ForeignKey.get_db_prep_value:
            # a stored key (``author_id``) is never an instance: the target field prepares it
            prep_field = f.target_field
        prep = None if type(prep_field).get_db_prep_value is base_prep else prep_field.get_db_prep_value
        out.append((f.attname, pre, prep))
    return out


_plain_fields: dict[tuple[Any, bool], tuple[Any, ...] | None] = {}


def _plain_insert_fields(meta: Any, skip_pk: bool) -> tuple[Any, ...] | None:
    """The INSERT columns of a model none of whose fields has a ``db_default`` (else None)."""
    key = (meta, skip_pk)
    try:
        return _plain_fields[key]
    except KeyError:
        pass
    from dorm.fields.base import NOT_PROVIDED

    fields: tuple[Any, ...] | None = tuple(f for f in meta.concrete_fields if not (skip_pk and f is meta.pk))
    if any(f.db_default is not NOT_PROVIDED for f in meta.concrete_fields):
        fields = None
    if len(_plain_fields) > 4096:  # models made on the fly (tests) must not pile up
        _plain_fields.clear()
    _plain_fields[key] = fields
    return fields


_ParamsBuilder = Callable[[list[Any], Any], list[Any]]
_builders: dict[tuple[Any, ...], _ParamsBuilder] = {}


def _params_builder(model: Any, fields: tuple[Any, ...]) -> _ParamsBuilder:
    """``(objs, wrapper) -> params``: the INSERT parameters of ``objs``, row after row.

    Generated once per (model, fields) as straight-line code over :func:`_writers`:
    one tuple per row instead of a call per field (``bulk_create`` of 1,000 rows).
    """
    key = (model, fields)
    cached = _builders.get(key)
    if cached is not None:
        return cached
    env: dict[str, Any] = {}
    values = []
    for i, (attname, pre, prep) in enumerate(_writers(fields)):
        value = f"d.get({attname!r})"
        if pre is not None:
            env[f"pre{i}"] = pre
            value = f"pre{i}(obj, True)"
        if prep is not None:
            env[f"prep{i}"] = prep
            value = f"prep{i}({value}, wrapper, True)"
        values.append(value)
    source = "\n".join(
        [
            "def build_params(objs, wrapper):",
            "    params = []",
            "    extend = params.extend",
            "    for obj in objs:",
            "        d = obj.__dict__",
            f"        extend(({', '.join(values)},))",
            "    return params",
        ]
    )
    exec(compile(source, f"<dorm insert params {model.__name__}>", "exec"), env)  # noqa: S102 - generated from the fields only
    builder: _ParamsBuilder = env["build_params"]
    if len(_builders) > 4096:  # models made on the fly (tests) must not pile up
        _builders.clear()
    _builders[key] = builder
    return builder


def _is_auto(field: Any) -> bool:
    return field.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField")


def save_instance(
    instance: Any,
    force_insert: bool = False,
    force_update: bool = False,
    using: str | None = None,
    update_fields: Iterable[str] | None = None,
) -> None:
    drive(op_save(instance, force_insert, force_update, using, update_fields), "save")


async def asave_instance(
    instance: Any,
    force_insert: bool = False,
    force_update: bool = False,
    using: str | None = None,
    update_fields: Iterable[str] | None = None,
) -> None:
    await adrive(op_save(instance, force_insert, force_update, using, update_fields))


# --------------------------------------------------------------------------
# delete
# --------------------------------------------------------------------------


def _delete_op(instance: Any, alias: str) -> Op[tuple[int, dict[str, int]]]:
    from dorm.models.deletion import op_delete_queryset
    from dorm.models.query import QuerySet

    if plugins.kernel.implemented("dorm_pre_delete"):
        plugins.kernel.pre_delete(instance, alias)
    cls = type(instance)
    qs = QuerySet(cls, using=alias).filter(pk=instance.pk)
    result = yield from op_delete_queryset(qs, alias, instances=[instance])
    return result


def delete_instance(instance: Any, using: str | None = None) -> tuple[int, dict[str, int]]:
    alias = using or router.db_for_write(type(instance), instance=instance)
    return drive(_delete_op(instance, alias), "delete", atomic_alias=alias)


async def adelete_instance(instance: Any, using: str | None = None) -> tuple[int, dict[str, int]]:
    alias = using or router.db_for_write(type(instance), instance=instance)
    return await adrive(_delete_op(instance, alias), atomic_alias=alias)


# --------------------------------------------------------------------------
# refresh
# --------------------------------------------------------------------------


def _refresh_op(instance: Any, using: str | None, fields: Iterable[str] | None) -> Op[None]:
    from dorm.models.query import QuerySet

    cls = type(instance)
    alias = using or instance._state.db or router.db_for_read(cls, instance=instance)
    qs: Any = QuerySet(cls, using=alias).filter(pk=instance.pk)
    names = None if fields is None else list(fields)
    if names is not None:
        names = _attname_to_name(cls, names)
        qs = qs.only(*names)
    fresh = yield from qs._op_get((), {})
    data = instance.__dict__
    loaded = fresh.__dict__
    for f in cls._meta.concrete_fields:
        if f.attname in loaded and (names is None or f.name in names):
            data[f.attname] = loaded[f.attname]
            if f.is_relation:
                instance._state.fields_cache.pop(f.name, None)
    instance._state.db = alias
    instance._state.adding = False


def _attname_to_name(cls: Any, names: list[str]) -> list[str]:
    out = []
    for n in names:
        for f in cls._meta.concrete_fields:
            if n in (f.name, f.attname):
                out.append(f.name)
                break
        else:
            out.append(n)
    return out


def refresh_instance(instance: Any, using: str | None = None, fields: Iterable[str] | None = None) -> None:
    drive(_refresh_op(instance, using, fields), "refresh_from_db")


async def arefresh_instance(instance: Any, using: str | None = None, fields: Iterable[str] | None = None) -> None:
    await adrive(_refresh_op(instance, using, fields))


async def afetch_related(instance: Any, *names: str) -> None:
    """Load relations onto one instance for async code (forward, reverse, M2M, nested)."""
    from dorm.models.prefetch import op_prefetch

    alias = instance._state.db or router.db_for_read(type(instance), instance=instance)
    await adrive(op_prefetch([instance], names, alias))


# --------------------------------------------------------------------------
# bulk_create
# --------------------------------------------------------------------------


def op_bulk_create(
    model: Any,
    objs: list[Any],
    alias: str,
    batch_size: int | None,
    ignore_conflicts: bool,
    update_conflicts: bool,
    update_fields: Sequence[str] | None,
    unique_fields: Sequence[str] | None,
) -> Op[list[Any]]:
    if batch_size is not None and batch_size <= 0:
        raise ValueError("batch_size must be a positive integer.")
    if ignore_conflicts and update_conflicts:
        raise ValueError("bulk_create() takes ignore_conflicts or update_conflicts, not both.")
    if not objs:
        return objs
    for obj in objs:
        if not isinstance(obj, model):
            raise TypeError(f"bulk_create() of {model.__name__} got {obj!r}.")
    wrapper = connections[alias]
    features = wrapper.features
    meta = model._meta
    conflict: tuple[Any, ...] = ()
    if update_conflicts:
        if not update_fields:
            raise ValueError("bulk_create(update_conflicts=True) needs update_fields.")
        if features.supports_update_conflicts_with_target and not unique_fields:
            raise ValueError("bulk_create(update_conflicts=True) needs unique_fields (the conflict target).")
        upd = tuple(meta.get_field(n) for n in update_fields)
        uniq = tuple(meta.get_field(n) for n in unique_fields or ())
        conflict = (False, upd, uniq)
    elif ignore_conflicts:
        conflict = (True, None, None)
    plugins.kernel.pre_bulk_write(model, objs, alias, "create")
    _insert_hook(model, objs, alias, conflict)
    pk = meta.pk
    auto = _is_auto(pk)
    marker = _db_default_marker()
    # Rows are grouped by shape: with/without a pk, and which fields are left to their db_default.
    groups: dict[tuple[bool, tuple[str, ...]], list[Any]] = {}
    for o in objs:
        data = o.__dict__
        include = data.get(pk.attname) is not None or not auto
        # identity test over the values at C speed; the per-field scan only when a marker is there
        defaults: tuple[str, ...] = ()
        if any(map(is_, data.values(), repeat(marker))):
            defaults = tuple(f.attname for f in meta.concrete_fields if data.get(f.attname) is marker)
        groups.setdefault((include, defaults), []).append(o)
    for (include_pk, left_out), group in groups.items():
        fields = tuple(f for f in meta.concrete_fields if (include_pk or f is not pk) and f.attname not in left_out)
        defaulted = tuple(f for f in meta.concrete_fields if f.attname in left_out)
        returning: tuple[Any, ...] = ()
        if features.can_return_rows_from_bulk_insert and not ignore_conflicts:
            returning = ((pk,) if not include_pk else ()) + defaulted
        size = wrapper.ops.bulk_batch_size(len(fields), len(group))
        if batch_size:
            size = min(size, batch_size)
        build_params = _params_builder(model, fields)
        for start in range(0, len(group), size):
            batch = group[start : start + size]
            params = build_params(batch, wrapper)
            sql = _insert_sql(wrapper, model, fields, len(batch), returning, conflict)
            done = yield Statement(alias, sql, params, fetch=FETCH_ALL if returning else FETCH_NONE, model=model)
            if returning and done.rows and len(done.rows) == len(batch):
                converters = [f.get_db_converter(wrapper) for f in returning]
                if len(returning) == 1 and converters[0] is None:
                    # the usual case: only the new primary keys come back, as the driver gives them
                    attname = returning[0].attname
                    for obj, (value,) in zip(batch, done.rows, strict=True):
                        obj.__dict__[attname] = value
                else:
                    for obj, row in zip(batch, done.rows, strict=True):
                        data = obj.__dict__
                        for f, conv, value in zip(returning, converters, row, strict=True):
                            data[f.attname] = conv(value) if conv is not None and value is not None else value
            else:
                if not include_pk and len(batch) == 1 and done.lastrowid and not ignore_conflicts:
                    batch[0].__dict__[pk.attname] = done.lastrowid
                for obj in batch:  # database defaults not returned: loaded on first access
                    for attname in left_out:
                        obj.__dict__.pop(attname, None)
            for obj in batch:
                state = obj._state
                state.adding = False
                state.db = alias
    return objs
