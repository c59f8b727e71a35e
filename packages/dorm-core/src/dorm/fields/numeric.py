"""Integer, float, decimal, boolean and auto-increment fields."""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, overload

from dorm.exceptions import ValidationError
from dorm.fields.base import Field

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "DecimalField",
    "FloatField",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallAutoField",
    "SmallIntegerField",
]

_T = TypeVar("_T")


class IntegerField(Field[_T]):
    """A 32-bit signed integer (the range is checked on assignment)."""

    @overload
    def __init__(
        self: IntegerField[int], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: IntegerField[int | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: IntegerField[int | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)

    empty_strings_allowed = False
    min_value: ClassVar[int] = -(2**31)
    max_value: ClassVar[int] = 2**31 - 1

    def coerce(self, value: Any) -> int:
        if type(value) is int:  # the usual case first (bool is an int subclass: handled below)
            result = value
        elif isinstance(value, bool):
            return int(value)
        elif isinstance(value, int):
            result = value
        elif isinstance(value, float):
            if not value.is_integer():
                raise ValidationError(f"{self._label()} must be an integer; got {value!r}.", code="invalid")
            result = int(value)
        elif isinstance(value, decimal.Decimal):
            if value != value.to_integral_value():
                raise ValidationError(f"{self._label()} must be an integer; got {value!r}.", code="invalid")
            result = int(value)
        elif isinstance(value, str):
            try:
                result = int(value.strip())
            except ValueError:
                raise ValidationError(f"{self._label()} must be an integer; got {value!r}.", code="invalid") from None
        else:
            raise ValidationError(
                f"{self._label()} must be an integer; got {type(value).__name__} {value!r}.", code="invalid"
            )
        if not self.min_value <= result <= self.max_value:
            raise ValidationError(
                f"{self._label()} must be between {self.min_value} and {self.max_value}; got {result}.",
                code="out_of_range",
            )
        return result

    def _label(self) -> str:
        name = getattr(self, "name", None)
        return f"'{name}'" if name else "Value"


class SmallIntegerField(IntegerField[_T]):
    @overload
    def __init__(
        self: SmallIntegerField[int], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: SmallIntegerField[int | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: SmallIntegerField[int | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)  # type: ignore[misc]  # parent's self-typed overloads

    min_value = -(2**15)
    max_value = 2**15 - 1


class BigIntegerField(IntegerField[_T]):
    @overload
    def __init__(
        self: BigIntegerField[int], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: BigIntegerField[int | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: BigIntegerField[int | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)  # type: ignore[misc]  # parent's self-typed overloads

    min_value = -(2**63)
    max_value = 2**63 - 1


class PositiveIntegerField(IntegerField[_T]):
    @overload
    def __init__(
        self: PositiveIntegerField[int], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: PositiveIntegerField[int | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: PositiveIntegerField[int | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)  # type: ignore[misc]  # parent's self-typed overloads

    min_value = 0


class PositiveSmallIntegerField(SmallIntegerField[_T]):
    @overload
    def __init__(
        self: PositiveSmallIntegerField[int],
        verbose_name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: PositiveSmallIntegerField[int | None],
        verbose_name: str | None = None,
        *,
        null: Literal[True],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: PositiveSmallIntegerField[int | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)  # type: ignore[misc]  # parent's self-typed overloads

    min_value = 0


class PositiveBigIntegerField(BigIntegerField[_T]):
    @overload
    def __init__(
        self: PositiveBigIntegerField[int],
        verbose_name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: PositiveBigIntegerField[int | None],
        verbose_name: str | None = None,
        *,
        null: Literal[True],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: PositiveBigIntegerField[int | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)  # type: ignore[misc]  # parent's self-typed overloads

    min_value = 0


class AutoField(IntegerField[int]):
    """An integer primary key the database assigns on insert."""

    db_returning = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["blank"] = True
        super().__init__(*args, **kwargs)

    def _check_options(self) -> None:
        if not self.primary_key:
            raise TypeError(
                f"{type(self).__name__} must have primary_key=True; an auto-increment column is only allowed as the primary key."
            )

    def validate(self, value: Any, instance: Any) -> None:
        # None means "let the database assign it"
        if value is not None:
            super().validate(value, instance)

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("blank", None)
        return name, path, args, kwargs


class BigAutoField(AutoField):
    min_value = BigIntegerField.min_value
    max_value = BigIntegerField.max_value


class SmallAutoField(AutoField):
    min_value = SmallIntegerField.min_value
    max_value = SmallIntegerField.max_value


class FloatField(Field[_T]):
    @overload
    def __init__(
        self: FloatField[float], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: FloatField[float | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: FloatField[float | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)

    empty_strings_allowed = False

    def coerce(self, value: Any) -> float:
        if isinstance(value, float):
            return value
        if isinstance(value, (int, decimal.Decimal, str)) and not isinstance(value, bool):
            try:
                return float(value)
            except ValueError:
                pass
        raise ValidationError(f"'{getattr(self, 'name', 'value')}' must be a number; got {value!r}.", code="invalid")


class DecimalField(Field[_T]):
    """A fixed-precision decimal (``max_digits`` digits, ``decimal_places`` after the point)."""

    empty_strings_allowed = False

    @overload
    def __init__(
        self: DecimalField[decimal.Decimal],
        verbose_name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: DecimalField[decimal.Decimal | None],
        verbose_name: str | None = None,
        *,
        null: Literal[True],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: DecimalField[decimal.Decimal | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        super().__init__(verbose_name, **kwargs)

    def _check_options(self) -> None:
        if self.max_digits is None or self.decimal_places is None:
            raise TypeError(
                "DecimalField needs max_digits and decimal_places, e.g. DecimalField(max_digits=10, decimal_places=2)."
            )
        if self.decimal_places > self.max_digits:
            raise TypeError(
                f"DecimalField: decimal_places ({self.decimal_places}) cannot exceed max_digits ({self.max_digits})."
            )

    def db_type_parameters(self) -> dict[str, Any]:
        return {**super().db_type_parameters(), "max_digits": self.max_digits, "decimal_places": self.decimal_places}

    def coerce(self, value: Any) -> decimal.Decimal:
        name = getattr(self, "name", "value")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValidationError(f"'{name}' must be a finite decimal number; got {value!r}.", code="invalid")
            result = decimal.Decimal(repr(value))
        elif isinstance(value, bool):
            raise ValidationError(f"'{name}' must be a decimal number; got {value!r}.", code="invalid")
        else:
            try:
                result = decimal.Decimal(value.strip() if isinstance(value, str) else value)
            except (decimal.InvalidOperation, TypeError, ValueError):
                raise ValidationError(f"'{name}' must be a decimal number; got {value!r}.", code="invalid") from None
        if not result.is_finite():
            raise ValidationError(f"'{name}' must be a finite decimal number; got {value!r}.", code="invalid")
        assert self.max_digits is not None and self.decimal_places is not None
        quantised = result.quantize(decimal.Decimal(1).scaleb(-self.decimal_places))
        if quantised != result:
            raise ValidationError(
                f"'{name}' allows at most {self.decimal_places} decimal places; got {value!r}.",
                code="max_decimal_places",
            )
        digits = len(quantised.as_tuple().digits)
        whole = digits - self.decimal_places
        if whole > self.max_digits - self.decimal_places:
            raise ValidationError(
                f"'{name}' allows at most {self.max_digits - self.decimal_places} digits before the decimal point "
                f"(max_digits={self.max_digits}, decimal_places={self.decimal_places}); got {value!r}.",
                code="max_whole_digits",
            )
        return quantised

    def get_db_prep_value(self, value: Any, wrapper: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or wrapper.features.has_native_decimal_field:
            return value
        return str(value)

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        if wrapper.features.has_native_decimal_field:
            return None
        places = decimal.Decimal(1).scaleb(-(self.decimal_places or 0))

        def to_decimal(value: Any) -> Any:
            if value is None or isinstance(value, decimal.Decimal):
                return value
            if isinstance(value, float):
                return decimal.Decimal(repr(value)).quantize(places)
            return decimal.Decimal(value).quantize(places)

        return to_decimal


class BooleanField(Field[_T]):
    @overload
    def __init__(
        self: BooleanField[bool], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: BooleanField[bool | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: BooleanField[bool | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)

    empty_strings_allowed = False
    _true: ClassVar[frozenset[Any]] = frozenset({"true", "t", "1", "yes", "y", "on"})
    _false: ClassVar[frozenset[Any]] = frozenset({"false", "f", "0", "no", "n", "off"})

    def coerce(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in self._true:
                return True
            if lowered in self._false:
                return False
        raise ValidationError(
            f"'{getattr(self, 'name', 'value')}' must be True or False; got {value!r}.", code="invalid"
        )

    def validate(self, value: Any, instance: Any) -> None:
        # False is a value, not "blank"
        if value is None and not self.null:
            raise ValidationError("This field cannot be null.", code="null")
        if self.choices is not None:
            super().validate(value, instance)

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        if wrapper.features.has_native_boolean_field:
            return None
        return _to_bool


def _to_bool(value: Any) -> Any:
    return value if value is None else bool(value)
