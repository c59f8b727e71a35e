"""Light stand-ins for tables the schema editor must create without a model class:
the auto-created through table of a ``ManyToManyField`` when the model layer did
not build one.

Naming follows Django's: table ``<model table>_<field name>`` (or the field's
``db_table``), columns ``<model>_id`` and ``<target>_id`` (``from_<model>_id`` /
``to_<model>_id`` for a self-referential relation), an ``id`` primary key and a
unique pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["StandInField", "StandInMeta", "StandInModel", "synthesize_through", "through_columns", "through_table_name"]


@dataclass(eq=False)
class _Remote:
    model: Any
    field_name: str | None = None
    through: Any = None


@dataclass(eq=False)
class StandInField:
    """Just enough of a field for DDL."""

    name: str
    internal_type: str
    column: str = ""
    null: bool = False
    unique: bool = False
    primary_key: bool = False
    db_index: bool = False
    db_column: str | None = None
    max_length: int | None = None
    remote_field: _Remote | None = None
    concrete: bool = True
    many_to_many: bool = False
    empty_strings_allowed: bool = False

    def __post_init__(self) -> None:
        if not self.column:
            self.column = self.name
        self.many_to_one = self.remote_field is not None
        self.is_relation = self.remote_field is not None

    def get_internal_type(self) -> str:
        return self.internal_type

    def has_default(self) -> bool:
        return False

    def get_default(self) -> Any:
        return None

    @property
    def db_default(self) -> Any:
        return None

    def db_type_parameters(self) -> dict[str, Any]:
        return {"max_length": self.max_length, "column": self.column}


@dataclass(eq=False)
class StandInMeta:
    db_table: str
    model_name: str
    app_label: str = ""
    fields: list[Any] = field(default_factory=list)
    local_many_to_many: list[Any] = field(default_factory=list)
    unique_together: list[tuple[str, ...]] = field(default_factory=list)
    indexes: list[Any] = field(default_factory=list)
    constraints: list[Any] = field(default_factory=list)
    auto_created: bool = True

    @property
    def pk(self) -> Any:
        for f in self.fields:
            if f.primary_key:
                return f
        return None


class StandInModel:
    """A model-shaped object (only ``_meta``) the schema editor accepts."""

    def __init__(self, meta: StandInMeta) -> None:
        self._meta = meta

    def __repr__(self) -> str:
        return f"<StandInModel {self._meta.db_table}>"


def through_table_name(model: Any, m2m: Any) -> str:
    explicit = getattr(m2m, "db_table", None)
    return str(explicit) if explicit else f"{model._meta.db_table}_{m2m.name}"


def _model_name(model: Any) -> str:
    return str(getattr(model._meta, "model_name", None) or type(model).__name__).lower()


def through_columns(model: Any, target: Any) -> tuple[str, str]:
    source_name, target_name = _model_name(model), _model_name(target)
    if source_name == target_name and model._meta.db_table == target._meta.db_table:
        return f"from_{source_name}_id", f"to_{target_name}_id"
    return f"{source_name}_id", f"{target_name}_id"


def synthesize_through(model: Any, m2m: Any) -> StandInModel | None:
    """The through table of ``m2m`` as a stand-in model, or ``None`` if its target is unresolved."""
    target = getattr(m2m.remote_field, "model", None)
    if target is None or isinstance(target, str):
        return None
    source_col, target_col = through_columns(model, target)
    pk = StandInField("id", "BigAutoField", primary_key=True, unique=True)
    source = StandInField(source_col[:-3], "ForeignKey", column=source_col, remote_field=_Remote(model))
    dest = StandInField(target_col[:-3], "ForeignKey", column=target_col, remote_field=_Remote(target))
    meta = StandInMeta(
        db_table=through_table_name(model, m2m),
        model_name=f"{_model_name(model)}_{m2m.name}",
        fields=[pk, source, dest],
        unique_together=[(source.name, dest.name)],
    )
    return StandInModel(meta)
