"""``Field[T]``: the base of every model field.

A field is a *non-data descriptor*: an instance's loaded value lives in
``instance.__dict__[field.attname]`` and is read without calling Python
code; :meth:`Field.__get__` runs only on class access (returns the field)
or when the value is missing because ``only()``/``defer()`` left it out
(then it is loaded).  Assignment goes through ``Model.__setattr__``, which
validates with :meth:`Field.to_python`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, overload

from dorm.exceptions import UnloadedRelationError, ValidationError

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.models.base import Model

__all__ = ["NOT_PROVIDED", "DeferredAttribute", "Field", "NotProvided", "RegisterLookupMixin", "T"]

T = TypeVar("T")
_get_running_loop = asyncio._get_running_loop


class NotProvided:
    """Type of :data:`NOT_PROVIDED`: "no default / no db_default was given"."""

    __slots__ = ()
    _instance: ClassVar[NotProvided | None] = None

    def __new__(cls) -> NotProvided:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_PROVIDED"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "NOT_PROVIDED"


NOT_PROVIDED = NotProvided()


class RegisterLookupMixin:
    """Per-class lookup/transform registry (``register_lookup``), resolved through the MRO.

    The query engine registers its lookup classes here (``exact``, ``icontains``,
    ``year``...); third-party code registers its own the same way.
    """

    class_lookups: ClassVar[dict[str, Any]] = {}
    # cls -> merged lookups, rebuilt when any registration happens
    _merged_cache: ClassVar[dict[type, dict[str, Any]]] = {}

    @classmethod
    def register_lookup(cls, lookup: Any, lookup_name: str | None = None) -> Any:
        """Register ``lookup`` (a Lookup or Transform class) under ``lookup_name`` (default ``lookup.lookup_name``)."""
        name = lookup_name or lookup.lookup_name
        if "class_lookups" not in cls.__dict__:
            cls.class_lookups = {}
        cls.class_lookups[name] = lookup
        RegisterLookupMixin._merged_cache.clear()
        return lookup

    @classmethod
    def _unregister_lookup(cls, lookup: Any, lookup_name: str | None = None) -> None:
        name = lookup_name or lookup.lookup_name
        cls.__dict__.get("class_lookups", {}).pop(name, None)
        RegisterLookupMixin._merged_cache.clear()

    @classmethod
    def get_class_lookups(cls) -> dict[str, Any]:
        merged = RegisterLookupMixin._merged_cache.get(cls)
        if merged is None:
            merged = {}
            for klass in reversed(cls.__mro__):
                merged.update(klass.__dict__.get("class_lookups", {}))
            RegisterLookupMixin._merged_cache[cls] = merged
        return merged

    def get_lookup(self, lookup_name: str) -> Any:
        """The lookup class registered as ``lookup_name`` (not a transform), or ``None``."""
        found = type(self).get_class_lookups().get(lookup_name)
        if found is not None and getattr(found, "is_transform", False):
            return None
        return found

    def get_transform(self, lookup_name: str) -> Any:
        """The transform class registered as ``lookup_name``, or ``None``."""
        found = type(self).get_class_lookups().get(lookup_name)
        if found is not None and not getattr(found, "is_transform", False):
            return None
        return found


def load_deferred(instance: Model, field: Field[Any]) -> Any:
    """Load a field ``only()``/``defer()`` left out (sync), or refuse inside a running loop."""
    attname = field.attname
    data = instance.__dict__
    if attname in data:
        return data[attname]
    model_name = type(instance).__name__
    if instance._state.adding and instance.pk is None:
        raise AttributeError(
            f"{model_name!r} instance has no value for {field.name!r} and is not saved, so it cannot be loaded."
        )
    if _get_running_loop() is not None:
        raise UnloadedRelationError(
            f"{model_name}.{field.name} was deferred (only()/defer()) and loading it now would run a sync query "
            f"while this event loop is already running. Load it first: `await obj.arefresh_from_db(fields=[{field.name!r}])`, "
            f"or leave it out of only()/defer()."
        )
    instance.refresh_from_db(fields=[attname])
    return data[attname]


def _display_method(field: Field[Any]) -> Callable[[Any], Any]:
    """``obj.get_<field>_display()``: the label of the current value in ``choices`` (the value itself when unknown)."""

    def get_display(instance: Any) -> Any:
        value = getattr(instance, field.attname)
        for choice_value, label in field.choices or ():
            if choice_value == value:
                return label
        return value

    get_display.__name__ = f"get_{field.name}_display"
    get_display.__doc__ = f"The label of ``{field.name}`` in its choices."
    return get_display


class DeferredAttribute:
    """Class attribute for an ``attname`` that differs from the field name (``author_id``)."""

    __slots__ = ("field",)

    def __init__(self, field: Field[Any]) -> None:
        self.field = field

    def __get__(self, instance: Model | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return load_deferred(instance, self.field)


class Field(RegisterLookupMixin, Generic[T]):
    """Base class of every field.  ``T`` is the Python type of a loaded value."""

    # class-level facts
    empty_strings_allowed: ClassVar[bool] = True
    default_validators: ClassVar[Sequence[Callable[[Any], None]]] = ()
    is_relation: ClassVar[bool] = False
    many_to_many: ClassVar[bool] = False
    many_to_one: ClassVar[bool] = False
    one_to_one: ClassVar[bool] = False
    one_to_many: ClassVar[bool] = False
    #: Whether the field is a column of its model's table (False for ManyToManyField).
    concrete: ClassVar[bool] = True
    #: Whether the database generates the value on insert (auto primary keys).
    db_returning: ClassVar[bool] = False
    _creation_counter: ClassVar[int] = 0

    name: str
    attname: str
    column: str
    model: type[Model]
    remote_field: Any
    _constructor_args: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        obj = super().__new__(cls)
        obj._constructor_args = (args, kwargs)
        return obj

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        name: str | None = None,
        primary_key: bool = False,
        max_length: int | None = None,
        unique: bool = False,
        blank: bool = False,
        null: bool = False,
        db_index: bool = False,
        default: Any = NOT_PROVIDED,
        db_default: Any = NOT_PROVIDED,
        editable: bool = True,
        choices: Iterable[Any] | None = None,
        help_text: str = "",
        db_column: str | None = None,
        validators: Iterable[Callable[[Any], None]] = (),
        verbose_name_plural: str | None = None,
    ) -> None:
        self.verbose_name = verbose_name
        self.primary_key = primary_key
        self.max_length = max_length
        self.unique = unique or primary_key
        self.blank = blank
        self.null = null
        self.db_index = db_index
        self.default = default
        self.db_default = db_default
        self.editable = editable
        self.choices: list[tuple[Any, Any]] | None = self._normalise_choices(choices)
        self.help_text = help_text
        self.db_column = db_column
        self._validators = list(validators)
        self.remote_field = None
        if name is not None:
            self.name = name
        Field._creation_counter += 1
        self.creation_counter = Field._creation_counter
        self._check_options()

    # -- construction ------------------------------------------------------

    @staticmethod
    def _normalise_choices(choices: Iterable[Any] | None) -> list[tuple[Any, Any]] | None:
        if choices is None:
            return None
        if isinstance(choices, type):  # an Enum class
            return [(member.value, getattr(member, "label", member.name)) for member in choices]
        normalised: list[tuple[Any, Any]] = []
        for choice in choices:
            if isinstance(choice, (list, tuple)) and len(choice) == 2:
                normalised.append((choice[0], choice[1]))
            else:
                normalised.append((choice, choice))
        return normalised

    def _check_options(self) -> None:
        """Subclasses check their own constructor options (raise ``TypeError`` with the fix)."""

    def contribute_to_class(self, cls: type[Model], name: str) -> None:
        """Attach the field to ``cls`` under ``name`` (called by the model metaclass)."""
        self.name = name
        self.attname = self.get_attname()
        self.column = self.db_column or self.attname
        self.model = cls
        if self.verbose_name is None:
            self.verbose_name = name.replace("_", " ")
        cls._meta.add_field(self)
        type.__setattr__(cls, name, self)
        if self.attname != name:
            type.__setattr__(cls, self.attname, DeferredAttribute(self))
        if self.choices is not None and f"get_{name}_display" not in cls.__dict__:
            type.__setattr__(cls, f"get_{name}_display", _display_method(self))

    def get_attname(self) -> str:
        return self.name

    def clone(self) -> Self:
        """A fresh, unbound copy built from the constructor arguments (abstract inheritance)."""
        args, kwargs = self._constructor_args
        return type(self)(*args, **kwargs)

    # -- descriptor ----------------------------------------------------------

    @overload
    def __get__(self, instance: None, owner: Any) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: Any) -> T: ...
    def __get__(self, instance: object, owner: Any = None) -> Self | T:
        if instance is None:
            return self
        value: T = load_deferred(instance, self)  # type: ignore[arg-type]
        return value

    if TYPE_CHECKING:
        # Assignment really goes through Model.__setattr__ (validation); declared
        # here only so type checkers accept ``obj.name = "x"`` with the right type.
        def __set__(self, instance: Model, value: T) -> None: ...

    # -- validation ----------------------------------------------------------

    @property
    def validators(self) -> list[Callable[[Any], None]]:
        return [*self.default_validators, *self._validators]

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` (not ``None``) to the field's Python type; raise ``ValidationError`` when impossible."""
        return value

    def to_python(self, value: Any) -> Any:
        """Coerce and validate an assigned value (``None`` passes; nullability is checked by ``full_clean``/the database)."""
        if value is None:
            return None
        value = self.coerce(value)
        if value == "" or value == b"":  # empty is "blank", checked by full_clean, not "invalid"
            return value
        for validator in self.default_validators:
            validator(value)
        for validator in self._validators:
            validator(value)
        return value

    def run_validators(self, value: Any) -> None:
        if value is None or value in self.empty_values:
            return
        errors: list[ValidationError] = []
        for validator in self.validators:
            try:
                validator(value)
            except ValidationError as exc:
                errors.append(exc)
        if errors:
            raise ValidationError(errors)

    @property
    def empty_values(self) -> tuple[Any, ...]:
        return (None, "", [], (), {})

    def validate(self, value: Any, instance: Model | None) -> None:
        """Checks beyond the type: choices, null, blank (used by ``full_clean``)."""
        if self.choices is not None and value not in self.empty_values:
            if value not in [choice[0] for choice in self.choices]:
                allowed = ", ".join(repr(c[0]) for c in self.choices)
                raise ValidationError(
                    f"Value {value!r} is not a valid choice. Allowed: {allowed}.", code="invalid_choice"
                )
        if value is None and not self.null:
            raise ValidationError("This field cannot be null.", code="null")
        if not self.blank and value in self.empty_values:
            raise ValidationError("This field cannot be blank.", code="blank")

    def clean(self, value: Any, instance: Model | None) -> Any:
        """Coerce, run validators and :meth:`validate`; return the clean value."""
        value = self.to_python(value)
        self.validate(value, instance)
        self.run_validators(value)
        return value

    # -- defaults --------------------------------------------------------------

    def has_default(self) -> bool:
        return self.default is not NOT_PROVIDED

    def has_db_default(self) -> bool:
        return self.db_default is not NOT_PROVIDED

    def get_default(self) -> Any:
        """The default for a new instance: the value, or the callable's result."""
        default = self.default
        if default is NOT_PROVIDED:
            if not self.empty_strings_allowed or self.null:
                return None
            return ""
        if callable(default):
            return default()
        return default

    def pre_save(self, instance: Model, add: bool) -> Any:
        """The value to write for ``instance`` (``auto_now`` fields update it first)."""
        return instance.__dict__.get(self.attname)

    # -- database values -------------------------------------------------------

    def get_internal_type(self) -> str:
        """Key of ``schema_editor_class.data_types`` (and of backend converters)."""
        return type(self).__name__

    def db_type_parameters(self) -> dict[str, Any]:
        return {"max_length": self.max_length, "column": getattr(self, "column", None)}

    def db_type(self, wrapper: BaseDatabaseWrapper) -> str | None:
        """The column type on ``wrapper``'s database (``None``: no column)."""
        data_types: dict[str, Any] = getattr(wrapper.schema_editor_class, "data_types", {})
        template = data_types.get(self.get_internal_type())
        if template is None:
            return None
        if callable(template):
            return str(template(self))
        return str(template % self.db_type_parameters())

    def get_prep_value(self, value: Any) -> Any:
        """The Python value ready for a query parameter (coerced, not validated)."""
        if value is None:
            return None
        return self.coerce(value)

    def get_db_prep_value(self, value: Any, wrapper: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        """The driver value for ``wrapper``'s backend."""
        return value if prepared else self.get_prep_value(value)

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        """Converter for values coming back from the driver, or ``None`` when they are already right."""
        return None

    def value_from_object(self, obj: Model) -> Any:
        return obj.__dict__.get(self.attname)

    # -- migrations ---------------------------------------------------------------

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        """``(name, "dorm.CharField", args, kwargs)``: enough to rebuild the field (migrations)."""
        args, kwargs = self._constructor_args
        kwargs = {k: v for k, v in kwargs.items() if k not in ("name",)}
        args_list = list(args)
        if args_list and isinstance(args_list[0], str) and not self.is_relation:
            kwargs.setdefault("verbose_name", args_list.pop(0))
        return getattr(self, "name", None), self.deconstruct_path(), args_list, kwargs

    def deconstruct_path(self) -> str:
        cls = type(self)
        import dorm.fields as public

        if getattr(public, cls.__name__, None) is cls:
            return f"dorm.{cls.__name__}"
        return f"{cls.__module__}.{cls.__qualname__}"

    # -- misc -----------------------------------------------------------------------

    def __repr__(self) -> str:
        path = f"{type(self).__module__}.{type(self).__qualname__}"
        name = getattr(self, "name", None)
        model = getattr(self, "model", None)
        if model is not None and name:
            return f"<{path}: {model.__name__}.{name}>"
        return f"<{path}: {name}>" if name else f"<{path}>"

    def __lt__(self, other: object) -> bool:
        if isinstance(other, Field):
            return self.creation_counter < other.creation_counter
        return NotImplemented
