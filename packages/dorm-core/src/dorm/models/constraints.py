"""``Meta.indexes`` and ``Meta.constraints`` entries: Index, UniqueConstraint, CheckConstraint.

They are descriptions; the schema editor turns them into DDL.  Names may
contain ``%(class)s`` and ``%(app_label)s`` (needed on abstract models,
whose subclasses each get their own copy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["BaseConstraint", "CheckConstraint", "Index", "UniqueConstraint"]


def _check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(
            f"{kind} needs a name, e.g. {kind}(..., name='book_title_uniq'); constraint names must be unique in the database."
        )
    return name


class Index:
    """An index on ``fields`` (prefix ``-`` for descending), optionally partial (``condition=Q(...)``)."""

    def __init__(
        self,
        *,
        fields: Sequence[str] = (),
        name: str | None = None,
        condition: Any = None,
        include: Sequence[str] = (),
        db_tablespace: str | None = None,
    ) -> None:
        if not fields:
            raise TypeError("Index needs fields=[...], e.g. dorm.Index(fields=['title'], name='book_title_idx').")
        if isinstance(fields, str):
            raise TypeError(f"Index.fields must be a list of field names, not the string {fields!r}.")
        self.fields = list(fields)
        self.name = name
        self.condition = condition
        self.include = tuple(include)
        self.db_tablespace = db_tablespace

    @property
    def fields_orders(self) -> list[tuple[str, str]]:
        return [(f[1:], "DESC") if f.startswith("-") else (f, "") for f in self.fields]

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"fields": list(self.fields)}
        if self.name:
            kwargs["name"] = self.name
        if self.condition is not None:
            kwargs["condition"] = self.condition
        if self.include:
            kwargs["include"] = list(self.include)
        return "dorm.Index", [], kwargs

    def clone(self) -> Index:
        _path, args, kwargs = self.deconstruct()
        return Index(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Index) and self.deconstruct() == other.deconstruct()

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<Index: fields={self.fields!r} name={self.name!r}{' condition=' + repr(self.condition) if self.condition is not None else ''}>"


class BaseConstraint:
    name: str

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        raise NotImplementedError

    def clone(self) -> BaseConstraint:
        _path, args, kwargs = self.deconstruct()
        return type(self)(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, BaseConstraint)
            and type(other) is type(self)
            and self.deconstruct() == other.deconstruct()
        )

    __hash__ = object.__hash__


class UniqueConstraint(BaseConstraint):
    """``UNIQUE (fields)``; with ``condition=Q(...)`` a partial unique index."""

    def __init__(
        self,
        *,
        fields: Sequence[str] = (),
        name: str = "",
        condition: Any = None,
        deferrable: Any = None,
        include: Sequence[str] = (),
    ) -> None:
        if not fields:
            raise TypeError(
                "UniqueConstraint needs fields=[...], e.g. dorm.UniqueConstraint(fields=['author', 'title'], name='book_author_title_uniq')."
            )
        if isinstance(fields, str):
            raise TypeError(f"UniqueConstraint.fields must be a list of field names, not the string {fields!r}.")
        self.fields = tuple(fields)
        self.name = _check_name("UniqueConstraint", name)
        self.condition = condition
        self.deferrable = deferrable
        self.include = tuple(include)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"fields": list(self.fields), "name": self.name}
        if self.condition is not None:
            kwargs["condition"] = self.condition
        if self.deferrable is not None:
            kwargs["deferrable"] = self.deferrable
        if self.include:
            kwargs["include"] = list(self.include)
        return "dorm.UniqueConstraint", [], kwargs

    def __repr__(self) -> str:
        return f"<UniqueConstraint: fields={self.fields!r} name={self.name!r}{' condition=' + repr(self.condition) if self.condition is not None else ''}>"


class CheckConstraint(BaseConstraint):
    """``CHECK (condition)`` where ``check`` is a ``Q`` object (``Q(price__gte=0)``)."""

    def __init__(self, *, check: Any = None, name: str = "", condition: Any = None) -> None:
        check = check if check is not None else condition
        if check is None:
            raise TypeError(
                "CheckConstraint needs check=Q(...), e.g. dorm.CheckConstraint(check=dorm.Q(price__gte=0), name='price_gte_0')."
            )
        self.check = check
        self.name = _check_name("CheckConstraint", name)

    @property
    def condition(self) -> Any:
        return self.check

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return "dorm.CheckConstraint", [], {"check": self.check, "name": self.name}

    def __repr__(self) -> str:
        return f"<CheckConstraint: check={self.check!r} name={self.name!r}>"
