"""``aggregate()`` over a queryset's own result rows (a derived table).

``Author.objects.annotate(n=Count("books")).aggregate(Avg("n"))`` cannot
be one ``SELECT``: the average is over the grouped rows, so the queryset
runs as a subquery and the aggregates read its columns::

    SELECT AVG("subquery"."n") AS "n__avg" FROM (SELECT ..., COUNT(...) AS "n" ... GROUP BY ...) "subquery"

The same holds for ``distinct()``, sliced and ``union()`` querysets.  The
aggregates name the queryset's columns: its fields (by name or attname,
``pk``), its annotations, or its ``values()`` names.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Final

from dorm.exceptions import FieldError, NotSupportedError
from dorm.expressions import Col, F, Star

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.sql.query import Query

__all__ = ["DERIVED_ALIAS", "derived_columns", "wrap_aggregates"]

#: the alias of the derived table in the outer SELECT
DERIVED_ALIAS: Final = "subquery"


def derived_columns(query: Query) -> dict[str, tuple[str, Any]]:
    """``{name: (column name in the result, field)}`` for the columns ``query`` selects.

    A name whose column name would be ambiguous (two selected columns called
    alike, e.g. ``values("name", "publisher__name")``) is left out.
    """
    first = query.combined[0] if query.combinator else query
    entries: list[tuple[tuple[str, ...], str, Any]] = []  # (names, result column, field), in select order
    if first.values_select is not None:
        for name in first.values_select:
            expr = first.select_exprs[name]
            if name in first.annotations:
                entries.append(((name,), name, expr.output_field))
            elif isinstance(expr, Col):
                entries.append(((name,), expr.column, expr.output_field))
    else:
        pk = first.model._meta.pk
        for field in first.loaded_fields(first.model):
            names = (field.name, field.attname, "pk") if field is pk else (field.name, field.attname)
            entries.append((names, field.column, field))
        for name, expr in first.selected_annotations():
            entries.append(((name,), name, expr.output_field))
    counts = Counter(column for _names, column, _field in entries)
    return {name: (column, field) for names, column, field in entries if counts[column] == 1 for name in names}


def wrap_aggregates(
    inner_sql: str, inner_params: list[Any], query: Query, aggregates: dict[str, Any], wrapper: BaseDatabaseWrapper
) -> tuple[str, list[Any], list[tuple[str, Any]]]:
    """``(sql, params, [(name, converter or None)])`` of the aggregates over ``inner_sql``."""
    from dorm.aggregates import Aggregate

    columns = derived_columns(query)
    compiler = wrapper.get_compiler_class()(wrapper)
    quote = wrapper.ops.quote_name
    selected: list[str] = []
    params: list[Any] = []
    outputs: list[tuple[str, Any]] = []
    for name, aggregate in aggregates.items():
        if not isinstance(aggregate, Aggregate):
            raise NotSupportedError(
                f"aggregate({name}=...) over an annotated-aggregate, distinct, sliced or combined queryset "
                f"takes Count, Sum, Avg, Min or Max of one of its columns, not {aggregate!r}."
            )
        if aggregate.filter is not None:
            raise NotSupportedError(
                f"aggregate({name}=...(filter=...)) over an annotated-aggregate, distinct, sliced or combined "
                "queryset is not supported: filter() the queryset instead."
            )
        sources = aggregate.source_expressions
        source = sources[0] if len(sources) == 1 else None
        clone = aggregate._copy()
        if isinstance(source, Star):
            clone.source_expressions = [Star()]
        elif isinstance(source, F) and source.name in columns:
            column, field = columns[source.name]
            clone.source_expressions = [Col(DERIVED_ALIAS, column, field)]
        else:
            choices = ", ".join(sorted(n for n in columns if n != "pk"))
            raise FieldError(
                f"aggregate({name}=...) over an annotated-aggregate, distinct, sliced or combined queryset reads "
                f"the queryset's own columns; {source!r} is not one of them. Choices are: {choices}. "
                "Annotate what you need first, e.g. .annotate(x=...).aggregate(Sum('x'))."
            )
        if clone.output_field is None:
            clone.output_field = clone.infer_output_field()
        sql, p = compiler.compile(clone)
        selected.append(f"{sql} AS {quote(name)}")
        params.extend(p)
        field = clone.output_field
        outputs.append((name, None if field is None else field.get_db_converter(wrapper)))
    sql = f"SELECT {', '.join(selected)} FROM ({inner_sql}) {quote(DERIVED_ALIAS)}"
    return sql, params + inner_params, outputs
