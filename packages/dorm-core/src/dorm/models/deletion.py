"""The delete collector: ``on_delete`` rules applied in bulk per model, in one transaction.

For the rows being deleted it finds, model by model, the rows pointing at
them: CASCADE collects them too (recursively), PROTECT raises
``ProtectedError``, RESTRICT raises ``RestrictedError`` (unless the
referencing rows are themselves being deleted by a cascade), SET_NULL /
SET_DEFAULT / SET(...) update them, DO_NOTHING leaves them.  Deletes run
children first.  Everything is a generator of statements (sync/async share it).
"""

from __future__ import annotations

from typing import Any

from dorm.exceptions import ProtectedError, RestrictedError
from dorm.models._drive import Op

__all__ = ["op_delete_queryset"]


def _label(model: Any) -> str:
    meta = model._meta
    return f"{meta.app_label}.{meta.object_name}"


def _pk_list(qs: Any) -> Op[list[Any]]:
    rows: list[Any] = yield from qs.values_list("pk", flat=True)._op_fetch()
    return rows


def op_delete_queryset(qs: Any, alias: str, instances: list[Any] | None = None) -> Op[tuple[int, dict[str, int]]]:
    """Delete ``qs``'s rows and what their relations cascade to; returns ``(total, per-model counts)``."""
    from dorm.models.persistence import _send, _signal
    from dorm.models.query import QuerySet

    model = qs.model
    tags = qs.query.tags

    def new_qs(m: Any, using: str) -> Any:
        """A queryset of the collector; it carries ``qs``'s plugin tags (an unscoped delete cascades unscoped)."""
        out = QuerySet(m, using=using)
        if tags:
            out.query.tags = tags
        return out

    pks = yield from _pk_list(qs.using(alias))
    if not pks:
        return 0, {}
    # model -> set of pks to delete, in discovery order (parents first)
    order: list[Any] = [model]
    doomed: dict[Any, list[Any]] = {model: list(pks)}
    updates: list[tuple[Any, Any, Any, list[Any]]] = []  # (model, field, value, pks)
    restricted: list[tuple[Any, Any, list[Any]]] = []
    pending = [(model, list(pks))]
    while pending:
        current, current_pks = pending.pop(0)
        for rel in current._meta.related_objects:
            field = rel.field
            if getattr(field, "many_to_many", False):
                continue
            on_delete = getattr(rel, "on_delete", None)
            name = getattr(on_delete, "name", "CASCADE")
            if name == "DO_NOTHING":
                continue
            related = rel.related_model
            related_qs = new_qs(related, using=alias).filter(**{f"{field.name}__in": current_pks})
            rel_pks = yield from _pk_list(related_qs)
            if not rel_pks:
                continue
            if name == "CASCADE":
                known = doomed.setdefault(related, [])
                new = [p for p in rel_pks if p not in set(known)]
                if new:
                    known.extend(new)
                    if related not in order:
                        order.append(related)
                    pending.append((related, new))
            elif name == "PROTECT":
                objs = yield from new_qs(related, using=alias).filter(pk__in=rel_pks)._op_fetch()
                raise ProtectedError(
                    f"Cannot delete some {model.__name__} rows: {len(objs)} {related.__name__} row(s) reference them "
                    f"through the protected foreign key {related.__name__}.{field.name} (on_delete=PROTECT). "
                    f"Delete or re-point those rows first.",
                    objs,
                )
            elif name == "RESTRICT":
                restricted.append((related, field, rel_pks))
            elif name in ("SET_NULL", "SET_DEFAULT", "SET"):
                if name == "SET_NULL":
                    value = None
                elif name == "SET_DEFAULT":
                    value = field.get_default()
                else:
                    assert on_delete is not None
                    value = on_delete.get_value()
                updates.append((related, field, value, rel_pks))
    for related, field, rel_pks in restricted:
        remaining = [p for p in rel_pks if p not in set(doomed.get(related, ()))]
        if remaining:
            objs = yield from new_qs(related, using=alias).filter(pk__in=remaining)._op_fetch()
            raise RestrictedError(
                f"Cannot delete some {model.__name__} rows: {len(objs)} {related.__name__} row(s) reference them "
                f"through {related.__name__}.{field.name} (on_delete=RESTRICT) and are not deleted by a cascade.",
                objs,
            )
    for related, field, value, rel_pks in updates:
        alive = [p for p in rel_pks if p not in set(doomed.get(related, ()))]
        if alive:
            yield from new_qs(related, using=alias).filter(pk__in=alive)._op_update({field.name: value})
    # instances for signals (only when someone listens)
    want_signals = _signal("pre_delete") is not None or _signal("post_delete") is not None
    loaded: dict[Any, list[Any]] = {}
    if want_signals:
        for m in order:
            if m is model and instances is not None:
                loaded[m] = instances
            else:
                loaded[m] = yield from new_qs(m, using=alias).filter(pk__in=doomed[m])._op_fetch()
            for obj in loaded[m]:
                yield from _send("pre_delete", m, instance=obj, using=alias)
    counts: dict[str, int] = {}
    total = 0
    for m in reversed(order):
        ids = doomed[m]
        deleted = 0
        size = 500
        for start in range(0, len(ids), size):
            q = new_qs(m, using=alias).filter(pk__in=ids[start : start + size])
            deleted += yield from _op_raw_delete(q, alias)
        if deleted:
            counts[_label(m)] = deleted
            total += deleted
    if want_signals:
        for m in order:
            for obj in loaded.get(m, ()):
                yield from _send("post_delete", m, instance=obj, using=alias)
    if instances is not None:
        pk_name = model._meta.pk.attname
        for obj in instances:
            obj.__dict__[pk_name] = None
            obj._state.adding = True
    return total, counts


def _op_raw_delete(qs: Any, alias: str) -> Op[int]:
    from dorm.backends.base.statement import FETCH_NONE
    from dorm.sql.query import DELETE

    q = qs.query.clone()
    q.kind = DELETE
    q.clear_ordering()
    stmt, _plan = qs._statement(q, alias, FETCH_NONE)
    done = yield stmt
    return max(int(done.rowcount), 0)
